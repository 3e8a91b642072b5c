"""Convert COCO 2014 instance annotations to VOC-style class label maps.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021, Sec. 4.1 (https://arxiv.org/abs/2108.12995) train and evaluate on
COCO 2014 in the layout common to weakly supervised segmentation work: one
palette PNG per image whose pixel values are COCO category ids (1-90, 91
classes with background 0), and split lists of the images that have at least
one annotation (82,081 train / 40,137 val images).

For every image the instance masks are painted so that a smaller instance
(by the annotation's ``area``) lies on top of a larger one; crowd regions are
labelled with their category like any instance (``--crowd label``, the
convention of the released ``class_labels``) or set to 255 where no
non-crowd instance covers them (``--crowd ignore``). Polygons and RLE (both
compressed and uncompressed) are rasterised by pycocotools, the reference
rasteriser of COCO masks. Polygon parts with fewer than three points (a few
exist in COCO) are skipped and counted; every other broken annotation stops
the conversion with an error naming the file, the image and the annotation.

Output (``--out-dir``, default ``<coco_root>/voc_format``)::

    class_labels/<image file stem>.png
    train.txt, val.txt            (stems, sorted)

Images stay where COCO puts them (``train2014/``, ``val2014/``); see
``configs/_base_/datasets/coco2014_pseudo.py``. Runs are resumable: a label
map already written is kept (each file is written to a temporary name and
renamed, so an interrupted run leaves no partial file) unless ``--overwrite``.

Example::

    python tools/dataset_converters/coco2014_to_voc.py data/coco2014 \
        --nproc 8
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress
from pycocotools import mask as mask_utils

from mmseg_weak.datasets import AnnotationError, coco2014_classes
from mmseg_weak.utils.label_png import voc_palette, write_label_png

IGNORE_INDEX = 255
CROWD_MODES = ('label', 'ignore')
LABEL_DIR = 'class_labels'
#: Options a resumed run must share with the run that wrote the labels.
OPTIONS_FILE = '.coco2014_to_voc.json'

_PALETTE = voc_palette(256)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and np.isfinite(value)


def load_coco_json(path: str) -> Tuple[List[dict], Dict[int, List[dict]]]:
    """Read and validate a COCO instances file.

    Args:
        path (str): ``instances_<split>2014.json``.

    Returns:
        tuple: The image records (``id``, ``file_name``, ``height``,
        ``width``) in file order and the annotations grouped by image id.

    Raises:
        AnnotationError: Unreadable file, missing fields, duplicate ids or
            file names, unknown images or categories, a category id outside
            1-90 or whose name is not COCO's.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise AnnotationError(f'{path}: annotation file not found') from None
    except json.JSONDecodeError as e:
        raise AnnotationError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(data, dict):
        raise AnnotationError(f'{path}: top level is not a JSON object')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise AnnotationError(f'{path}: no {key!r} list')

    classes = coco2014_classes()
    categories = set()
    for cat in data['categories']:
        cat_id, name = cat.get('id'), cat.get('name')
        if not isinstance(cat_id, int) or not 1 <= cat_id < len(classes):
            raise AnnotationError(
                f'{path}: category id {cat_id!r} ({name!r}) is not in '
                f'1-{len(classes) - 1}')
        if name != classes[cat_id]:
            raise AnnotationError(
                f'{path}: category {cat_id} is {name!r}, COCO 2014 names it '
                f'{classes[cat_id]!r}')
        if cat_id in categories:
            raise AnnotationError(f'{path}: category {cat_id} listed twice')
        categories.add(cat_id)

    images, stems = {}, set()
    for img in data['images']:
        img_id, name = img.get('id'), img.get('file_name')
        where = f'{path}: image {img_id!r} ({name!r})'
        if not isinstance(img_id, int) or not isinstance(name, str) or \
                not name:
            raise AnnotationError(f'{where}: needs an int id and a file_name')
        for key in ('height', 'width'):
            if not isinstance(img.get(key), int) or img[key] <= 0:
                raise AnnotationError(
                    f'{where}: {key} {img.get(key)!r} is not a positive int')
        stem = osp.splitext(osp.basename(name))[0]
        if img_id in images or stem in stems:
            raise AnnotationError(f'{where}: id or file name listed twice')
        stems.add(stem)
        images[img_id] = dict(id=img_id, file_name=name,
                              height=img['height'], width=img['width'])

    by_image: Dict[int, List[dict]] = {}
    seen = set()
    for ann in data['annotations']:
        ann_id = ann.get('id')
        where = f'{path}: annotation {ann_id!r}'
        if ann_id in seen:
            raise AnnotationError(f'{where}: id listed twice')
        seen.add(ann_id)
        if ann.get('image_id') not in images:
            raise AnnotationError(
                f"{where}: unknown image_id {ann.get('image_id')!r}")
        if ann.get('category_id') not in categories:
            raise AnnotationError(
                f"{where}: unknown category_id {ann.get('category_id')!r}")
        if ann.get('iscrowd', 0) not in (0, 1):
            raise AnnotationError(
                f"{where}: iscrowd {ann.get('iscrowd')!r} is not 0 or 1")
        if 'area' in ann and (not _is_number(ann['area'])
                              or ann['area'] < 0):
            raise AnnotationError(f"{where}: bad area {ann['area']!r}")
        if not isinstance(ann.get('segmentation'), (list, dict)):
            raise AnnotationError(f'{where}: no polygon or RLE segmentation')
        by_image.setdefault(ann['image_id'], []).append(ann)
    return list(images.values()), by_image


