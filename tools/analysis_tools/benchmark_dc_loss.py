"""Time and peak memory of the Directional Contrastive loss (Lai et al.,
CVPR 2021, https://arxiv.org/abs/2106.14133), forward + backward.

Setting of the authors' VOC configuration: 8 unlabeled pairs of 40x40
128-d projected features that overlap completely (12,800 overlap pixels),
21 classes, and 6.4k / 19.2k / 51.2k negatives per process (51.2k = 2 views
x 6,400 sampled x 2 GPUs x 2 steps of memory bank). The classifier logits
are drawn so that every pixel is confident (> 0.75) in both views: every
pixel is then an anchor of exactly one direction, the worst case for
``mmseg_weak`` (which evaluates only the anchors that pass the masks) and
the usual case for the authors' code (which always evaluates all 2 x 12,800).

``--oracle`` also measures
:func:`mmseg_weak.testing.oracles.reference_dc_loss`, a literal
re-implementation of the authors' computation (both directions for all
overlap pixels, chunks of 8,000 negatives through ``torch.utils.checkpoint``,
float masks, the maximum shift of the first chunk), and compares the losses
and the gradients with respect to both views' features.

Every measurement runs in a fresh process. CPU peak memory is the kernel's
resident-set high-water mark (``VmHWM`` of ``/proc/self/status``, reset by
writing ``5`` to ``/proc/self/clear_refs`` once the inputs exist) minus the
resident set at that moment: everything the call made resident, allocator
caches included. CUDA: ``max_memory_allocated`` minus the allocation before
the call.

Example::

    python tools/analysis_tools/benchmark_dc_loss.py --oracle --threads 2
"""
import argparse
import json
import os.path as osp
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

DEFAULT_NEGATIVES = (6400, 19200, 51200)


def make_inputs(num_negatives: int, batch: int = 8, size: int = 40,
                dim: int = 128, classes: int = 21, seed: int = 0,
                device: str = 'cpu'):
    """The benchmark's inputs (same for every implementation)."""
    g = torch.Generator().manual_seed(seed)
    num = batch * size * size
    feat1 = torch.randn(num, dim, generator=g)
    feat2 = feat1 + torch.randn(num, dim, generator=g)
    logits = []
    for _ in range(2):
        label = torch.randint(0, classes, (num, ), generator=g)
        logits.append(6 * F.one_hot(label, classes).float() +
                      0.5 * torch.randn(num, classes, generator=g))
    negs = torch.randn(num_negatives, dim, generator=g)
    neg_labels = torch.randint(0, classes, (num_negatives, ), generator=g)
    return [t.to(device) for t in (feat1, feat2, *logits, negs, neg_labels)]


