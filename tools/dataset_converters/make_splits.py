"""Write reproducible labeled / weak split lists of a VOC-style dataset.

Examples::

    # 1/16, 1/8, 1/4 of trainaug labeled, the rest weak (nested, seed 0)
    python tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012 \
        --sizes 1/16 1/8 1/4
    # official train (1,464) labeled, trainaug minus train (9,118) weak
    python tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012 \
        --labeled-lists ImageSets/Segmentation/train.txt
"""
import argparse
import os.path as osp

from mmseg_weak.datasets.splits import write_splits


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('voc_root', help='the VOC2012 folder')
    parser.add_argument(
        '--pool', default='ImageSets/Segmentation/aug.txt',
        help='pool list, relative to voc_root (default: the trainaug list)')
    parser.add_argument(
        '--sizes', nargs='*', default=[],
        help="labeled fractions ('1/8') or counts ('200') of the pool")
    parser.add_argument(
        '--labeled-lists', nargs='*', default=[],
        help='official labeled lists (relative to voc_root) to complement')
    parser.add_argument(
        '--out-dir', default='ImageSets/Segmentation/splits',
        help='output folder, relative to voc_root')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out_dir = osp.join(args.voc_root, args.out_dir, f'seed{args.seed}')
    paths = write_splits(
        out_dir,
        osp.join(args.voc_root, args.pool),
        sizes=args.sizes,
        labeled_files=[osp.join(args.voc_root, p) for p in args.labeled_lists],
        seed=args.seed)
    for path in paths:
        with open(path) as f:
            print(f'{sum(1 for _ in f):6d}  {path}')


if __name__ == '__main__':
    main()
