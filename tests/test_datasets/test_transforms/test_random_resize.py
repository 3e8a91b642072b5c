"""RandomLongSideResize and PaddedRandomCrop (the scale augmentation and
the labeled crop of Lai et al.'s CAC loaders) and RandomResizedCrop
(torchvision's, as 1-stage-wseg's MaskRandResizedCrop): distribution and
bounds of the draws, and images / segmentation maps / boxes resized
consistently (exactly as the references' PIL / OpenCV calls)."""
import collections
import math

import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS
from PIL import Image

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets.transforms import (PaddedRandomCrop,
                                            RandomLongSideResize,
                                            RandomResizedCrop)
from mmseg_weak.datasets.transforms.random_resize import long_side_size


def _image(h, w, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, (h, w, 3)).astype(np.uint8)


def _seg(h, w, seed=1):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 21, (h, w)).astype(np.uint8)


def _results(h, w, boxes=None, labels=None):
    results = dict(
        img=_image(h, w),
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_seg_map=_seg(h, w),
        seg_fields=['gt_seg_map'])
    if boxes is not None:
        results['gt_bboxes'] = np.asarray(boxes, dtype=np.float32)
        results['gt_bboxes_labels'] = np.asarray(labels, dtype=np.int64)
    return results


# --------------------------------------------------- RandomLongSideResize
def test_long_side_size_rounding():
    # the reference: (long, int(long * w / h + 0.5)) if h > w else ...
    assert long_side_size(375, 500, 320) == (240, 320)
    assert long_side_size(500, 375, 321) == (321, int(321 * 375 / 500 + 0.5))
    assert long_side_size(333, 500, 799) == (int(799 * 333 / 500 + 0.5), 799)
    assert long_side_size(1024, 2048, 1638) == (819, 1638)
    assert long_side_size(7, 7, 20) == (20, 20)


def test_long_side_uniform_over_the_inclusive_range():
    t = RandomLongSideResize(long_side_range=(5, 14))
    np.random.seed(0)
    counts = collections.Counter()
    n = 3000
    for _ in range(n):
        out = t(dict(img=_image(6, 8)))
        h, w = out['img'].shape[:2]
        assert w == max(h, w)  # landscape stays landscape
        assert h == int(w * 6 / 8 + 0.5)
        counts[w] += 1
    assert sorted(counts) == list(range(5, 15))  # both ends reached
    expected = n / 10
    chi2 = sum((c - expected)**2 / expected for c in counts.values())
    assert chi2 < 27.9  # 9 degrees of freedom, p = 0.001


def test_long_side_of_portrait_images_is_the_height():
    t = RandomLongSideResize(long_side_range=(50, 60))
    np.random.seed(3)
    for _ in range(20):
        out = t(dict(img=_image(40, 30)))
        h, w = out['img'].shape[:2]
        assert 50 <= h <= 60 and w == int(h * 30 / 40 + 0.5)


def test_cac_ranges_on_a_voc_image():
    """VOC (base 400): labeled 200-800, unlabeled 320-800 px; MMSeg's
    RandomResize((2048, 512), (0.5, 2.0)) would reach 1365 px."""
    for lo, hi in ((200, 800), (320, 800)):
        t = RandomLongSideResize(long_side_range=(lo, hi))
        np.random.seed(1)
        sides = [
            max(t(dict(img=np.zeros((375, 500, 3), np.uint8)))['img'].shape)
            for _ in range(200)
        ]
        assert lo <= min(sides) and max(sides) <= hi
        assert min(sides) < lo + 60 and max(sides) > hi - 60


def test_pillow_image_and_opencv_labels_like_the_reference():
    """PIL bicubic for the image, OpenCV nearest for the labels, as
    base_dataset.py / voc.py; boxes and meta as mmcv's Resize."""
    t = TRANSFORMS.build(
        dict(
            type='RandomLongSideResize',
            long_side_range=(61, 61),
            backend='pillow',
            seg_backend='cv2'))
    results = _results(30, 40, boxes=[[4, 6, 20, 26]], labels=[3])
    img, seg = results['img'].copy(), results['gt_seg_map'].copy()
    out = t(results)
    h, w = 46, 61  # int(61 * 30 / 40 + 0.5)
    assert out['img'].shape == (h, w, 3) and out['img_shape'] == (h, w)
    expected = np.asarray(Image.fromarray(img).resize((w, h), Image.BICUBIC))
    np.testing.assert_array_equal(out['img'], expected)
    np.testing.assert_array_equal(
        out['gt_seg_map'],
        cv2.resize(seg, (w, h), interpolation=cv2.INTER_NEAREST))
    sx, sy = w / 40, h / 30
    assert out['scale_factor'] == pytest.approx((sx, sy))
    assert out['keep_ratio'] is False
    np.testing.assert_allclose(out['gt_bboxes'],
                               [[4 * sx, 6 * sy, 20 * sx, 26 * sy]],
                               rtol=1e-6)
    assert out['gt_bboxes_labels'].tolist() == [3]


