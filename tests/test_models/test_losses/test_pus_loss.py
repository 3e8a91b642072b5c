"""Pretended Under-fitting Strategy (Li et al., ICCV 2021, Eq. 10-13)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from mmseg_weak.models.losses import PUSLoss, pus_transform, set_pus_enabled

EPS = 1e-9


@MODELS.register_module(name='_PUSTestPixelValueLoss', force=True)
class PixelValueLoss(nn.Module):
    """A per-pixel loss whose value is the first channel of the input (0 at
    ignored pixels): the loss map is whatever the test writes there, and its
    gradient w.r.t. that channel is 1."""

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_value') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.reduction = 'mean'
        self.loss_name = loss_name

    def forward(self, cls_score, label, weight=None, avg_factor=None,
                reduction_override=None, ignore_index=255):
        loss = cls_score[:, 0] * (label != ignore_index)
        assert weight is None  # PUSLoss applies sample weights itself
        if (reduction_override or self.reduction) == 'none':
            return self.loss_weight * loss
        return self.loss_weight * loss.mean()


def _oracle(pred, label, mode, beta, kappa, ignore_index=255,
            class_weight=None, weight=None, loss_weight=1.0):
    """The authors' cross_entropy with PUS (our literal re-statement)."""
    loss = F.cross_entropy(pred, label, weight=class_weight,
                           reduction='none', ignore_index=ignore_index)
    if loss.mean() < beta:
        if mode == 'pow':
            loss = torch.pow(loss + EPS, kappa)
        elif mode == 'clamp':
            loss = torch.clamp(loss, 0, kappa)
        elif mode == 'ignore':
            loss = loss * (loss <= kappa).float()
    if weight is not None:
        loss = loss * weight.float()
    return loss_weight * loss.mean()


def _value_input(values, ignored=None):
    """Logits whose first channel is ``values`` (a 2x2 map) and labels."""
    score = torch.zeros(1, 2, 2, 2)
    score[0, 0] = torch.tensor(values)
    score.requires_grad_(True)
    label = torch.zeros(1, 2, 2, dtype=torch.long)
    if ignored is not None:
        label[0][ignored] = 255
    return score, label


def _value_pus(**kwargs):
    return PUSLoss(loss=dict(type='_PUSTestPixelValueLoss'), **kwargs)


# per-pixel losses 0.125, 0.25, 1.0, 1.625: mean exactly 0.75
VALUES = [[0.125, 0.25], [1.0, 1.625]]


def test_transform_hand_values():
    loss = torch.tensor([0.1, 0.2, 0.5, 0.9, 1.6])
    torch.testing.assert_close(
        pus_transform(loss, 'clamp', 0.5),
        torch.tensor([0.1, 0.2, 0.5, 0.5, 0.5]))
    # a pixel at exactly kappa is kept (the authors' `loss <= k`)
    torch.testing.assert_close(
        pus_transform(loss, 'ignore', 0.5),
        torch.tensor([0.1, 0.2, 0.5, 0.0, 0.0]))
    torch.testing.assert_close(
        pus_transform(loss, 'pow', 0.5),
        torch.tensor([math.sqrt(v + EPS) for v in (0.1, 0.2, 0.5, 0.9,
                                                   1.6)]))
    with pytest.raises(ValueError, match='unknown PUS mode'):
        pus_transform(loss, 'square', 0.5)


@pytest.mark.parametrize('mode,expected', [
    ('clamp', (0.125 + 0.25 + 0.5 + 0.5) / 4),
    ('ignore', (0.125 + 0.25) / 4),
    ('pow', sum(math.sqrt(v + EPS) for v in (0.125, 0.25, 1.0, 1.625)) / 4),
])
def test_beta_switch(mode, expected):
    score, label = _value_input(VALUES)
    # mean(L) = 0.75 >= beta: plain mean (Eq. 10, first case)
    off = _value_pus(mode=mode, beta=0.75, kappa=0.5)
    assert off(score, label).item() == 0.75
    assert not off.last_active
    # mean(L) < beta: mean of pus(L)
    on = _value_pus(mode=mode, beta=0.76, kappa=0.5)
    assert on(score, label).item() == pytest.approx(expected, abs=1e-7)
    assert on.last_active


