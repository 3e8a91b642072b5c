"""Class-balanced cross-entropy (Sec. 3.3; the authors' weighting)."""
import math

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_weak.models.losses import (BalancedCrossEntropyLoss,
                                      balanced_cross_entropy)


def _reference_semantics(logits, pseudo_onehot, img_labels):
    """The authors' computation on a one-hot pseudo mask (our re-statement
    of it): weight (n - n_c) / (1 + n), mean over all pixels, images whose
    pseudo mask lost a labelled class count zero."""
    bs, c = pseudo_onehot.shape[:2]
    target = pseudo_onehot.argmax(1)
    target[pseudo_onehot.sum(1) < 1] = 255
    per_class = pseudo_onehot.view(bs, c, -1).sum(-1)
    total = per_class.sum(-1, keepdim=True)
    weight = (total - per_class) / (1 + total)
    weight = (pseudo_onehot * weight[:, :, None, None]).sum(1).view(bs, -1)
    ce = F.cross_entropy(logits, target, ignore_index=255, reduction='none')
    keep = ((img_labels.sum(-1) + 1) == (per_class > 0).sum(-1)).float()
    return (keep * (weight * ce.view(bs, -1)).mean(-1)).mean()


def test_hand_checked_value():
    logits = torch.zeros(1, 2, 2, 2)  # CE = log 2 everywhere
    label = torch.tensor([[[0, 1], [1, 255]]])
    # n0 = 1, n1 = 2, n = 3: weights 2/4 and 1/4
    expected = (0.5 + 0.25 + 0.25) * math.log(2) / 4
    assert balanced_cross_entropy(logits, label).item() == \
        torch.tensor(expected).item()


def test_single_class_and_discarded_images_contribute_zero():
    logits = torch.randn(2, 3, 4, 4)
    label = torch.ones(2, 4, 4, dtype=torch.long)
    assert balanced_cross_entropy(logits, label).abs().max() == 0
    loss = BalancedCrossEntropyLoss()
    label[0, 0] = 0
    assert loss(logits, label, weight=torch.tensor([0., 1.])) == 0
    assert loss(logits, label, weight=torch.tensor([1., 0.])) > 0


def test_matches_reference_semantics():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 6, 7, generator=g, requires_grad=True)
    target = torch.randint(0, 4, (3, 6, 7), generator=g)
    target[torch.rand(3, 6, 7, generator=g) < 0.3] = 255
    target[2][target[2] == 3] = 0  # image 2 lost class 3
    onehot = torch.zeros(3, 4, 6, 7)
    valid_px = target != 255
    onehot.scatter_(1, target.clamp(max=3).unsqueeze(1), 1)
    onehot *= valid_px.unsqueeze(1)
    img_labels = torch.ones(3, 3)  # every foreground class labelled
    expected = _reference_semantics(logits, onehot, img_labels)
    per_class = onehot.flatten(2).sum(-1)
    valid = (per_class > 0).sum(-1) == 4
    loss = MODELS.build(
        dict(type='BalancedCrossEntropyLoss', loss_name='loss_seg'))
    assert loss.loss_name == 'loss_seg'
    value = loss(logits, target, weight=valid.float())
    torch.testing.assert_close(value, expected)
    value.backward()
    assert logits.grad.abs().sum() > 0
