"""Multi-label soft-margin loss (Eq. 6)."""
import math

import pytest
import torch

from mmseg.registry import MODELS
from mmseg_weak.models.losses import (MultiLabelSoftMarginLoss,
                                      multilabel_soft_margin_loss)


def test_hand_checked_values():
    scores = torch.tensor([[0.0, 2.0]])
    labels = torch.tensor([[1.0, 0.0]])
    # (log(1 + e^0) + log(1 + e^2)) / 2
    expected = (math.log(2) + math.log(1 + math.exp(2))) / 2
    assert multilabel_soft_margin_loss(scores, labels).item() == \
        pytest.approx(expected)


def test_equals_torch_and_weights():
    g = torch.Generator().manual_seed(0)
    scores = 3 * torch.randn(4, 5, generator=g)
    labels = (torch.rand(4, 5, generator=g) > 0.5).float()
    loss = MODELS.build(
        dict(type='MultiLabelSoftMarginLoss', loss_weight=2.0))
    assert isinstance(loss, MultiLabelSoftMarginLoss)
    assert loss.loss_name == 'loss_cls'
    expected = torch.nn.MultiLabelSoftMarginLoss()(scores, labels)
    torch.testing.assert_close(loss(scores, labels), 2 * expected)
    weight = torch.tensor([1., 0., 1., 0.])
    torch.testing.assert_close(
        loss(scores, labels, weight=weight, avg_factor=2),
        torch.nn.MultiLabelSoftMarginLoss()(scores[::2], labels[::2]) * 2)
    with pytest.raises(ValueError):
        loss(scores, labels[:, :3])