def test_ignored_pixels_count_as_zeros():
    # the 1.625 pixel is ignored: map 0.125, 0.25, 1.0, 0 -> mean 0.34375,
    # below beta = 0.5 (it would be 0.75 if the pixel counted)
    score, label = _value_input(VALUES, ignored=(1, 1))
    pus = _value_pus(mode='clamp', beta=0.5, kappa=0.5)
    assert pus(score, label).item() == (0.125 + 0.25 + 0.5 + 0) / 4
    assert pus.last_active
    # 'pow' raises ignored pixels too: each adds eps ** kappa, as the
    # authors' code does
    pus = _value_pus(mode='pow', beta=0.5, kappa=0.5)
    expected = (math.sqrt(0.125 + EPS) + math.sqrt(0.25 + EPS) +
                math.sqrt(1.0 + EPS) + math.sqrt(EPS)) / 4
    assert pus(score, label).item() == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize('mode', ['clamp', 'ignore', 'pow'])
def test_gradients(mode):
    score, label = _value_input(VALUES, ignored=(0, 0))
    # map 0, 0.25, 1.0, 1.625: mean 0.71875 < beta
    _value_pus(mode=mode, beta=1.0, kappa=0.5)(score, label).backward()
    grad = score.grad[0, 0]
    if mode == 'pow':
        # d/dL (L + eps) ** k = k (L + eps) ** (k - 1), through the mean
        expected = torch.tensor(
            [[0.0, 0.5 / math.sqrt(0.25 + EPS)],
             [0.5 / math.sqrt(1.0 + EPS), 0.5 / math.sqrt(1.625 + EPS)]]) / 4
    else:
        # pixels above kappa (clamped or dropped) get no gradient
        expected = torch.tensor([[0.0, 0.25], [0.0, 0.0]])
    torch.testing.assert_close(grad, expected)
    assert score.grad[0, 1].abs().sum() == 0


def _random_ce_inputs(seed=0, n=2, c=4, h=5, w=6, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    pred = scale * torch.randn(n, c, h, w, generator=g)
    label = torch.randint(0, c, (n, h, w), generator=g)
    label[torch.rand(n, h, w, generator=g) < 0.25] = 255
    return pred, label


@pytest.mark.parametrize('mode', ['clamp', 'ignore', 'pow'])
@pytest.mark.parametrize('beta', [0.1, 100.0])
def test_cross_entropy_matches_reference(mode, beta):
    pred, label = _random_ce_inputs()
    class_weight = [1.0, 0.5, 2.0, 1.5]
    weight = torch.rand(label.shape,
                        generator=torch.Generator().manual_seed(1))
    pus = MODELS.build(
        dict(type='PUSLoss', mode=mode, beta=beta, kappa=0.8,
             loss=dict(type='CrossEntropyLoss', class_weight=class_weight,
                       loss_weight=0.4)))
    assert pus.loss_name == 'loss_ce' and pus.loss_weight == 0.4
    assert pus.loss.loss_weight == 1.0  # weighted once, after PUS
    ours_in = pred.clone().requires_grad_(True)
    ref_in = pred.clone().requires_grad_(True)
    ours = pus(ours_in, label, weight=weight, ignore_index=255)
    ref = _oracle(ref_in, label, mode, beta, 0.8,
                  class_weight=torch.tensor(class_weight), weight=weight,
                  loss_weight=0.4)
    assert pus.last_active == (beta == 100.0)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours_in.grad, ref_in.grad)
    if beta == 100.0 and mode != 'pow':
        # some pixels are above kappa and frozen, others are not
        ce = F.cross_entropy(pred, label, reduction='none', ignore_index=255,
                             weight=torch.tensor(class_weight))
        frozen = ce > 0.8
        assert 0 < frozen.sum() < (label != 255).sum()
        assert ours_in.grad.abs().sum(1)[frozen].max() == 0
        assert ours_in.grad.abs().sum(1)[~frozen & (label != 255)].min() > 0


def test_avg_non_ignore_reduces_like_mmseg():
    pred, label = _random_ce_inputs(seed=2)
    cfg = dict(type='CrossEntropyLoss', avg_non_ignore=True)
    plain = MODELS.build(cfg)(pred, label, ignore_index=255)
    off = PUSLoss(loss=cfg, enabled=False)
    torch.testing.assert_close(off(pred, label, ignore_index=255), plain)
    # the switch uses the same mean: here plain > beta, nothing happens
    on = PUSLoss(loss=cfg, beta=plain.item() - 1e-4, kappa=0.1)
    torch.testing.assert_close(on(pred, label, ignore_index=255), plain)
    on.beta = plain.item() + 1e-4
    ce = F.cross_entropy(pred, label, reduction='none', ignore_index=255)
    expected = ce.clamp(max=0.1).sum() / (label != 255).sum()
    torch.testing.assert_close(on(pred, label, ignore_index=255), expected)


