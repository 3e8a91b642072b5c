"""Speed, agreement and peak memory of the dense CRF backends
(Krähenbühl & Koltun, NeurIPS 2011, https://arxiv.org/abs/1210.5644).

Times :func:`mmseg_weak.models.utils.dense_crf.dense_crf` with
``backend='torch'`` (CPU with each of ``--threads`` torch threads, and the
GPU when one is available) against ``backend='pydensecrf'``
(single-threaded C++) on deterministic inputs of the given sizes: a
photo-like image (smooth colour gradients, a few flat shapes and Gaussian
noise of std ``--noise``) and random class probabilities that follow the
shapes (softmax of noisy logits), or with ``--image noise`` a uniform-noise
image (the worst case of the permutohedral lattice: every pixel its own
colour). With ``--batch B`` the torch side is the ``DenseCRF`` module on a
batch of ``B`` copies of the input (CPU: images in parallel threads, one
per torch thread) and the pydensecrf side ``B`` calls in turn; a single
``dense_crf`` call runs serially on CPU whatever the thread count.

Each (size, device, thread count) runs in a fresh process that alternates
the two backends (torch, pydensecrf, torch, ...) ``--repeats`` times after
one warm-up call each, so that a machine shared with other jobs slows both
alike: the table gives the median time of each and the median of the
per-pair ratios, and the agreement of the two outputs (max |prob diff| and
argmax label agreement). ``--memory`` adds the peak memory of one call of
each backend, each in its own fresh process (growth of the peak resident
set above the inputs; GPU: ``max_memory_allocated``).

Example::

    python tools/analysis_tools/benchmark_crf.py --threads 1 2
"""
import argparse
import json
import os.path as osp
import sys

