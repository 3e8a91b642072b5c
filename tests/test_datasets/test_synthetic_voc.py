"""Tests for the synthetic PASCAL VOC 2012 + SBD-aug generator."""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image

from mmseg_weak.testing.synthetic_voc import (MIN_VISIBLE_PIXELS,
                                              SYNTHETIC_CLASSES, VOC_PALETTE,
                                              generate_synthetic_voc,
                                              render_sample)

NUM_AUG, NUM_TRAIN, NUM_VAL = 12, 4, 5
FLAT_PALETTE = [c for rgb in VOC_PALETTE for c in rgb]


def _generate(out_dir, seed: int = 0, workers: int = 1) -> dict:
    return generate_synthetic_voc(
        str(out_dir), num_aug=NUM_AUG, num_train=NUM_TRAIN, num_val=NUM_VAL,
        seed=seed, workers=workers)


def _tree_bytes(root: str) -> Dict[str, bytes]:
    """Map every file below ``root`` (relative path) to its content."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                files[osp.relpath(path, root)] = f.read()
    return files


def _read_list(root: str, split: str) -> List[str]:
    with open(osp.join(root, 'ImageSets', 'Segmentation',
                       f'{split}.txt')) as f:
        return f.read().split()


def _parse_xml(root: str, image_id: str) -> dict:
    tree = ET.parse(osp.join(root, 'Annotations', f'{image_id}.xml')).getroot()
    objects = []
    for obj in tree.findall('object'):
        box = obj.find('bndbox')
        objects.append(
            dict(
                name=obj.findtext('name'),
                truncated=int(obj.findtext('truncated')),
                difficult=int(obj.findtext('difficult')),
                pose=obj.findtext('pose'),
                # VOC boxes are 1-based inclusive; convert to 0-based.
                bbox=[int(box.findtext(k)) - 1
                      for k in ('xmin', 'ymin', 'xmax', 'ymax')]))
    return dict(
        filename=tree.findtext('filename'),
        width=int(tree.findtext('size/width')),
        height=int(tree.findtext('size/height')),
        depth=int(tree.findtext('size/depth')),
        segmented=int(tree.findtext('segmented')),
        objects=objects)


def _load_png(path: str) -> Image.Image:
    png = Image.open(path)
    png.load()
    return png


@pytest.fixture(scope='module')
def dataset(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp('synthetic_voc_seed0')
    return _generate(out, seed=0)


@pytest.fixture(scope='module')
def all_ids(dataset) -> List[str]:
    return sorted(dataset['aug'] + dataset['val'])


def test_voc_palette():
    assert len(VOC_PALETTE) == 256
    assert VOC_PALETTE[0] == (0, 0, 0)
    assert VOC_PALETTE[1] == (128, 0, 0)
    assert VOC_PALETTE[2] == (0, 128, 0)
    assert VOC_PALETTE[3] == (128, 128, 0)
    assert VOC_PALETTE[5] == (128, 0, 128)
    assert VOC_PALETTE[15] == (192, 128, 128)
    assert VOC_PALETTE[255] == (224, 224, 192)
    assert len(set(VOC_PALETTE)) == 256
    assert SYNTHETIC_CLASSES == ('background', 'aeroplane', 'bicycle', 'bird',
                                 'boat', 'bottle')


def test_layout_and_lists(dataset):
    root = dataset['data_root']
    assert root.endswith(osp.join('VOCdevkit', 'VOC2012'))
    train, val = _read_list(root, 'train'), _read_list(root, 'val')
    trainval, aug = _read_list(root, 'trainval'), _read_list(root, 'aug')
    assert (train, val, trainval, aug) == (dataset['train'], dataset['val'],
                                           dataset['trainval'], dataset['aug'])
    assert len(train) == NUM_TRAIN and len(val) == NUM_VAL
    assert len(aug) == NUM_AUG and len(trainval) == NUM_TRAIN + NUM_VAL
    for ids in (train, val, trainval, aug):
        assert ids == sorted(set(ids))
        assert all(len(i) == 11 and i.startswith('2012_') for i in ids)
    assert set(train) < set(aug)
    assert not set(val) & set(aug)
    assert set(trainval) == set(train) | set(val)

    all_ids = set(aug) | set(val)

    def stems(sub, ext):
        names = os.listdir(osp.join(root, sub))
        assert all(n.endswith(ext) for n in names)
        return {n[:-len(ext)] for n in names}

    assert stems('JPEGImages', '.jpg') == all_ids
    assert stems('Annotations', '.xml') == all_ids
    assert stems('SegmentationClassAug', '.png') == all_ids
    assert stems('SegmentationClass', '.png') == set(trainval)


def test_same_seed_is_byte_identical_across_workers(dataset, tmp_path):
    ref = _tree_bytes(osp.join(dataset['data_root'], '..', '..'))
    again = _generate(tmp_path / 'w2', seed=0, workers=2)
    assert _tree_bytes(osp.join(again['data_root'], '..', '..')) == ref
    # jpg + xml + SegmentationClassAug for all, fine masks, four lists.
    assert len(ref) == 3 * (NUM_AUG + NUM_VAL) + (NUM_TRAIN + NUM_VAL) + 4


def test_other_seed_differs(dataset, tmp_path):
    other = _generate(tmp_path / 's1', seed=1)
    ref = _tree_bytes(dataset['data_root'])
    new = _tree_bytes(other['data_root'])
    jpgs = [k for k in ref if k.endswith('.jpg')]
    assert jpgs and all(ref[k] != new.get(k) for k in jpgs)
    assert other['val'] != dataset['val']


def test_label_pngs(dataset, all_ids):
    root = dataset['data_root']
    has_void = False
    for image_id in all_ids:
        width, height = Image.open(
            osp.join(root, 'JPEGImages', f'{image_id}.jpg')).size
        aug_png = _load_png(
            osp.join(root, 'SegmentationClassAug', f'{image_id}.png'))
        assert aug_png.mode == 'P'
        assert aug_png.getpalette()[:768] == FLAT_PALETTE
        assert aug_png.size == (width, height)
        aug = np.array(aug_png)
        assert set(np.unique(aug)) <= set(range(6))
        assert (aug > 0).any(), 'every image has a visible object'
        if image_id not in dataset['trainval']:
            continue
        fine_png = _load_png(
            osp.join(root, 'SegmentationClass', f'{image_id}.png'))
        assert fine_png.mode == 'P'
        assert fine_png.getpalette()[:768] == FLAT_PALETTE
        fine = np.array(fine_png)
        assert set(np.unique(fine)) <= set(range(6)) | {255}
        void = fine == 255
        has_void |= bool(void.any())
        # Outside the void band both masks agree; the band lies on objects
        # and leaves most object pixels labelled.
        np.testing.assert_array_equal(fine[~void], aug[~void])
        assert (aug[void] > 0).all()
        assert void.sum() < (aug > 0).sum()
    assert has_void


def test_xml_boxes_match_masks(dataset, all_ids):
    root = dataset['data_root']
    trainval = set(dataset['trainval'])
    fills = []
    for image_id in all_ids:
        ann = _parse_xml(root, image_id)
        jpg = Image.open(osp.join(root, 'JPEGImages', f'{image_id}.jpg'))
        assert jpg.mode == 'RGB'
        assert (ann['width'], ann['height']) == jpg.size
        assert ann['depth'] == 3 and ann['filename'] == f'{image_id}.jpg'
        assert ann['segmented'] == int(image_id in trainval)
        assert 1 <= len(ann['objects']) <= 4
        label = np.array(
            Image.open(
                osp.join(root, 'SegmentationClassAug', f'{image_id}.png')))
        covered = np.zeros(label.shape, dtype=bool)
        for obj in ann['objects']:
            cls = SYNTHETIC_CLASSES.index(obj['name'])
            assert cls > 0
            assert obj['pose'] == 'Unspecified' and obj['difficult'] == 0
            x1, y1, x2, y2 = obj['bbox']
            assert 0 <= x1 <= x2 < ann['width']
            assert 0 <= y1 <= y2 < ann['height']
            inside = label[y1:y2 + 1, x1:x2 + 1] == cls
            assert inside.any()
            # A visible-pixel box is tight: its class touches every side.
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
            touches = (x1 == 0 or y1 == 0 or x2 == ann['width'] - 1
                       or y2 == ann['height'] - 1)
            assert obj['truncated'] == int(touches)
            fills.append(inside.mean())
            covered[y1:y2 + 1, x1:x2 + 1][inside] = True
        assert covered[label > 0].all(), 'boxes cover every object pixel'
    # Boxes are far from being masks (rings, triangles, rotations).
    assert np.mean(fills) < 0.85


def test_overlap_and_truncation_occur(dataset, all_ids):
    root = dataset['data_root']
    any_overlap = any_truncated = False
    for image_id in all_ids:
        objects = _parse_xml(root, image_id)['objects']
        any_truncated |= any(o['truncated'] for o in objects)
        for i, a in enumerate(objects):
            for b in objects[i + 1:]:
                ax1, ay1, ax2, ay2 = a['bbox']
                bx1, by1, bx2, by2 = b['bbox']
                any_overlap |= (ax1 <= bx2 and bx1 <= ax2 and ay1 <= by2
                                and by1 <= ay2)
    assert any_overlap and any_truncated


def test_render_sample_consistency():
    sizes = set()
    for index in range(20):
        sample = render_sample(seed=5, index=index, min_size=40, max_size=60)
        h, w = sample.label.shape
        sizes.add((h, w))
        assert 40 <= h <= 60 and 40 <= w <= 60
        assert sample.image.shape == (h, w, 3)
        assert sample.instances.max() == len(sample.objects) >= 1
        for k, obj in enumerate(sample.objects, start=1):
            visible = sample.instances == k
            assert obj.num_pixels == visible.sum() >= MIN_VISIBLE_PIXELS
            assert (sample.label[visible] == obj.label).all()
        np.testing.assert_array_equal(
            sample.label > 0, sample.instances > 0)
        again = render_sample(seed=5, index=index, min_size=40, max_size=60)
        np.testing.assert_array_equal(again.image, sample.image)
    assert len(sizes) > 1


@pytest.mark.parametrize('kwargs', [
    dict(num_aug=3, num_train=4),
    dict(num_aug=0, num_train=0),
    dict(num_val=-1),
    dict(min_size=64, max_size=32),
])
def test_invalid_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_synthetic_voc(str(tmp_path), **kwargs)