def test_wraps_sigmoid_cross_entropy():
    """Another per-pixel loss: MMSeg's BCE returns a (N, C, H, W) map."""
    pred, label = _random_ce_inputs(seed=3)
    cfg = dict(type='CrossEntropyLoss', use_sigmoid=True)
    pus = PUSLoss(loss=cfg, mode='clamp', beta=10.0, kappa=0.3)
    valid = (label != 255).float()
    onehot = F.one_hot(label.clamp(max=3), 4).permute(0, 3, 1, 2).float()
    bce = F.binary_cross_entropy_with_logits(pred, onehot, reduction='none')
    bce = bce * valid[:, None]
    torch.testing.assert_close(
        pus(pred, label, ignore_index=255), bce.clamp(max=0.3).mean())
    pus.enabled = False
    torch.testing.assert_close(
        pus(pred, label, ignore_index=255),
        MODELS.build(cfg)(pred, label, ignore_index=255))


@pytest.mark.parametrize('cfg', [
    dict(type='CrossEntropyLoss'),
    dict(type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=0.4),
    dict(type='CrossEntropyLoss', use_sigmoid=True),
])
def test_disabled_equals_plain_loss(cfg):
    pred, label = _random_ce_inputs(seed=4, scale=0.1)  # mean CE < beta
    weight = torch.rand(label.shape,
                        generator=torch.Generator().manual_seed(5))
    plain = MODELS.build(cfg)
    pus = PUSLoss(loss=cfg, beta=100.0, kappa=0.1, enabled=False)
    for kwargs in (dict(), dict(weight=weight), dict(avg_factor=17.0),
                   dict(reduction_override='sum'),
                   dict(reduction_override='none')):
        if 'weight' in kwargs and cfg.get('use_sigmoid'):
            continue  # MMSeg's BCE expands weights its own way
        torch.testing.assert_close(
            pus(pred, label, ignore_index=255, **kwargs),
            plain(pred, label, ignore_index=255, **kwargs))
    assert not pus.last_active
    pus.enabled = True
    assert not torch.allclose(pus(pred, label, ignore_index=255),
                              plain(pred, label, ignore_index=255))


def test_config_errors_and_names():
    ce = dict(type='CrossEntropyLoss')
    assert PUSLoss(loss=ce).loss_name == 'loss_ce'
    assert PUSLoss(loss=ce, loss_name='loss_pus').loss_name == 'loss_pus'
    assert PUSLoss(loss=dict(ce, loss_weight=0.4)).loss_weight == 0.4
    assert PUSLoss(loss=ce, loss_weight=0.4).loss_weight == 0.4
    with pytest.raises(ValueError, match='loss_weight given twice'):
        PUSLoss(loss=dict(ce, loss_weight=0.4), loss_weight=0.5)
    with pytest.raises(ValueError, match='unknown PUS mode'):
        PUSLoss(loss=ce, mode='clip')
    with pytest.raises(ValueError, match='kappa'):
        PUSLoss(loss=ce, kappa=0)
    with pytest.raises(TypeError, match='config dict'):
        PUSLoss(loss=nn.CrossEntropyLoss())
    pred, label = _random_ce_inputs()
    dice = PUSLoss(loss=dict(type='DiceLoss'))
    with pytest.raises(ValueError, match='per-pixel loss: DiceLoss'):
        dice(pred, label, ignore_index=255)
    with pytest.raises(ValueError, match='unknown reduction'):
        PUSLoss(loss=ce)(pred, label, reduction_override='max')


def test_reductions():
    score, label = _value_input(VALUES)
    pus = _value_pus(mode='clamp', beta=1.0, kappa=0.5, loss_weight=2.0)
    torch.testing.assert_close(
        pus(score, label, reduction_override='none'),
        2 * torch.tensor([[[0.125, 0.25], [0.5, 0.5]]]))
    assert pus(score, label, reduction_override='sum').item() == 2 * 1.375
    # avg_factor divides the sum; the switch still uses the plain mean
    assert pus(score, label, avg_factor=2).item() == pytest.approx(1.375)
    assert pus.last_active


def _tiny_pspnet(loss, aux_loss):
    norm_cfg = dict(type='BN', requires_grad=True)
    return MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(
            type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
            out_indices=(0, 1, 2, 3), dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1), norm_cfg=norm_cfg),
        decode_head=dict(
            type='PSPHead', in_channels=64, in_index=3, channels=16,
            pool_scales=(1, 2, 3, 6), dropout_ratio=0.0, num_classes=4,
            norm_cfg=norm_cfg, align_corners=False, loss_decode=loss),
        auxiliary_head=dict(
            type='FCNHead', in_channels=32, in_index=2, channels=8,
            num_convs=1, concat_input=False, dropout_ratio=0.0,
            num_classes=4, norm_cfg=norm_cfg, align_corners=False,
            loss_decode=aux_loss)))


