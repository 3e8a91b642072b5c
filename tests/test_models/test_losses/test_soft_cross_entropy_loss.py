"""Soft cross-entropy (Ibrahim et al., CVPR 2020, Eq. 2/5/6 second term) and
PUS (Li et al., ICCV 2021) around it."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_weak.models.decode_heads import soft_cross_entropy as head_soft_ce
from mmseg_weak.models.losses import (PUSLoss, SoftCrossEntropyLoss,
                                      soft_cross_entropy)


def _old_head_soft_ce(logits, target, valid):
    """The self-correction heads' original function, verbatim: the oracle."""
    per_pixel = -(target.detach() * F.log_softmax(logits, dim=1)).sum(dim=1)
    valid = valid.to(per_pixel.dtype)
    return (per_pixel * valid).sum() / valid.sum().clamp(min=1)


def _per_pixel_other_way(logits, target):
    """``logsumexp(l) - sum_c q_c l_c`` (equal to the soft CE for targets
    summing to 1)."""
    return torch.logsumexp(logits, 1) - (target * logits).sum(1)


def _inputs(seed=0, n=2, c=4, h=5, w=6, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, c, h, w, generator=g)
    target = F.softmax(2 * torch.randn(n, c, h, w, generator=g), 1)
    valid = torch.ones(n, h, w, dtype=torch.bool)
    valid[0, 3:, :] = False  # a padded bottom
    valid[1, :, 4:] = False  # a padded right side
    return logits, target, valid


def test_formula_by_hand():
    logits = torch.tensor([[[[0.0, 1.0]], [[2.0, -1.0]], [[0.5, 0.5]]]])
    target = torch.tensor([[[[0.2, 1.0]], [[0.5, 0.0]], [[0.3, 0.0]]]])
    expected = torch.zeros(1, 1, 2)
    for j in range(2):
        col = [logits[0, c, 0, j].item() for c in range(3)]
        log_z = math.log(sum(math.exp(v) for v in col))
        expected[0, 0, j] = -sum(target[0, c, 0, j].item() * (col[c] - log_z)
                                 for c in range(3))
    loss = SoftCrossEntropyLoss()
    assert loss.loss_name == 'loss_weak'
    torch.testing.assert_close(
        loss(logits, target, reduction_override='none'), expected)
    torch.testing.assert_close(loss(logits, target), expected.mean())
    # a one-hot target is the ordinary cross-entropy
    torch.testing.assert_close(expected[0, 0, 1].item(),
                               F.cross_entropy(logits[0, :, 0, 1:2].T,
                                               torch.tensor([0])).item())


