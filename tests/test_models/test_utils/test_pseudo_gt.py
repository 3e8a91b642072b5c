"""Pseudo ground truth from PAMR masks (Araslanov & Roth, CVPR 2020,
Sec. 3.3): thresholds, ignore, absent classes, discarded images."""
import torch

from mmseg_weak.models.utils import pseudo_gt_from_masks


def _masks():
    # one row of 5 pixels; channels: background, class 1, class 2
    return torch.tensor([[
        [0.90, 0.65, 0.50, 0.10, 0.00],  # bg: thr 0.7 * 0.9 = 0.63
        [0.10, 0.70, 0.90, 1.00, 0.50],  # c1: thr 0.6 * 1.0 = 0.6
        [0.00, 0.00, 0.00, 0.00, 0.95],  # c2
    ]]).unsqueeze(2)  # (1, 3, 1, 5)


def test_thresholds_ambiguity_low_confidence():
    labels = torch.tensor([[1., 1., 0.]])  # class 2 absent -> zeroed
    label, valid = pseudo_gt_from_masks(_masks(), labels)
    # px0 bg; px1 bg (0.65 > 0.63) and c1 (0.7 > 0.6) -> ambiguous;
    # px2, px3 c1; px4: c1 0.5 < 0.6, bg 0, c2 zeroed -> low confidence
    assert label.tolist() == [[[0, 255, 1, 1, 255]]]
    assert valid.tolist() == [True]


def test_present_class_kept_and_threshold_is_strict():
    labels = torch.tensor([[1., 1., 1.]])
    masks = _masks()
    masks[0, 1, 0, 2] = 0.6  # exactly 0.6 * max(c1): not above it
    label, valid = pseudo_gt_from_masks(masks, labels)
    assert label.tolist() == [[[0, 255, 255, 1, 2]]]
    assert valid.tolist() == [True]


def test_minimum_threshold_and_dropped_image():
    masks = _masks()
    masks[0, 2] = torch.tensor([0.0, 0.0, 0.0, 0.15, 0.19])  # max 0.19
    labels = torch.tensor([[1., 1., 1.]])
    label, valid = pseudo_gt_from_masks(masks, labels)
    # 0.6 * 0.19 < 0.2 = min_cutoff: class 2 gets no pixel ...
    assert 2 not in label.unique().tolist()
    # ... although labelled: the image is discarded
    assert valid.tolist() == [False]
    # the same image is kept when class 2 is not labelled
    _, valid = pseudo_gt_from_masks(masks, torch.tensor([[1., 1., 0.]]))
    assert valid.tolist() == [True]


def test_lost_background_discards_and_cutoffs_are_configurable():
    masks = torch.zeros(2, 2, 2, 2)
    masks[0, 1] = 1.0  # class 1 everywhere, no background pixel
    masks[1, 0, 0] = 1.0
    masks[1, 1, 1] = 0.5
    labels = torch.tensor([[1., 1.], [1., 1.]])
    label, valid = pseudo_gt_from_masks(masks, labels)
    assert valid.tolist() == [False, True]
    assert label[1].tolist() == [[0, 0], [1, 1]]
    label, _ = pseudo_gt_from_masks(masks, labels, min_cutoff=0.6)
    assert label[1].tolist() == [[0, 0], [255, 255]]
    # without image labels nothing is zeroed and nothing discarded
    label, valid = pseudo_gt_from_masks(masks)
    assert valid.all() and label[0].eq(1).all()