DEFAULT_SIZES = ('21x240x320', '21x375x500')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes',
                        nargs='+',
                        default=list(DEFAULT_SIZES),
                        help='probabilities CxHxW')
    parser.add_argument('--threads',
                        type=int,
                        nargs='+',
                        default=[1, 2],
                        help='CPU thread counts of the torch backend')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--repeats',
                        type=int,
                        default=5,
                        help='timed (torch, pydensecrf) pairs per row')
    parser.add_argument('--batch',
                        type=int,
                        default=1,
                        help='images per call (torch: the DenseCRF module)')
    parser.add_argument('--image', choices=('photo', 'noise'), default='photo')
    parser.add_argument('--noise',
                        type=float,
                        default=8.0,
                        help='std of the photo-like image noise')
    parser.add_argument('--devices',
                        nargs='+',
                        default=None,
                        help="torch devices (default: 'cpu' and 'cuda' if "
                        'available)')
    parser.add_argument('--memory',
                        action='store_true',
                        help='also measure the peak memory of each backend')
    parser.add_argument('--worker',
                        nargs=4,
                        metavar=('MODE', 'BACKEND', 'SIZE', 'DEV'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_inputs(size: str, image_kind: str, noise: float):
    """Deterministic ``(C, H, W)`` float32 probabilities and ``(H, W, 3)``
    uint8 image."""
    import numpy as np
    classes, height, width = (int(v) for v in size.split('x'))
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width] / max(height, width)
    label = np.zeros((height, width), np.int64)
    if image_kind == 'noise':
        image = rng.integers(0, 256, (height, width, 3))
    else:
        image = np.stack([200 * xs + 30, 150 * ys + 50, 100 + 80 * xs * ys],
                         -1)
    for k in range(1, min(classes, 6)):  # a few flat objects
        cy, cx = rng.uniform(0.2, 0.8, 2)
        radius = rng.uniform(0.08, 0.2)
        inside = (ys - cy)**2 + (xs - cx)**2 < radius**2
        label[inside] = k
        if image_kind == 'photo':
            image[inside] = rng.integers(0, 256, 3)
    if image_kind == 'photo':
        image = image + rng.normal(0, noise, image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    logits = rng.normal(0, 1.5, (classes, height, width))
    logits += 2.0 * (label[None] == np.arange(classes)[:, None, None])
    probs = np.exp(logits - logits.max(0))
    return (probs / probs.sum(0)).astype(np.float32), image


def _crf_call(backend: str, size: str, device: str, args):
    """A no-argument function running one dense CRF of ``backend``."""
    import torch

    from mmseg_weak.models.utils.dense_crf import DenseCRF, dense_crf
    probs, image = make_inputs(size, args.image, args.noise)
    if backend == 'torch' and args.batch > 1:
        crf = DenseCRF(num_iter=args.iters)
        probs_b = torch.from_numpy(probs).to(device)[None].repeat(
            args.batch, 1, 1, 1)
        image_b = torch.from_numpy(image).to(device).permute(
            2, 0, 1)[None].repeat(args.batch, 1, 1, 1)
        return lambda: crf(probs_b, image_b)[0].cpu().numpy()
    if backend == 'torch':
        probs = torch.from_numpy(probs).to(device)
        image = torch.from_numpy(image).to(device)

    def call():
        for _ in range(args.batch):
            out = dense_crf(probs, image, args.iters, backend=backend)
        if isinstance(out, torch.Tensor):
            out = out.cpu().numpy()
        return out

    return call


def run_worker(args) -> dict:
    """One measurement in this process; prints a JSON line."""
    import time

    import numpy as np
    import torch

    from mmseg_weak.testing.profiling import time_and_peak_memory
    mode, backend, size, device = args.worker
    torch.set_num_threads(args.threads[0])
    if mode == 'memory':
        _, peak, _ = time_and_peak_memory(
            _crf_call(backend, size, device, args), device, 1)
        result = dict(peak_mib=peak)
    else:  # interleaved timing of torch and pydensecrf
        calls = dict(torch=_crf_call('torch', size, device, args),
                     pydensecrf=_crf_call('pydensecrf', size, 'cpu', args))
        sync = (torch.cuda.synchronize if device.startswith('cuda') else
                (lambda: None))
        outs = {name: call() for name, call in calls.items()}  # warm-up
        times = {name: [] for name in calls}
        for _ in range(args.repeats):
            for name, call in calls.items():
                sync()
                start = time.perf_counter()
                call()
                sync()
                times[name].append(time.perf_counter() - start)
        ours, ref = outs['torch'], outs['pydensecrf']
        result = dict(
            torch_s=float(np.median(times['torch'])),
            pydensecrf_s=float(np.median(times['pydensecrf'])),
            ratio=float(
                np.median(
                    np.array(times['torch']) / np.array(times['pydensecrf']))),
            max_diff=float(np.abs(ours - ref).max()),
            label_agreement=float((ours.argmax(0) == ref.argmax(0)).mean()))
    print(json.dumps(result))
    return result


def measure(args, mode, backend, size, device, threads) -> dict:
    from mmseg_weak.testing.profiling import measure_in_subprocess
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--worker', mode, backend, size, device,
        '--threads',
        str(threads), '--iters',
        str(args.iters), '--repeats',
        str(args.repeats), '--image', args.image, '--noise',
        str(args.noise), '--batch',
        str(args.batch)
    ]
    return measure_in_subprocess(cmd, threads,
                                 f'{mode} {backend} {size} {device}')


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    import torch
    try:
        import pydensecrf  # noqa: F401
    except ImportError:
        sys.exit('pydensecrf2 is not installed: nothing to compare with')
    devices = args.devices or (['cpu'] +
                               (['cuda'] if torch.cuda.is_available() else []))
    rows = []
    for size in args.sizes:
        for device in devices:
            counts = args.threads if device == 'cpu' else args.threads[:1]
            for threads in counts:
                res = measure(args, 'time', 'torch', size, device, threads)
                rows.append((size, device, threads, res))
    batch = (f'batches of {args.batch} (torch: DenseCRF module)'
             if args.batch > 1 else 'one image per call')
    print(f'\nDense CRF, {args.iters} iterations, default parameters, '
          f'{args.image} image, {batch}; pydensecrf single-threaded; times '
          f'are medians of {args.repeats} alternating calls')
    print('| CxHxW | torch device | torch threads | torch s | pydensecrf s |'
          ' torch / pydensecrf | max abs prob diff | label agreement |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for size, device, threads, res in rows:
        threads = threads if device == 'cpu' else '-'
        print(f'| {size} | {device} | {threads} | {res["torch_s"]:.3f} | '
              f'{res["pydensecrf_s"]:.3f} | {res["ratio"]:.2f} | '
              f'{res["max_diff"]:.1e} | '
              f'{100 * res["label_agreement"]:.3f}% |')
    if args.memory:
        print('\n| CxHxW | backend (device) | peak MiB |')
        print('|---|---|---:|')
        for size in args.sizes:
            for backend, device in ([('pydensecrf', 'cpu')] +
                                    [('torch', d) for d in devices]):
                peak = measure(args, 'memory', backend, size, device,
                               args.threads[0])['peak_mib']
                print(f'| {size} | {backend} ({device}) | {peak:.0f} |')
    return rows


if __name__ == '__main__':
    main()