def _status_kib(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak() -> int:
    """Reset the resident-set high-water mark; return the resident set
    (KiB)."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    return _status_kib('VmRSS')


def run_worker(impl: str, num_negatives: int, device: str, threads: int,
               repeats: int, out: str) -> dict:
    """One measurement in this process; saves loss and gradients to
    ``out``."""
    torch.set_num_threads(threads)
    from mmseg_weak.models.losses import directional_contrastive_loss
    from mmseg_weak.testing.oracles import reference_dc_loss
    fn = directional_contrastive_loss if impl == 'ours' else \
        reference_dc_loss
    feat1, feat2, logits1, logits2, negs, neg_labels = make_inputs(
        num_negatives, device=device)
    cuda = device.startswith('cuda')
    times = []
    for it in range(repeats):
        leaf1 = feat1.clone().requires_grad_(True)
        leaf2 = feat2.clone().requires_grad_(True)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        elif it == 0:
            base = _reset_peak()
        start = time.perf_counter()
        loss = fn(leaf1, leaf2, logits1, logits2, negs, neg_labels)
        loss.backward()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
        if cuda:
            peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        elif it == 0:
            peak = (_status_kib('VmHWM') - base) / 1024
    torch.save(
        dict(loss=loss.detach().cpu(), grad1=leaf1.grad.cpu(),
             grad2=leaf2.grad.cpu()), out)
    return dict(
        impl=impl,
        negatives=num_negatives,
        device=device,
        threads=threads,
        time_s=sorted(times)[len(times) // 2],
        times_s=[round(t, 3) for t in times],
        peak_mib=round(peak, 1),
        loss=loss.item())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--negatives', type=int, nargs='+',
                        default=list(DEFAULT_NEGATIVES),
                        help='negatives per process')
    parser.add_argument('--device', nargs='+', default=['cpu'],
                        help="devices, e.g. 'cpu' 'cuda'")
    parser.add_argument('--threads', type=int, default=2,
                        help='CPU threads (torch.set_num_threads)')
    parser.add_argument('--repeats', type=int, default=1,
                        help='timed calls of ours (median reported; CPU '
                        'peak memory from the first); the reference is '
                        'called once')
    parser.add_argument('--oracle', action='store_true',
                        help="also measure the authors' computation and "
                        'compare loss and gradients')
    parser.add_argument('--out', default=None, help='write results as JSON')
    parser.add_argument('--worker', nargs=4,
                        metavar=('IMPL', 'NEG', 'DEV', 'FILE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _spawn(args, impl: str, negatives: int, device: str, path: str) -> dict:
    from mmseg_weak.testing.profiling import measure_in_subprocess
    repeats = args.repeats if impl == 'ours' else 1
    cmd = [
        sys.executable, osp.abspath(__file__), '--threads',
        str(args.threads), '--repeats',
        str(repeats), '--worker', impl,
        str(negatives), device, path
    ]
    return measure_in_subprocess(cmd, args.threads,
                                 f'worker {impl} {negatives} {device}')


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        impl, negatives, device, path = args.worker
        print(json.dumps(run_worker(impl, int(negatives), device,
                                    args.threads, args.repeats, path)))
        return
    impls = ['ours', 'reference'] if args.oracle else ['ours']
    _, _, logits1, logits2, _, _ = make_inputs(0)
    conf1 = F.softmax(logits1, 1).max(1)[0]
    conf2 = F.softmax(logits2, 1).max(1)[0]
    print(f'{logits1.shape[0]} overlap pixels; anchors 1<-2: '
          f'{int(((conf2 > 0.75) & (conf1 < conf2)).sum())}, 2<-1: '
          f'{int(((conf1 > 0.75) & (conf2 < conf1)).sum())}; '
          f'{args.threads} CPU threads', flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for device in args.device:
            for negatives in args.negatives:
                row = dict(device=device, negatives=negatives)
                saved = {}
                for impl in impls:
                    path = osp.join(tmp, f'{impl}.pt')
                    res = _spawn(args, impl, negatives, device, path)
                    saved[impl] = torch.load(path)
                    row[impl] = res
                    print(f'{device} {negatives:6d} negatives {impl:9s}: '
                          f'{res["time_s"]:7.2f} s  {res["peak_mib"]:8.1f} '
                          f'MiB  loss {res["loss"]:.6f}', flush=True)
                if args.oracle:
                    ours, ref = saved['ours'], saved['reference']
                    row['loss_diff'] = abs(ours['loss'] - ref['loss']).item()
                    grad_diff = max((ours[k] - ref[k]).abs().max().item()
                                    for k in ('grad1', 'grad2'))
                    grad_max = max(ref[k].abs().max().item()
                                   for k in ('grad1', 'grad2'))
                    row['grad_max_abs_diff'] = grad_diff
                    row['grad_rel_diff'] = grad_diff / grad_max
                    row['speedup'] = row['reference']['time_s'] / \
                        row['ours']['time_s']
                    row['memory_ratio'] = row['ours']['peak_mib'] / \
                        max(row['reference']['peak_mib'], 1e-9)
                    print(f'    loss diff {row["loss_diff"]:.2e}, max grad '
                          f'diff {grad_diff:.2e} ({row["grad_rel_diff"]:.1e}'
                          f' of max |grad|), speed-up '
                          f'{row["speedup"]:.2f}x, memory '
                          f'{row["memory_ratio"]:.2f}x', flush=True)
                results.append(row)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
