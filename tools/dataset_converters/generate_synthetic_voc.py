"""Generate the synthetic PASCAL VOC 2012 + SBD-aug dataset.

Example::

    python tools/dataset_converters/generate_synthetic_voc.py \
        --out-dir data/synthetic_voc --num-aug 400 --num-train 100 \
        --num-val 100
"""
import argparse
import time

from mmseg_weak.testing import generate_synthetic_voc


def parse_args() -> argparse.Namespace:
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate a deterministic synthetic dataset in the '
        'PASCAL VOC 2012 + SBD-aug directory layout.')
    parser.add_argument('--out-dir', default='data/synthetic_voc',
                        help='output directory (VOCdevkit/VOC2012 goes in it)')
    parser.add_argument('--num-aug', type=int, default=400,
                        help='number of images in aug.txt (trainaug)')
    parser.add_argument('--num-train', type=int, default=100,
                        help='number of aug images with fine labels '
                        '(train.txt)')
    parser.add_argument('--num-val', type=int, default=100,
                        help='number of validation images')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--min-size', type=int, default=96,
                        help='smallest image side')
    parser.add_argument('--max-size', type=int, default=128,
                        help='largest image side')
    parser.add_argument('--workers', type=int, default=1,
                        help='number of worker processes')
    return parser.parse_args()


def main() -> None:
    """Run the generator and print a summary."""
    args = parse_args()
    start = time.perf_counter()
    result = generate_synthetic_voc(
        args.out_dir,
        num_aug=args.num_aug,
        num_train=args.num_train,
        num_val=args.num_val,
        seed=args.seed,
        min_size=args.min_size,
        max_size=args.max_size,
        workers=args.workers)
    elapsed = time.perf_counter() - start
    print(f'Wrote synthetic VOC to {result["data_root"]} '
          f'in {elapsed:.1f} s (seed {args.seed})')
    for split in ('train', 'val', 'trainval', 'aug'):
        print(f'  {split + ".txt":<13} {len(result[split]):>6} ids')
    num_images = len(result['aug']) + len(result['val'])
    print(f'  {num_images} images, {result["num_objects"]} objects')


if __name__ == '__main__':
    main()