def test_reductions_and_weight():
    logits, target, valid = _inputs()
    ref = _per_pixel_other_way(logits, target)
    loss = SoftCrossEntropyLoss(loss_weight=0.5)
    none = loss(logits, target, weight=valid, reduction_override='none')
    assert none.shape == valid.shape
    torch.testing.assert_close(none, 0.5 * ref * valid)
    torch.testing.assert_close(
        loss(logits, target, weight=valid, reduction_override='sum'),
        0.5 * ref[valid].sum())
    # 'mean' with a mask: over the valid pixels only
    torch.testing.assert_close(loss(logits, target, weight=valid),
                               0.5 * ref[valid].mean())
    # ... without: over every pixel
    torch.testing.assert_close(loss(logits, target), 0.5 * ref.mean())
    # float weights: a weighted mean
    w = torch.rand(valid.shape, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(loss(logits, target, weight=w),
                               0.5 * (ref * w).sum() / w.sum())
    # avg_non_ignore=False: masked pixels count as zeros (MMSeg's default)
    all_pixels = SoftCrossEntropyLoss(avg_non_ignore=False)
    torch.testing.assert_close(all_pixels(logits, target, weight=valid),
                               (ref * valid).sum() / valid.numel())
    # an explicit avg_factor divides the weighted sum (as in MMSeg)
    torch.testing.assert_close(
        SoftCrossEntropyLoss()(logits, target, weight=valid, avg_factor=7.0),
        ref[valid].sum() / 7.0)
    # nothing valid: zero, not NaN
    nothing = torch.zeros_like(valid)
    assert SoftCrossEntropyLoss()(logits, target, weight=nothing).item() == 0
    # ignore_index (passed by MMSeg heads) is accepted and unused
    torch.testing.assert_close(
        SoftCrossEntropyLoss()(logits, target, weight=valid,
                               ignore_index=255),
        ref[valid].mean())


def test_errors_and_registry():
    logits, target, valid = _inputs()
    built = MODELS.build(dict(type='SoftCrossEntropyLoss', loss_name='loss_q',
                              loss_weight=0.3))
    assert isinstance(built, SoftCrossEntropyLoss)
    assert built.loss_name == 'loss_q' and built.loss_weight == 0.3
    with pytest.raises(ValueError, match='same shape'):
        soft_cross_entropy(logits, target.argmax(1))
    with pytest.raises(ValueError, match='per pixel'):
        soft_cross_entropy(logits, target, weight=valid[:, None])
    with pytest.raises(ValueError, match='unknown reduction'):
        SoftCrossEntropyLoss(reduction='max')
    with pytest.raises(ValueError, match='unknown reduction'):
        SoftCrossEntropyLoss()(logits, target, reduction_override='max')


def test_gradients():
    logits, target, valid = _inputs(seed=1)
    logits.requires_grad_(True)
    target.requires_grad_(True)
    SoftCrossEntropyLoss()(logits, target, weight=valid).backward()
    assert target.grad is None  # no gradient into the target
    expected = (F.softmax(logits, 1) - target) * valid[:, None] / valid.sum()
    torch.testing.assert_close(logits.grad, expected.detach())


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_old_head_function_exactly(seed):
    logits, target, valid = _inputs(seed=seed, n=3, c=5, h=7, w=9,
                                    scale=3.0)
    valid[2] = False  # an image with no valid pixel at all
    old = _old_head_soft_ce(logits, target, valid)
    for value in (SoftCrossEntropyLoss()(logits, target, weight=valid),
                  soft_cross_entropy(logits, target, weight=valid),
                  head_soft_ce(logits, target, valid)):
        torch.testing.assert_close(value, old, rtol=0, atol=0)
    nothing = torch.zeros_like(valid)
    torch.testing.assert_close(
        SoftCrossEntropyLoss()(logits, target, weight=nothing),
        _old_head_soft_ce(logits, target, nothing), rtol=0, atol=0)


@pytest.mark.parametrize('cfg', [
    dict(type='SoftCrossEntropyLoss'),
    dict(type='SoftCrossEntropyLoss', loss_weight=0.4),
    dict(type='SoftCrossEntropyLoss', avg_non_ignore=False),
])
def test_pus_disabled_equals_plain(cfg):
    logits, target, valid = _inputs(seed=4)
    plain = MODELS.build(cfg)
    pus = PUSLoss(loss=cfg, beta=1e9, kappa=0.01, enabled=False)
    assert pus.loss_name == 'loss_weak'
    for kwargs in (dict(weight=valid), dict(),
                   dict(weight=valid.float() * 0.5),
                   dict(weight=torch.zeros_like(valid)),
                   dict(weight=valid, avg_factor=17.0),
                   dict(weight=valid, reduction_override='sum'),
                   dict(weight=valid, reduction_override='none')):
        torch.testing.assert_close(pus(logits, target, **kwargs),
                                   plain(logits, target, **kwargs),
                                   rtol=0, atol=0)
    assert not pus.last_active


def test_pus_forced_on_clamps_per_pixel():
    logits, target, valid = _inputs(seed=5, scale=2.0)
    kappa = 0.9
    ref = _per_pixel_other_way(logits, target)
    # some valid pixels above kappa, some below
    assert 0 < (ref[valid] > kappa).sum() < valid.sum()
    pus = PUSLoss(loss=dict(type='SoftCrossEntropyLoss'), mode='clamp',
                  beta=1e9, kappa=kappa)
    inp = logits.clone().requires_grad_(True)
    value = pus(inp, target, weight=valid)
    assert pus.last_active
    expected = (ref.clamp(max=kappa) * valid).sum() / valid.sum()
    torch.testing.assert_close(value, expected)
    assert value < SoftCrossEntropyLoss()(logits, target, weight=valid)
    value.backward()
    grad = inp.grad.abs().sum(1)
    frozen = ref > kappa
    assert grad[frozen | ~valid].max() == 0  # clamped or padded: no gradient
    assert grad[~frozen & valid].min() > 0
    plain = (F.softmax(logits, 1) - target) * valid[:, None] / valid.sum()
    kept = (~frozen & valid)[:, None].expand_as(plain)
    torch.testing.assert_close(inp.grad[kept], plain[kept])
    # 'none': the clamped map times the mask
    torch.testing.assert_close(
        pus(logits, target, weight=valid, reduction_override='none'),
        ref.clamp(max=kappa) * valid)


def test_pus_switch_statistic_is_over_valid_pixels():
    logits, target, valid = _inputs(seed=6, scale=0.1)
    # huge losses at the padded pixels: confident logits, opposite targets
    cls = logits.argmax(1, keepdim=True)
    pad = ~valid[:, None]
    logits = torch.where(pad, logits + 50 * F.one_hot(
        cls[:, 0], logits.shape[1]).permute(0, 3, 1, 2), logits)
    target = torch.where(pad, (1 - F.one_hot(cls[:, 0], logits.shape[1])
                               .permute(0, 3, 1, 2).float()) / 3, target)
    ref = _per_pixel_other_way(logits, target)
    mean_valid = ref[valid].mean().item()
    assert ref.mean().item() > mean_valid + 5
    pus = PUSLoss(loss=dict(type='SoftCrossEntropyLoss'), mode='clamp',
                  beta=mean_valid + 1e-3, kappa=0.1)
    value = pus(logits, target, weight=valid)
    assert pus.last_active  # the padded pixels do not count
    torch.testing.assert_close(value, ref.clamp(max=0.1)[valid].mean())
    pus.beta = mean_valid - 1e-3
    torch.testing.assert_close(pus(logits, target, weight=valid),
                               ref[valid].mean())
    assert not pus.last_active


def test_pus_soft_target_shape_errors():
    logits, target, valid = _inputs()
    pus = PUSLoss(loss=dict(type='SoftCrossEntropyLoss'))
    with pytest.raises(ValueError, match='soft target of their shape'):
        pus(logits, target[:, :2], weight=valid)
