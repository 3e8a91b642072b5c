"""StochasticGateASPPHead's two decoders: MMSeg's DeepLabV3+ parts (the
defaults, unchanged) and the authors' (1-stage-wseg ``models/stage_net.py``
``SoftMaxAE``, ``models/mods/aspp.py``): plain ASPP with a 1x1 bottleneck and
Dropout(0.5), frozen ASPP statistics, element-wise Dropout(0.1) before the
classifier, align_corners=True, Kaiming fan_in initialisation."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.sep_aspp_head import \
    DepthwiseSeparableASPPModule
from mmseg.registry import MODELS
from torch import nn

import mmseg_weak  # noqa: F401

torch.set_num_threads(2)

REFERENCE = dict(
    aspp_type='plain',
    aspp_dropout=0.5,
    aspp_norm_eval=True,
    rescale_deep=True,
    dropout_type='element',
    reference_init=True,
    align_corners=True)


def _head(**kwargs):
    cfg = dict(
        type='StochasticGateASPPHead',
        in_channels=16,
        in_index=3,
        channels=8,
        dilations=(1, 2, 3),
        c1_in_channels=4,
        c1_channels=3,
        num_classes=4,
        norm_cfg=dict(type='BN'),
        pamr=dict(
            type='PixelAdaptiveMaskRefinement', num_iter=2,
            dilations=(1, 2)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _inputs(batch=2):
    torch.manual_seed(0)
    return [
        torch.randn(batch, 4, 16, 16),
        torch.randn(batch, 6, 8, 8),
        torch.randn(batch, 10, 4, 4),
        torch.randn(batch, 16, 4, 4)
    ]


def _bn(x, bn):
    """Eval-mode batch norm with the layer's statistics."""
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight,
                        bn.bias, False, 0.0, bn.eps)


def _cbr(x, module, dilation=1):
    """conv (no bias) -> BN -> ReLU of an MMSeg ConvModule, functionally."""
    conv = module.conv
    x = F.conv2d(x, conv.weight, None, 1, conv.padding, dilation)
    return F.relu(_bn(x, module.bn))


def _reference_forward(head, inputs):
    """The authors' SoftMaxAE decoder (eval mode) written out with the
    head's parameters: ASPP branches (1x1 for rate 1, 3x3 dilated else) and
    the image pooling last, each conv-BN-ReLU, concatenated, 1x1 conv-BN-
    ReLU; skip 1x1 -> 48; deep upsampled (align_corners=True) and fused by a
    3x3 conv; GCI; SG expectation (1 - psi) x_d + psi x_s; two 3x3 convs;
    the 1x1 classifier."""
    x, c1 = inputs[3], inputs[0]
    branches = [
        _cbr(x, m, d) for m, d in zip(head.aspp_modules, head.dilations)
    ]
    pool = _cbr(x.mean(dim=(2, 3), keepdim=True), head.image_pool[1])
    pool = F.interpolate(pool, size=x.shape[2:], mode='bilinear',
                         align_corners=True)
    deep = _cbr(torch.cat(branches + [pool], 1), head.bottleneck)
    skip = _cbr(c1, head.c1_bottleneck)
    deep = F.interpolate(deep, size=skip.shape[2:], mode='bilinear',
                         align_corners=True)
    deep = _cbr(torch.cat([deep, skip], 1), head.fuse)
    gci = head.shallow
    cues = _cbr(deep, gci.deep_proj).amax(dim=(2, 3), keepdim=True)
    scale, shift = cues[:, :gci.channels], cues[:, gci.channels:]
    shallow = F.conv2d(c1, gci.shallow_proj.conv.weight)
    shallow = F.batch_norm(shallow, gci.shallow_norm.running_mean,
                           gci.shallow_norm.running_var, None, None, False,
                           0.0, gci.shallow_norm.eps)
    shallow = _cbr(F.relu(shallow * (1 + scale) + shift), gci.out_proj)
    psi = head.gate.mix_rate
    x = (1 - psi) * deep + psi * shallow
    x = _cbr(x, head.decoder[0])
    x = _cbr(x, head.decoder[2])
    return F.conv2d(x, head.conv_seg.weight, head.conv_seg.bias)


def test_default_decoder_is_mmseg_deeplabv3plus():
    head = _head()
    assert isinstance(head.aspp_modules, DepthwiseSeparableASPPModule)
    assert head.bottleneck.conv.kernel_size == (3, 3)
    assert isinstance(head.aspp_dropout, nn.Identity)
    assert type(head.dropout) is nn.Dropout2d and head.dropout.p == 0.1
    assert not head.gate.rescale_deep
    assert not head.aspp_norm_eval and not head.reference_init
    head.train()
    assert all(m.training for m in head.modules())


