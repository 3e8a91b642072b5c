"""zero_loss: an exact zero that reaches every given parameter / tensor."""
import pytest
import torch
from torch import nn

from mmseg_weak.models.utils.zero_loss import decode_loss_names, zero_loss


def test_zero_loss_gives_every_parameter_a_zero_gradient():
    a, b = nn.Linear(2, 3), nn.Conv2d(1, 1, 1)
    b.bias.requires_grad_(False)
    logits = torch.randn(2, 3, requires_grad=True)
    loss = zero_loss(a, None, b, logits)
    assert loss.item() == 0 and loss.dim() == 0
    loss.backward()
    for p in (a.weight, a.bias, b.weight, logits):
        assert p.grad is not None and (p.grad == 0).all()
    assert b.bias.grad is None  # frozen: not touched


def test_zero_loss_needs_something():
    with pytest.raises(ValueError, match='no trainable'):
        zero_loss(None, nn.ReLU())


def test_decode_loss_names():
    from mmseg.registry import MODELS
    head = MODELS.build(
        dict(type='FCNHead', in_channels=4, channels=4, num_classes=3,
             loss_decode=[
                 dict(type='CrossEntropyLoss', loss_name='loss_ce'),
                 dict(type='DiceLoss', loss_name='loss_dice')
             ]))
    assert decode_loss_names(head) == ['loss_ce', 'loss_dice']