def compressed_rle_counts(counts: str) -> Optional[List[int]]:
    """Run lengths of a compressed COCO RLE string.

    COCO writes each run as a little-endian sequence of 5-bit groups, one
    character (``48 + group``) each, bit 5 of a character meaning "more
    groups follow" and bit 4 of the last one the sign; from the third run on,
    the value stored is the difference to the run two places before.

    Args:
        counts (str): The ``counts`` string.

    Returns:
        list[int] | None: The run lengths, ``None`` if a character is out of
        the alphabet or the string ends inside a run.
    """
    runs: List[int] = []
    pos = 0
    while pos < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(counts):
                return None
            group = ord(counts[pos]) - 48
            if not 0 <= group < 64:
                return None
            value |= (group & 0x1f) << shift
            more = bool(group & 0x20)
            pos += 1
            shift += 5
            if not more and group & 0x10:
                value -= 1 << shift  # sign-extend
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def annotation_mask(ann: dict, height: int, width: int,
                    where: str = '') -> Tuple[np.ndarray, int]:
    """Rasterise one annotation (polygons or RLE) with pycocotools.

    Args:
        ann (dict): A COCO annotation.
        height (int): Image height.
        width (int): Image width.
        where (str): Prefix of error messages (file, image).

    Returns:
        tuple: ``(H, W)`` bool mask and the number of skipped polygon parts
        (fewer than three points).

    Raises:
        AnnotationError: Malformed polygon (odd or non-numeric coordinates) or
            RLE (size differs from the image, counts not covering it).
    """
    segm = ann['segmentation']
    where = f"{where}annotation {ann.get('id')!r}"
    if isinstance(segm, list):
        parts, skipped = [], 0
        for part in segm:
            if not isinstance(part, list) or len(part) % 2 or \
                    not all(_is_number(v) for v in part):
                raise AnnotationError(
                    f'{where}: a polygon must be a flat list of an even '
                    f'number of coordinates, got {str(part)[:80]}')
            if len(part) < 6:
                skipped += 1
            else:
                parts.append([float(v) for v in part])
        if not parts:
            return np.zeros((height, width), dtype=bool), skipped
        rle = mask_utils.merge(mask_utils.frPyObjects(parts, height, width))
        return mask_utils.decode(rle).astype(bool), skipped

    size, counts = segm.get('size'), segm.get('counts')
    if list(size or ()) != [height, width]:
        raise AnnotationError(
            f'{where}: RLE size {size!r} differs from the image size '
            f'[{height}, {width}]')
    if isinstance(counts, list):  # uncompressed RLE (crowd regions)
        if not all(isinstance(c, int) and c >= 0 for c in counts) or \
                sum(counts) != height * width:
            raise AnnotationError(
                f'{where}: uncompressed RLE counts must be non-negative ints '
                f'summing to {height * width}')
        rle = mask_utils.frPyObjects(segm, height, width)
    elif isinstance(counts, (str, bytes)):
        # pycocotools trusts the string: a corrupt one would be decoded
        # past the mask, so its run lengths are checked here first
        if isinstance(counts, bytes):
            counts = counts.decode('ascii', errors='replace')
        runs = compressed_rle_counts(counts)
        if runs is None or min(runs, default=0) < 0 or \
                sum(runs) != height * width:
            raise AnnotationError(
                f'{where}: corrupt compressed RLE (its runs do not cover '
                f'the {height}x{width} image)')
        rle = dict(size=[height, width], counts=counts.encode('ascii'))
    else:
        raise AnnotationError(f'{where}: RLE without counts')
    return mask_utils.decode(rle).astype(bool), 0


def render_label(image: dict,
                 anns: Sequence[dict],
                 crowd: str = 'label',
                 where: str = '') -> Tuple[np.ndarray, int]:
    """Paint the class label map of one image.

    Smaller instances (by ``area``, the mask's pixel count when absent; ties
    in file order) lie on top of larger ones. With ``crowd='ignore'`` the
    crowd regions are left out of that order and set to 255 where no other
    instance is.

    Args:
        image (dict): ``height``, ``width`` (and ``file_name`` for messages).
        anns (Sequence[dict]): The image's annotations.
        crowd (str): ``'label'`` or ``'ignore'``.
        where (str): Prefix of error messages.

    Returns:
        tuple: ``(H, W)`` uint8 label map and the number of skipped polygon
        parts.
    """
    if crowd not in CROWD_MODES:
        raise ValueError(f'crowd must be one of {CROWD_MODES}, got {crowd!r}')
    height, width = image['height'], image['width']
    label = np.zeros((height, width), dtype=np.uint8)
    taken = np.zeros((height, width), dtype=bool)
    instances, crowds, skipped = [], [], 0
    for ann in anns:
        mask, n = annotation_mask(ann, height, width, where)
        skipped += n
        area = ann['area'] if 'area' in ann else int(mask.sum())
        is_crowd = ann.get('iscrowd', 0) == 1 and crowd == 'ignore'
        (crowds if is_crowd else instances).append(
            (area, mask, ann['category_id']))
    for _, mask, cat_id in sorted(instances, key=lambda x: x[0]):
        free = mask & ~taken
        label[free] = cat_id
        taken |= mask
    for _, mask, _ in crowds:
        label[mask & ~taken] = IGNORE_INDEX
    return label, skipped