def test_same_backend_delegates_everything_to_resize():
    t = RandomLongSideResize(
        long_side_range=(33, 33), interpolation='bilinear')
    results = _results(20, 30)
    ref = TRANSFORMS.build(
        dict(type='Resize', scale=(33, 22), keep_ratio=False))(
            _results(20, 30))
    out = t(results)
    for key in ('img', 'gt_seg_map'):
        np.testing.assert_array_equal(out[key], ref[key])
    assert out['scale_factor'] == ref['scale_factor']


def test_every_seg_field_is_resized():
    t = RandomLongSideResize(long_side_range=(16, 16), backend='pillow',
                             seg_backend='cv2')
    results = _results(8, 12)
    results['gt_pseudo'] = _seg(8, 12, seed=5)
    results['seg_fields'].append('gt_pseudo')
    out = t(results)
    assert out['gt_seg_map'].shape == out['gt_pseudo'].shape == (11, 16)
    assert set(np.unique(out['gt_pseudo'])) <= set(np.unique(_seg(8, 12, 5)))


@pytest.mark.parametrize('kwargs,error', [
    (dict(long_side_range=(10, 5)), ValueError),
    (dict(long_side_range=(0, 5)), ValueError),
    (dict(long_side_range=(0.5, 2.0)), TypeError),
    (dict(long_side_range=(5, 10), backend='skimage'), ValueError),
    (dict(long_side_range=(5, 10), seg_backend='nearest'), ValueError),
])
def test_long_side_invalid(kwargs, error):
    with pytest.raises(error):
        RandomLongSideResize(**kwargs)


def test_long_side_repr():
    assert 'long_side_range=(320, 800)' in repr(
        RandomLongSideResize(long_side_range=(320, 800)))


# ------------------------------------------------------ RandomResizedCrop
def test_window_area_and_aspect_within_the_ranges():
    t = RandomResizedCrop(
        crop_size=(7, 7), area_range=(0.9, 1.0),
        aspect_ratio_range=(3 / 4, 4 / 3))
    np.random.seed(0)
    height, width = 375, 500
    areas, aspects = [], []
    for _ in range(500):
        x1, y1, x2, y2 = t.get_window(height, width)
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        w, h = x2 - x1, y2 - y1
        areas.append(w * h / (height * width))
        aspects.append(w / h)
    # integer rounding of the sides moves the area / aspect a little
    assert 0.9 - 0.01 <= min(areas) and max(areas) <= 1.0
    assert 3 / 4 - 0.01 <= min(aspects) and max(aspects) <= 4 / 3 + 0.01
    assert max(areas) > 0.98 and min(areas) < 0.92


def test_window_position_uniform():
    t = RandomResizedCrop(crop_size=(4, 4), area_range=(0.25, 0.25),
                          aspect_ratio_range=(1, 1))
    np.random.seed(2)
    xs = collections.Counter(t.get_window(20, 20)[0] for _ in range(1100))
    # 10x10 windows in a 20x20 image: x1 uniform over 0..10
    assert sorted(xs) == list(range(11))
    assert min(xs.values()) > 50


def test_window_fallback_is_centred_and_clamped():
    """No try fits a 10x100 image with square windows of >= 90% area:
    torchvision's fallback, the largest centred window with the aspect ratio
    clamped to the range."""
    t = RandomResizedCrop(crop_size=(4, 4), area_range=(0.9, 1.0),
                          aspect_ratio_range=(1, 1))
    np.random.seed(0)
    assert t.get_window(10, 100) == (45, 0, 55, 10)
    assert t.get_window(100, 10) == (0, 45, 10, 55)
    wide = RandomResizedCrop(crop_size=(4, 4), area_range=(1.0, 1.0),
                             aspect_ratio_range=(3 / 4, 4 / 3))
    assert wide.get_window(30, 40) == (0, 0, 40, 30)


def test_resized_crop_like_torchvision_pil():
    """The window cut out and resized with PIL bicubic (image) / nearest
    (mask), what 1-stage-wseg's F.resized_crop does; boxes shifted, clipped
    and rescaled, small ones dropped with their labels."""
    t = TRANSFORMS.build(
        dict(
            type='RandomResizedCrop',
            crop_size=(21, 17),
            area_range=(0.5, 0.6),
            backend='pillow'))
    results = _results(
        30, 40, boxes=[[0, 0, 12, 10], [38, 28, 40, 30], [10, 5, 35, 25]],
        labels=[1, 2, 3])
    img, seg = results['img'].copy(), results['gt_seg_map'].copy()
    np.random.seed(4)
    window = t.get_window(30, 40)
    np.random.seed(4)
    out = t(results)
    assert out['resized_crop_window'] == window
    x1, y1, x2, y2 = window
    size = (17, 21)  # (w, h)
    expected = Image.fromarray(img).crop(window).resize(size, Image.BICUBIC)
    np.testing.assert_array_equal(out['img'], np.asarray(expected))
    expected = Image.fromarray(seg).crop(window).resize(size, Image.NEAREST)
    np.testing.assert_array_equal(out['gt_seg_map'], np.asarray(expected))
    assert out['img_shape'] == (21, 17)
    sx, sy = 17 / (x2 - x1), 21 / (y2 - y1)
    assert out['scale_factor'] == pytest.approx((sx, sy))
    boxes = np.array([[0, 0, 12, 10], [38, 28, 40, 30], [10, 5, 35, 25]],
                     np.float32) - [x1, y1, x1, y1]
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, x2 - x1)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, y2 - y1)
    keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
    np.testing.assert_allclose(out['gt_bboxes'],
                               boxes[keep] * [sx, sy, sx, sy], rtol=1e-5)
    assert out['gt_bboxes_labels'].tolist() == np.array([1, 2,
                                                         3])[keep].tolist()


