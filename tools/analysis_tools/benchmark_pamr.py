"""Speed and peak memory of PAMR (Araslanov & Roth, CVPR 2020,
https://arxiv.org/abs/2005.08104) per call.

Times ``mmseg_weak``'s :func:`pamr_refine` (and, with ``--oracle``, the
literal test oracle ``mmseg_weak.testing.oracles.oracle_pamr``, which
follows the authors' implementation and is as slow) on random images and
soft masks of the given shapes (image at mask size), on CPU with each of
``--threads`` torch threads and on the GPU when one is available.

Each (shape, device, thread count) runs in a fresh process that alternates
the two implementations (ours, oracle, ours, ...; ours ``--repeats`` times,
the oracle ``--oracle-repeats`` times) after one warm-up call each, so that
a machine shared with other jobs slows both alike: the table gives the
median times, their ratio and the largest difference of the two outputs.
``--memory`` adds the peak memory of one call of each, each in its own
fresh process (growth of the peak resident set above the inputs; GPU:
``max_memory_allocated``).

Example::

    python tools/analysis_tools/benchmark_pamr.py --oracle
"""
import argparse
import json
import os.path as osp
import sys

DEFAULT_SHAPES = ('1x21x80x80', '1x21x112x112', '16x21x81x81',
                  '16x21x112x112')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shapes', nargs='+', default=list(DEFAULT_SHAPES),
                        help='mask shapes BxCxHxW')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2],
                        help='CPU thread counts (torch.set_num_threads)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--dilations', type=int, nargs='+',
                        default=[1, 2, 4, 8, 12, 24])
    parser.add_argument('--repeats', type=int, default=5,
                        help='timed calls of ours per row (median reported)')
    parser.add_argument('--oracle-repeats', type=int, default=3,
                        help='timed calls of the oracle per row')
    parser.add_argument('--oracle', action='store_true',
                        help='also time the literal oracle (slow)')
    parser.add_argument('--memory', action='store_true',
                        help='also measure the peak memory of one call')
    parser.add_argument('--devices', nargs='+', default=None,
                        help="devices (default: 'cpu' and 'cuda' if "
                        'available)')
    parser.add_argument('--worker', nargs=3, metavar=('MODE', 'SHAPE', 'DEV'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _inputs(shape: str, device: str):
    import torch
    batch, classes, height, width = (int(v) for v in shape.split('x'))
    gen = torch.Generator().manual_seed(0)
    image = (255 * torch.rand(batch, 3, height, width, generator=gen))
    mask = torch.softmax(
        torch.randn(batch, classes, height, width, generator=gen), 1)
    return image.to(device), mask.to(device)


def _call(impl: str, shape: str, device: str, args):
    """A no-argument function running one PAMR call of ``impl``."""
    if impl == 'ours':
        from mmseg_weak.models.utils.pamr import pamr_refine as fn
    else:
        from mmseg_weak.testing.oracles import oracle_pamr as fn
    image, mask = _inputs(shape, device)
    dilations = tuple(args.dilations)
    return lambda: fn(image, mask, args.iters, dilations)


def run_worker(args) -> dict:
    """One measurement in this process; prints a JSON line."""
    import time

    import numpy as np
    import torch

    from mmseg_weak.testing.profiling import time_and_peak_memory
    mode, shape, device = args.worker
    torch.set_num_threads(args.threads[0])
    if mode in ('memory-ours', 'memory-oracle'):
        _, peak, _ = time_and_peak_memory(
            _call(mode.split('-')[1], shape, device, args), device, 1)
        result = dict(peak_mib=peak)
    else:  # interleaved timing
        impls = ['ours'] + (['oracle'] if args.oracle else [])
        counts = dict(ours=args.repeats, oracle=args.oracle_repeats)
        calls = {impl: _call(impl, shape, device, args) for impl in impls}
        sync = (torch.cuda.synchronize
                if device.startswith('cuda') else (lambda: None))
        outs = {impl: call() for impl, call in calls.items()}  # warm-up
        times = {impl: [] for impl in impls}
        for i in range(max(counts[impl] for impl in impls)):
            for impl in impls:
                if i < counts[impl]:
                    sync()
                    start = time.perf_counter()
                    calls[impl]()
                    sync()
                    times[impl].append(time.perf_counter() - start)
        result = {
            f'{impl}_s': float(np.median(t))
            for impl, t in times.items()
        }
        if args.oracle:
            result['max_diff'] = float(
                (outs['ours'] - outs['oracle']).abs().max())
    print(json.dumps(result))
    return result


def measure(args, mode, shape, device, threads) -> dict:
    from mmseg_weak.testing.profiling import measure_in_subprocess
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--worker', mode, shape, device, '--threads',
        str(threads), '--iters',
        str(args.iters), '--repeats',
        str(args.repeats), '--oracle-repeats',
        str(args.oracle_repeats), '--dilations'
    ] + [str(d) for d in args.dilations] + (['--oracle']
                                            if args.oracle else [])
    return measure_in_subprocess(cmd, threads, f'{mode} {shape} {device}')


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    import torch
    devices = args.devices or (['cpu'] +
                               (['cuda'] if torch.cuda.is_available() else []))
    rows = []
    for device in devices:
        counts = args.threads if device == 'cpu' else args.threads[:1]
        for shape in args.shapes:
            for threads in counts:
                res = measure(args, 'time', shape, device, threads)
                if args.memory:
                    for impl in ['ours'] + (['oracle'] if args.oracle else []):
                        res[f'{impl}_mib'] = measure(args, f'memory-{impl}',
                                                     shape, device,
                                                     threads)['peak_mib']
                rows.append((device, shape, threads, res))
    print(f'\nPAMR, {args.iters} iterations, dilations '
          f'{"-".join(map(str, args.dilations))}; median times of '
          f'alternating calls (ours {args.repeats}, oracle '
          f'{args.oracle_repeats})')
    header = '| device | mask BxCxHxW | threads | ours s |'
    sep = '|---|---|---:|---:|'
    if args.oracle:
        header += ' oracle s | speed-up | max abs diff |'
        sep += '---:|---:|---:|'
    if args.memory:
        header += ' ours peak MiB |' + (' oracle peak MiB |'
                                        if args.oracle else '')
        sep += '---:|' + ('---:|' if args.oracle else '')
    print(header)
    print(sep)
    for device, shape, threads, res in rows:
        threads = threads if device == 'cpu' else '-'
        line = f'| {device} | {shape} | {threads} | {res["ours_s"]:.4f} |'
        if args.oracle:
            line += (f' {res["oracle_s"]:.3f} | '
                     f'{res["oracle_s"] / res["ours_s"]:.1f}x | '
                     f'{res["max_diff"]:.1e} |')
        if args.memory:
            line += f' {res["ours_mib"]:.0f} |'
            if args.oracle:
                line += f' {res["oracle_mib"]:.0f} |'
        print(line)
    return rows


if __name__ == '__main__':
    main()
