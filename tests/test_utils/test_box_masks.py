import numpy as np
import pytest
import torch

from mmseg_weak.utils import (batch_boxes_to_masks, boxes_to_masks,
                              boxes_to_seg_map)


def test_overlapping_boxes_of_different_classes():
    boxes = np.array([[0, 0, 4, 3], [2, 1, 6, 4]], np.float32)
    masks = boxes_to_masks(boxes, np.array([1, 2]), 3, (5, 7))
    expected1 = np.zeros((5, 7), np.uint8)
    expected1[0:3, 0:4] = 1
    expected2 = np.zeros((5, 7), np.uint8)
    expected2[1:4, 2:6] = 1
    np.testing.assert_array_equal(masks[1], expected1)
    np.testing.assert_array_equal(masks[2], expected2)
    # both classes are 1 in the overlap; background only outside all boxes
    assert masks[1, 1, 2] == masks[2, 1, 2] == 1
    np.testing.assert_array_equal(masks[0],
                                  1 - np.maximum(expected1, expected2))


def test_boxes_touching_and_crossing_the_border():
    boxes = np.array([[-3, -2, 2, 2], [5, 3, 9, 8]], np.float32)
    masks = boxes_to_masks(boxes, np.array([1, 1]), 2, (5, 7))
    assert masks[1, :2, :2].all() and masks[1, 3:, 5:].all()
    assert masks[1].sum() == 4 + 4
    assert masks[0].sum() == 35 - 8


def test_fractional_boxes_cover_pixels_by_centre():
    masks = boxes_to_masks(np.array([[0.6, 0, 2.5, 1]]), np.array([1]), 2,
                           (1, 4))
    np.testing.assert_array_equal(masks[1, 0], [0, 1, 0, 0])


def test_labels_out_of_range_raise():
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        boxes_to_masks(np.array([[0, 0, 1, 1]]), np.array([3]), 3, (2, 2))


def test_seg_map_fill_puts_smaller_box_on_top():
    boxes = np.array([[2, 2, 4, 4], [0, 0, 6, 6]], np.float32)
    seg = boxes_to_seg_map(boxes, np.array([2, 1]), (6, 6))
    assert (seg[2:4, 2:4] == 2).all() and seg[0, 0] == 1
    assert (seg == 1).sum() == 36 - 4


def test_torch_rasteriser_matches_numpy_at_any_scale():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(0, 5))
        xy = rng.uniform(-5, 40, size=(n, 2))
        wh = rng.uniform(1, 30, size=(n, 2))
        boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
        labels = rng.integers(1, 4, n)
        for scale in (1.0, 0.25):
            shape = (int(32 * scale), int(36 * scale))
            ours = batch_boxes_to_masks([torch.from_numpy(boxes)],
                                        [torch.from_numpy(labels)], 4, shape,
                                        scale)[0].numpy()
            ref = boxes_to_masks(boxes * scale, labels, 4, shape)
            np.testing.assert_array_equal(ours, ref)