def test_reference_decoder_layout():
    head = _head(**REFERENCE)
    assert isinstance(head.aspp_modules, ASPPModule)
    kernels = [m.conv.kernel_size for m in head.aspp_modules]
    assert kernels == [(1, 1), (3, 3), (3, 3)]
    assert [m.conv.dilation for m in head.aspp_modules][1:] == [(2, 2),
                                                                (3, 3)]
    assert all(m.conv.bias is None for m in head.aspp_modules)
    assert head.bottleneck.conv.kernel_size == (1, 1)
    assert head.bottleneck.conv.in_channels == 4 * 8
    assert type(head.aspp_dropout) is nn.Dropout
    assert head.aspp_dropout.p == 0.5
    assert type(head.dropout) is nn.Dropout and head.dropout.p == 0.1
    assert type(head.decoder[1]) is nn.Dropout and head.decoder[1].p == 0.5
    assert head.gate.rescale_deep
    assert head.align_corners


def test_reference_decoder_matches_the_authors_forward():
    head = _head(**REFERENCE)
    head.init_weights()
    # non-trivial statistics and affine parameters everywhere
    for m in head.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            if m.affine:
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.2, 0.2)
    head.eval()
    inputs = _inputs()
    with torch.no_grad():
        got = head(inputs)
        expected = _reference_forward(head, inputs)
    assert got.shape == (2, 3, 16, 16)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_aspp_statistics_frozen_in_training():
    head = _head(**REFERENCE)
    head.train()
    aspp_norms = head._aspp_norm_layers()
    # image pooling, 3 branches, bottleneck
    assert len(aspp_norms) == 5
    assert all(not m.training for m in aspp_norms)
    assert head.fuse.bn.training and head.decoder[0].bn.training
    assert head.aspp_dropout.training and head.dropout.training
    before = [m.running_mean.clone() for m in aspp_norms]
    fuse_before = head.fuse.bn.running_mean.clone()
    head(_inputs())
    for m, b in zip(aspp_norms, before):
        assert torch.equal(m.running_mean, b)
        assert torch.equal(m.running_mean, torch.zeros_like(b))
    assert not torch.equal(head.fuse.bn.running_mean, fuse_before)
    # affine parameters still learn
    assert all(m.weight.requires_grad for m in aspp_norms)
    head.eval()
    assert not any(m.training for m in head.modules())


def test_element_dropout_before_the_classifier():
    head = _head(dropout_type='element', dropout_ratio=0.5)
    head.train()
    torch.manual_seed(1)
    feats = torch.ones(1, 8, 4, 4)
    dropped = head.dropout(feats)
    zeros = dropped == 0
    # element-wise: some but not all channels of a pixel dropped
    per_channel = zeros.flatten(2).float().mean(-1)
    assert ((per_channel > 0) & (per_channel < 1)).any()
    channel = _head(dropout_ratio=0.5)
    channel.train()
    dropped = channel.dropout(feats)
    per_channel = (dropped == 0).flatten(2).float().mean(-1)
    assert set(per_channel.unique().tolist()) <= {0.0, 1.0}
    assert _head(dropout_type='element', dropout_ratio=0).dropout is None


def test_reference_init_is_kaiming_fan_in():
    head = _head(**REFERENCE, in_channels=256, channels=64)
    head.init_weights()
    w = head.bottleneck.conv.weight  # 1x1, fan_in 4 * 64
    assert w.std().item() == pytest.approx(math.sqrt(2 / (4 * 64)), rel=0.1)
    w = head.aspp_modules[1].conv.weight  # 3x3, fan_in 9 * 256
    assert w.std().item() == pytest.approx(math.sqrt(2 / (9 * 256)), rel=0.1)
    fan_in = head.conv_seg.in_channels
    assert head.conv_seg.weight.std().item() == pytest.approx(
        math.sqrt(2 / fan_in), rel=0.25)
    bound = 1 / math.sqrt(fan_in)  # PyTorch's default bias
    assert head.conv_seg.bias.abs().max().item() <= bound
    assert head.conv_seg.bias.abs().max().item() > 0
    default = _head(in_channels=256, channels=64)
    default.init_weights()
    assert default.conv_seg.weight.std().item() == pytest.approx(0.01,
                                                                 rel=0.25)


def test_reference_head_trains_and_predicts():
    head = _head(**REFERENCE)
    head.init_weights()
    head.train()
    out = head(_inputs())
    out.sum().backward()
    assert head.aspp_modules[0].bn.weight.grad is not None
    head.eval()
    with torch.no_grad():
        a, b = head(_inputs()), head(_inputs())
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize('kwargs', [
    dict(aspp_type='atrous'),
    dict(dropout_type='spatial'),
    dict(aspp_dropout=1.0),
])
def test_invalid_options(kwargs):
    with pytest.raises(ValueError):
        _head(**kwargs)