def test_in_pspnet_decode_and_auxiliary_heads():
    torch.manual_seed(0)
    ce = dict(type='CrossEntropyLoss', loss_weight=1.0)
    aux_ce = dict(type='CrossEntropyLoss', loss_weight=0.4)
    plain = _tiny_pspnet(ce, aux_ce)
    pus = _tiny_pspnet(
        dict(type='PUSLoss', mode='clamp', beta=100.0, kappa=0.9, loss=ce),
        dict(type='PUSLoss', mode='clamp', beta=100.0, kappa=0.9,
             loss=aux_ce))
    pus.load_state_dict(plain.state_dict())
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(2, 3, 32, 32, generator=g)
    samples = []
    for _ in range(2):
        seg = torch.randint(0, 4, (1, 32, 32), generator=g)
        seg[:, :4] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=seg))
        sample.set_metainfo(dict(img_shape=(32, 32), ori_shape=(32, 32),
                                 pad_shape=(32, 32)))
        samples.append(sample)

    assert set_pus_enabled(pus, False) == 2
    off = pus.loss(inputs, samples)
    ref = plain.loss(inputs, samples)
    assert set(off) == set(ref) == {'decode.loss_ce', 'decode.acc_seg',
                                    'aux.loss_ce', 'aux.acc_seg'}
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        torch.testing.assert_close(off[key], ref[key])

    set_pus_enabled(pus, True)
    on = pus.loss(inputs, samples)
    feats = pus.extract_feat(inputs)
    label = torch.stack([s.gt_sem_seg.data for s in samples])[:, 0]
    for key, head, weight in (('decode.loss_ce', pus.decode_head, 1.0),
                              ('aux.loss_ce', pus.auxiliary_head, 0.4)):
        logits = F.interpolate(head(feats), size=(32, 32), mode='bilinear',
                               align_corners=False)
        expected = _oracle(logits, label, 'clamp', 100.0, 0.9,
                           loss_weight=weight)
        torch.testing.assert_close(on[key], expected)
        assert on[key] < ref[key]  # some pixels are above kappa = 0.9
    sum(on[k] for k in ('decode.loss_ce', 'aux.loss_ce')).backward()
    assert pus.decode_head.conv_seg.weight.grad.abs().sum() > 0


@MODELS.register_module(name='_PUSTestSoftPixelValueLoss', force=True)
class SoftPixelValueLoss(PixelValueLoss):
    """:class:`PixelValueLoss` for soft targets (a target of the logits'
    shape, unused) and without ``avg_non_ignore``."""

    def forward(self, cls_score, target, weight=None, avg_factor=None,
                reduction_override=None, **kwargs):
        assert weight is None and target.shape == cls_score.shape
        loss = cls_score[:, 0]
        if (reduction_override or self.reduction) == 'none':
            return loss
        return loss.mean()


def test_soft_targets_weight_masks_switch_and_mean():
    """Soft targets: ``weight`` marks the pixels that count, in the switch
    statistic too; without ``avg_non_ignore`` the mean is over all pixels
    (masked ones as zeros, MMSeg's ``weight_reduce_loss``)."""
    score, _ = _value_input(VALUES)
    target = torch.full_like(score, 0.5)
    weight = torch.tensor([[[1.0, 1.0], [1.0, 0.0]]])  # drop 1.625
    pus = PUSLoss(loss=dict(type='_PUSTestSoftPixelValueLoss'),
                  mode='clamp', beta=0.5, kappa=0.5)
    # statistic (0.125 + 0.25 + 1.0 + 0) / 4 = 0.34375 < 0.5 (0.75 unmasked)
    assert pus(score, target, weight=weight).item() == \
        (0.125 + 0.25 + 0.5 + 0) / 4
    assert pus.last_active
    assert pus(score, target).item() == 0.75  # unmasked: above beta
    assert not pus.last_active
    with pytest.raises(ValueError, match='soft target of their shape'):
        pus(score, target[:, :1])


def test_hard_label_shape_is_checked():
    pred, label = _random_ce_inputs()
    with pytest.raises(ValueError, match='label map of shape'):
        PUSLoss(loss=dict(type='CrossEntropyLoss'))(pred, label[:, None, None])
