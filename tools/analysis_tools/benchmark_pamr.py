"""Time and peak memory of PAMR (Araslanov & Roth, CVPR 2020,
https://arxiv.org/abs/2005.08104) per call.

Measures ``mmseg_weak``'s :func:`pamr_refine` (and, with ``--oracle``, the
literal test oracle ``mmseg_weak.testing.oracles.oracle_pamr``, which
follows the authors' implementation and is as slow) on random images and
soft masks of the given shapes (image at mask size), on CPU with
``--threads`` threads and on the GPU when one is available. Every
measurement runs in a fresh process so that the peak resident memory above
the inputs is that of the call itself (GPU: ``max_memory_allocated``).

Example::

    python tools/analysis_tools/benchmark_pamr.py --oracle
"""
import argparse
import json
import os.path as osp
import sys

DEFAULT_SHAPES = ('16x21x81x81', '16x21x112x112')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shapes', nargs='+', default=list(DEFAULT_SHAPES),
                        help='mask shapes BxCxHxW')
    parser.add_argument('--threads', type=int, default=2,
                        help='CPU threads (torch.set_num_threads)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--dilations', type=int, nargs='+',
                        default=[1, 2, 4, 8, 12, 24])
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed calls per measurement (the median is '
                        'reported; the oracle is called once)')
    parser.add_argument('--oracle', action='store_true',
                        help='also measure the literal oracle (slow)')
    parser.add_argument('--devices', nargs='+', default=None,
                        help="devices (default: 'cpu' and 'cuda' if "
                        'available)')
    parser.add_argument('--worker', nargs=3, metavar=('IMPL', 'SHAPE', 'DEV'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _load_oracle():
    from mmseg_weak.testing.oracles import oracle_pamr
    return oracle_pamr


def run_worker(args) -> dict:
    """One measurement in this process; prints a JSON line."""
    import torch

    from mmseg_weak.testing.profiling import time_and_peak_memory
    impl, shape, device = args.worker
    torch.set_num_threads(args.threads)
    batch, classes, height, width = (int(v) for v in shape.split('x'))
    gen = torch.Generator().manual_seed(0)
    image = (255 * torch.rand(batch, 3, height, width, generator=gen))
    mask = torch.softmax(
        torch.randn(batch, classes, height, width, generator=gen), 1)
    image, mask = image.to(device), mask.to(device)
    if impl == 'ours':
        from mmseg_weak.models.utils.pamr import pamr_refine as fn
    else:
        fn = _load_oracle()
    repeats = 1 if impl == 'oracle' else args.repeats
    times, peak, out = time_and_peak_memory(
        lambda: fn(image, mask, args.iters, tuple(args.dilations)), device,
        repeats)
    result = dict(
        impl=impl, shape=shape, device=device, seconds=times[len(times) // 2],
        peak_mib=peak, checksum=float(out.double().sum()))
    print(json.dumps(result))
    return result


def measure(args, impl, shape, device) -> dict:
    from mmseg_weak.testing.profiling import measure_in_subprocess
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--worker', impl, shape, device, '--threads',
        str(args.threads), '--iters',
        str(args.iters), '--repeats',
        str(args.repeats), '--dilations'
    ] + [str(d) for d in args.dilations]
    return measure_in_subprocess(cmd, args.threads,
                                 f'{impl} {shape} {device}')


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    import torch
    devices = args.devices or (['cpu'] +
                               (['cuda'] if torch.cuda.is_available() else []))
    impls = ['ours'] + (['oracle'] if args.oracle else [])
    rows = []
    for device in devices:
        for shape in args.shapes:
            results = {impl: measure(args, impl, shape, device)
                       for impl in impls}
            rows.append((device, shape, results))
    threads = f'{args.threads} threads'
    print(f'\nPAMR, {args.iters} iterations, dilations '
          f'{"-".join(map(str, args.dilations))}, CPU with {threads}')
    header = '| device | mask BxCxHxW | ours s | ours peak MiB |'
    sep = '|---|---|---:|---:|'
    if args.oracle:
        header += ' oracle s | oracle peak MiB | speed-up | max sum diff |'
        sep += '---:|---:|---:|---:|'
    print(header)
    print(sep)
    for device, shape, res in rows:
        ours = res['ours']
        line = (f'| {device} | {shape} | {ours["seconds"]:.3f} | '
                f'{ours["peak_mib"]:.0f} |')
        if args.oracle:
            ref = res['oracle']
            line += (f' {ref["seconds"]:.3f} | {ref["peak_mib"]:.0f} | '
                     f'{ref["seconds"] / ours["seconds"]:.1f}x | '
                     f'{abs(ref["checksum"] - ours["checksum"]):.2e} |')
        print(line)


if __name__ == '__main__':
    main()