def test_resized_crop_output_size_and_labels_kept():
    t = RandomResizedCrop(crop_size=(13, 13), area_range=(0.9, 1.0),
                          backend='pillow')
    np.random.seed(5)
    for _ in range(10):
        results = _results(24, 31)
        classes = set(np.unique(results['gt_seg_map']))
        out = t(results)
        assert out['img'].shape == (13, 13, 3)
        assert out['gt_seg_map'].shape == (13, 13)
        assert set(np.unique(out['gt_seg_map'])) <= classes


def test_resized_crop_int_size_and_repr():
    t = RandomResizedCrop(crop_size=9)
    assert t.crop_size == (9, 9)
    assert 'area_range=(0.08, 1.0)' in repr(t)
    assert t.aspect_ratio_range == pytest.approx((0.75, 4 / 3))
    assert math.isclose(t.area_range[1], 1.0)


@pytest.mark.parametrize('kwargs', [
    dict(crop_size=(0, 5)),
    dict(crop_size=(5, 5), area_range=(0.5, 1.5)),
    dict(crop_size=(5, 5), area_range=(0.0, 0.5)),
    dict(crop_size=(5, 5), aspect_ratio_range=(2, 1)),
    dict(crop_size=(5, 5), max_tries=0),
])
def test_resized_crop_invalid(kwargs):
    with pytest.raises(ValueError):
        RandomResizedCrop(**kwargs)


# ------------------------------------------------------- PaddedRandomCrop
def _reference_crop(img, seg, crop, x1, y1, pad_img, ignore=255):
    """base/base_dataset.py _crop with given offsets: pad at the bottom /
    right to at least the crop size, then cut the window."""
    h, w = seg.shape
    pad_h, pad_w = max(crop - h, 0), max(crop - w, 0)
    img = cv2.copyMakeBorder(img, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT,
                             value=pad_img)
    seg = cv2.copyMakeBorder(seg, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT,
                             value=ignore)
    return img[y1:y1 + crop, x1:x1 + crop], seg[y1:y1 + crop, x1:x1 + crop]


@pytest.mark.parametrize('shape', [(30, 40), (12, 40), (30, 9), (7, 5),
                                   (20, 20)])
def test_padded_crop_equals_pad_then_crop(shape):
    """Crop-then-pad gives the reference's pad-then-crop pixels for every
    offset the reference can draw; the output always has the crop size."""
    crop, pad_img = 20, (103, 116, 123)
    t = PaddedRandomCrop(crop_size=(crop, crop), pad_val=pad_img)
    h, w = shape
    seen = set()
    np.random.seed(0)
    for _ in range(60):
        results = _results(h, w)
        img, seg = results['img'].copy(), results['gt_seg_map'].copy()
        out = t(results)
        assert out['img'].shape == (crop, crop, 3)
        assert out['gt_seg_map'].shape == (crop, crop)
        # the window's offset in the source, found from its pixels
        ys, xs = max(h - crop, 0), max(w - crop, 0)
        match = [(x1, y1) for y1 in range(ys + 1) for x1 in range(xs + 1)
                 if np.array_equal(
                     _reference_crop(img, seg, crop, x1, y1, pad_img)[0],
                     out['img'])]
        assert len(match) >= 1
        x1, y1 = match[0]
        ref_img, ref_seg = _reference_crop(img, seg, crop, x1, y1, pad_img)
        np.testing.assert_array_equal(out['gt_seg_map'], ref_seg)
        seen.add((x1, y1))
    if h > crop or w > crop:
        assert len(seen) > 1  # random offsets


def test_padded_crop_pad_values_and_repr():
    t = TRANSFORMS.build(
        dict(type='PaddedRandomCrop', crop_size=(8, 6), pad_val=(1, 2, 3),
             seg_pad_val=255))
    out = t(_results(4, 3))
    assert out['img'].shape == (8, 6, 3) and out['img_shape'] == (8, 6)
    assert (out['img'][4:] == (1, 2, 3)).all()
    assert (out['img'][:, 3:] == (1, 2, 3)).all()
    assert (out['gt_seg_map'][4:] == 255).all()
    assert (out['gt_seg_map'][:, 3:] == 255).all()
    assert out['gt_seg_map'][:4, :3].max() < 21
    assert 'crop_size=(8, 6)' in repr(t)
    with pytest.raises(ValueError):
        PaddedRandomCrop(crop_size=(0, 4))
