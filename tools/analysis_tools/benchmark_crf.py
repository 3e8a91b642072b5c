"""Time, peak memory and agreement of the dense CRF backends
(Krähenbühl & Koltun, NeurIPS 2011, https://arxiv.org/abs/1210.5644).

Measures :func:`mmseg_weak.models.utils.dense_crf.dense_crf` with
``backend='torch'`` (CPU with ``--threads`` threads, and the GPU when one is
available) and ``backend='pydensecrf'`` (single-threaded C++) on
deterministic inputs of the given sizes: a photo-like image (smooth colour
gradients, a few flat shapes and Gaussian noise of std ``--noise``) and
random class probabilities that follow the shapes (softmax of noisy
logits), or with ``--image noise`` a uniform-noise image (the worst case of
the permutohedral lattice: every pixel its own colour). Every measurement
runs in a fresh process so the peak resident memory above the inputs is
that of the call (GPU: ``max_memory_allocated``). The table also gives the
agreement of the torch backend with pydensecrf on the same inputs (max
|prob diff| and argmax label agreement).

Example::

    python tools/analysis_tools/benchmark_crf.py --threads 2
"""
import argparse
import json
import os
import os.path as osp
import sys

DEFAULT_SIZES = ('21x375x500', '21x64x64')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes',
                        nargs='+',
                        default=list(DEFAULT_SIZES),
                        help='probabilities CxHxW')
    parser.add_argument('--threads',
                        type=int,
                        default=2,
                        help='CPU threads of the torch backend')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--repeats',
                        type=int,
                        default=3,
                        help='timed calls per measurement (median reported)')
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
    parser.add_argument('--worker',
                        nargs=3,
                        metavar=('BACKEND', 'SIZE', 'DEV'),
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


def run_worker(args) -> dict:
    """One measurement in this process; prints a JSON line."""
    import numpy as np
    import torch
    from mmseg_weak.models.utils.dense_crf import dense_crf
    from mmseg_weak.testing.profiling import time_and_peak_memory
    backend, size, device = args.worker
    torch.set_num_threads(args.threads)
    probs, image = make_inputs(size, args.image, args.noise)
    if backend == 'torch':
        probs_in = torch.from_numpy(probs).to(device)
        image_in = torch.from_numpy(image).to(device)
    else:
        probs_in, image_in = probs, image

    times, peak, out = time_and_peak_memory(
        lambda: dense_crf(probs_in, image_in, args.iters, backend=backend),
        device, args.repeats)
    out = out.cpu().numpy() if isinstance(out, torch.Tensor) else out
    path = osp.join(os.environ['CRF_BENCH_DIR'],
                    f'{backend}_{size}_{device}.npy')
    np.save(path, out)
    result = dict(backend=backend,
                  size=size,
                  device=device,
                  seconds=times[len(times) // 2],
                  peak_mib=peak,
                  out=path)
    print(json.dumps(result))
    return result


def measure(args, backend, size, device, tmp_dir) -> dict:
    from mmseg_weak.testing.profiling import measure_in_subprocess
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--worker', backend, size, device, '--threads',
        str(args.threads if backend == 'torch' else 1), '--iters',
        str(args.iters), '--repeats',
        str(args.repeats), '--image', args.image, '--noise',
        str(args.noise)
    ]
    return measure_in_subprocess(cmd,
                                 args.threads if backend == 'torch' else 1,
                                 f'{backend} {size} {device}',
                                 CRF_BENCH_DIR=tmp_dir)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    import tempfile

    import numpy as np
    import torch
    try:
        import pydensecrf  # noqa: F401
        has_ref = True
    except ImportError:
        has_ref = False
        print('pydensecrf2 is not installed: timing the torch backend only')
    devices = args.devices or (['cpu'] +
                               (['cuda'] if torch.cuda.is_available() else []))
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        for size in args.sizes:
            ref = (measure(args, 'pydensecrf', size, 'cpu', tmp_dir)
                   if has_ref else None)
            ref_out = np.load(ref['out']) if ref else None
            for device in devices:
                ours = measure(args, 'torch', size, device, tmp_dir)
                out = np.load(ours['out'])
                agree = diff = None
                if ref_out is not None:
                    diff = float(np.abs(out - ref_out).max())
                    agree = float((out.argmax(0) == ref_out.argmax(0)).mean())
                rows.append((size, device, ours, ref, diff, agree))
    print(f'\nDense CRF, {args.iters} iterations, default parameters, '
          f'{args.image} image; torch on CPU with {args.threads} threads, '
          'pydensecrf single-threaded')
    print('| CxHxW | torch device | torch s | torch peak MiB | pydensecrf s |'
          ' pydensecrf peak MiB | max abs prob diff | label agreement |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for size, device, ours, ref, diff, agree in rows:
        ref_cols = (f'{ref["seconds"]:.3f} | {ref["peak_mib"]:.0f}'
                    if ref else 'n/a | n/a')
        cmp_cols = (f'{diff:.1e} | {100 * agree:.3f}%'
                    if diff is not None else 'n/a | n/a')
        print(f'| {size} | {device} | {ours["seconds"]:.3f} | '
              f'{ours["peak_mib"]:.0f} | {ref_cols} | {cmp_cols} |')


if __name__ == '__main__':
    main()