def save_label_png(path: str, label: np.ndarray) -> None:
    """Write a label map as a VOC-palette PNG, atomically."""
    write_label_png(path, label, _PALETTE)


def _convert_one(task: Tuple[dict, List[dict], str, str, bool, str]) -> int:
    """Write one label map (unless it exists); return skipped parts."""
    image, anns, out_path, crowd, overwrite, json_path = task
    if not overwrite and osp.exists(out_path):
        return 0
    where = f"{json_path}: image {image['id']} ({image['file_name']}): "
    label, skipped = render_label(image, anns, crowd, where)
    save_label_png(out_path, label)
    return skipped


def _check_options(label_dir: str, options: dict, overwrite: bool) -> None:
    """Refuse to resume into labels written with other options."""
    path = osp.join(label_dir, OPTIONS_FILE)
    if osp.exists(path) and not overwrite:
        with open(path, encoding='utf-8') as f:
            old = json.load(f)
        if old != options:
            raise ValueError(
                f'{label_dir} was written with {old}, this run asks for '
                f'{options}: pass --overwrite or another --out-dir')
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(options, f)


def convert_split(json_path: str,
                  out_dir: str,
                  split: str,
                  crowd: str = 'label',
                  keep_empty: bool = False,
                  overwrite: bool = False,
                  nproc: int = 1) -> List[str]:
    """Convert one annotation file and write its split list.

    Args:
        json_path (str): ``instances_<split>2014.json``.
        out_dir (str): Output root (``class_labels/`` and ``<split>.txt``).
        split (str): Name of the split list (``'train'``, ``'val'``).
        crowd (str): ``'label'`` (default) or ``'ignore'``.
        keep_empty (bool): Also convert and list images without any
            annotation (all background). Defaults to False.
        overwrite (bool): Rewrite existing label maps. Defaults to False
            (resume).
        nproc (int): Worker processes. Defaults to 1.

    Returns:
        list[str]: The image stems of the split, sorted.
    """
    if crowd not in CROWD_MODES:
        raise ValueError(f'crowd must be one of {CROWD_MODES}, got {crowd!r}')
    label_dir = osp.join(out_dir, LABEL_DIR)
    os.makedirs(label_dir, exist_ok=True)
    _check_options(label_dir, dict(crowd=crowd), overwrite)
    images, by_image = load_coco_json(json_path)
    tasks, stems = [], []
    for image in images:
        anns = by_image.get(image['id'], [])
        if not anns and not keep_empty:
            continue
        stem = osp.splitext(osp.basename(image['file_name']))[0]
        stems.append(stem)
        tasks.append((image, anns, osp.join(label_dir, stem + '.png'), crowd,
                      overwrite, json_path))
    if nproc > 1 and len(tasks) > 1:
        skipped = track_parallel_progress(
            _convert_one, tasks, nproc, chunksize=16, keep_order=False)
    else:
        skipped = track_progress(_convert_one, tasks)
    if sum(skipped):
        print(f'{json_path}: skipped {sum(skipped)} polygon part(s) with '
              'fewer than 3 points')
    stems.sort()
    list_path = osp.join(out_dir, f'{split}.txt')
    tmp = f'{list_path}.{os.getpid()}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.writelines(stem + '\n' for stem in stems)
    os.replace(tmp, list_path)
    return stems


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'coco_root', help='folder with annotations/instances_<split>2014.json')
    parser.add_argument(
        '--out-dir', help='output folder (default: <coco_root>/voc_format)')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val'],
        help='splits to convert (default: train val)')
    parser.add_argument(
        '--crowd', choices=CROWD_MODES, default='label',
        help="crowd regions: 'label' with their category (default, the WSSS "
        "convention) or 'ignore' (255 where no instance covers them)")
    parser.add_argument(
        '--keep-empty', action='store_true',
        help='also list images without annotations (all background)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='rewrite label maps that exist (default: resume)')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.coco_root, 'voc_format')
    for split in args.splits:
        json_path = osp.join(args.coco_root, 'annotations',
                             f'instances_{split}2014.json')
        stems = convert_split(json_path, out_dir, split, args.crowd,
                              args.keep_empty, args.overwrite, args.nproc)
        print(f"{len(stems):7d} images  {osp.join(out_dir, split + '.txt')}")


if __name__ == '__main__':
    main()
