"""Projector of Lai et al. (CVPR 2021): 1x1 conv MLP, optional 2x2 pooling,
L2-normalised output."""
import pytest
import torch
import torch.nn as nn
from mmseg.registry import MODELS

from mmseg_weak.models.necks import Projector


def _oracle(proj, x, pool):
    """Literal per-pixel MLP: mean of 2x2 blocks, W2 relu(W1 f + b1) + b2,
    divided by its norm."""
    if pool:
        b, c, h, w = x.shape
        x = x[:, :, :h // 2 * 2, :w // 2 * 2]
        x = x.reshape(b, c, h // 2, 2, w // 2, 2).mean(dim=(3, 5))
    w1 = proj.mlp[0].weight[:, :, 0, 0]
    w2 = proj.mlp[2].weight[:, :, 0, 0]
    hid = torch.einsum('oc,bchw->bohw', w1, x) + proj.mlp[0].bias[:, None,
                                                                  None]
    out = torch.einsum('oc,bchw->bohw', w2, hid.clamp(min=0)) + \
        proj.mlp[2].bias[:, None, None]
    return out, out / out.norm(dim=1, keepdim=True)


@pytest.mark.parametrize('pool,hw,out_hw', [(False, (3, 5), (3, 5)),
                                            (True, (4, 6), (2, 3)),
                                            (True, (5, 7), (2, 3))])
def test_matches_per_pixel_mlp(pool, hw, out_hw):
    torch.manual_seed(0)
    proj = Projector(in_channels=6, hidden_channels=5, out_channels=4,
                     pool=pool)
    x = torch.randn(2, 6, *hw)
    raw, normed = _oracle(proj, x, pool)
    out = proj(x)
    assert out.shape == (2, 4, *out_hw)
    torch.testing.assert_close(out, normed)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2, *out_hw))
    proj.normalize = False
    torch.testing.assert_close(proj(x), raw)


def test_pooling_averages_2x2_blocks():
    proj = Projector(in_channels=1, out_channels=1, pool=True,
                     normalize=False)
    with torch.no_grad():  # identity MLP for a positive input
        for conv in (proj.mlp[0], proj.mlp[2]):
            conv.weight.fill_(1.)
            conv.bias.zero_()
    x = torch.tensor([[1., 3., 5., 7.], [1., 3., 5., 7.]])[None, None]
    torch.testing.assert_close(proj(x), torch.tensor([[[[2., 6.]]]]))


def test_defaults_follow_the_paper_and_reference():
    proj = MODELS.build(dict(type='Projector', in_channels=8))
    convs = [m for m in proj.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs
            ] == [(8, 8, (1, 1)), (8, 128, (1, 1))]
    assert all(c.bias is not None for c in convs)
    assert not any(
        isinstance(m, nn.modules.batchnorm._BatchNorm)
        for m in proj.modules())
    assert not proj.pool and proj.normalize
    assert isinstance(proj.mlp[1], nn.ReLU)


def test_gradients_and_errors():
    proj = Projector(in_channels=3, out_channels=2)
    x = torch.randn(1, 3, 2, 2, requires_grad=True)
    proj(x).sum().backward()
    assert x.grad is not None and proj.mlp[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        proj(torch.randn(1, 4, 2, 2))
    with pytest.raises(ValueError, match='out_channels'):
        Projector(in_channels=3, out_channels=0)
