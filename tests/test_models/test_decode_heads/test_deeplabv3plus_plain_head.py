"""DeepLabV3PlusPlainHead: the DeepLabV3+ decoder of Context-Aware
Consistency (dvlab-research/Context-Aware-Consistency ``models/modeling/
aspp.py``, ``decoder.py``, the classifier of ``models/model.py``): plain
ASPP (rates 1-6-12-18 + image pooling, 1x1 projection, Dropout(0.5)), skip
256 -> 48, two plain 3x3 convs with Dropout(0.5) between, element-wise
Dropout(0.1) + 1x1 classifier, align_corners=True, Kaiming fan_in init."""
import math
from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

import mmseg_weak  # noqa: F401
from mmseg_weak.models.segmentors.context_aware_consistency import \
    decoder_features

torch.set_num_threads(1)


def _head(**kwargs):
    cfg = dict(
        type='DeepLabV3PlusPlainHead',
        in_channels=16,
        in_index=3,
        channels=8,
        dilations=(1, 2, 3),
        c1_in_channels=4,
        c1_channels=3,
        num_classes=5,
        norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _inputs(batch=2, c1=4, c4=16):
    torch.manual_seed(0)
    return [
        torch.randn(batch, c1, 16, 16),
        torch.randn(batch, 6, 8, 8),
        torch.randn(batch, 10, 4, 4),
        torch.randn(batch, c4, 4, 4)
    ]


def _cbr(x, module, **conv_kwargs):
    """Eval-mode ConvModule: conv (no bias) -> BN with its statistics ->
    ReLU, with plain torch ops."""
    assert module.conv.bias is None
    x = F.conv2d(x, module.conv.weight, **conv_kwargs)
    bn = module.bn
    x = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                     False, 0.0, bn.eps)
    return F.relu(x)


def _up(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


def _authors_forward(head, inputs):
    """The authors' eval-mode forward written out with the head's weights:
    atrous branches then image pooling, 1x1 projection, ASPP output resized
    (align_corners=True) and concatenated before the 48-channel skip, two
    3x3 convs, classifier."""
    x = inputs[3]
    branches = [
        _cbr(x, m, padding=0 if d == 1 else d, dilation=d)
        for m, d in zip(head.aspp_modules, head.dilations)
    ]
    pooled = _cbr(F.adaptive_avg_pool2d(x, 1), head.image_pool[1])
    branches.append(_up(pooled, x.shape[2:]))
    aspp = _cbr(torch.cat(branches, 1), head.bottleneck)
    skip = _cbr(inputs[0], head.c1_bottleneck)
    y = torch.cat([_up(aspp, skip.shape[2:]), skip], 1)
    y = _cbr(y, head.decoder[0], padding=1)
    y = _cbr(y, head.decoder[2], padding=1)
    return F.conv2d(y, head.conv_seg.weight, head.conv_seg.bias)


def _randomise_bn(head):
    torch.manual_seed(1)
    for m in head.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def test_shapes_and_registered():
    head = _head()
    head.eval()
    inputs = _inputs()
    with torch.no_grad():
        feats = head._forward_feature(inputs)
        out = head(inputs)
    assert feats.shape == (2, 8, 16, 16)  # stride of inputs[0]
    assert out.shape == (2, 5, 16, 16)
    assert head.align_corners is True
    assert head.dilations == (1, 2, 3)


def test_equals_the_authors_forward():
    head = _head()
    _randomise_bn(head)
    head.eval()
    inputs = _inputs()
    with torch.no_grad():
        expected = _authors_forward(head, inputs)
        torch.testing.assert_close(head(inputs), expected)


def test_layer_structure_is_the_authors():
    """aspp.py: 1x1 for rate 1, 3x3 with padding = dilation = rate else, all
    bias-free + BN + ReLU; 1x1 projection of the 5 x 256 concatenation;
    decoder.py: 1x1 skip conv, 3x3 (304 -> 256), Dropout(0.5), 3x3;
    model.py: Dropout(0.1) (element-wise) + 1x1 conv with bias."""
    head = _head(
        in_channels=2048,
        channels=256,
        dilations=(1, 6, 12, 18),
        c1_in_channels=256,
        c1_channels=48,
        num_classes=21)
    convs = [m.conv for m in head.aspp_modules]
    assert [c.kernel_size for c in convs] == [(1, 1)] + [(3, 3)] * 3
    assert [c.dilation[0] for c in convs] == [1, 6, 12, 18]
    assert [c.padding[0] for c in convs] == [0, 6, 12, 18]
    assert isinstance(head.image_pool[0], nn.AdaptiveAvgPool2d)
    assert head.image_pool[0].output_size == 1
    assert head.image_pool[1].conv.kernel_size == (1, 1)
    assert head.bottleneck.conv.kernel_size == (1, 1)
    assert head.bottleneck.conv.in_channels == 1280
    assert type(head.aspp_dropout) is nn.Dropout
    assert head.aspp_dropout.p == 0.5
    assert head.c1_bottleneck.conv.kernel_size == (1, 1)
    assert (head.c1_bottleneck.conv.in_channels,
            head.c1_bottleneck.conv.out_channels) == (256, 48)
    first, drop, second = head.decoder
    assert first.conv.kernel_size == second.conv.kernel_size == (3, 3)
    assert first.conv.padding == second.conv.padding == (1, 1)
    assert (first.conv.in_channels, first.conv.out_channels) == (304, 256)
    assert (second.conv.in_channels, second.conv.out_channels) == (256, 256)
    assert type(drop) is nn.Dropout and drop.p == 0.5
    assert type(head.dropout) is nn.Dropout and head.dropout.p == 0.1
    assert head.conv_seg.kernel_size == (1, 1)
    assert head.conv_seg.bias is not None
    for name, m in head.named_modules():
        if isinstance(m, nn.Conv2d) and m is not head.conv_seg:
            assert m.bias is None, name
            assert m.groups == 1, name  # plain, not depthwise
    # no depthwise separable module anywhere
    assert not any('Separable' in type(m).__name__ for m in head.modules())


def test_parameter_counts_are_the_authors():
    """Counted by hand from aspp.py / decoder.py / model.py for ResNet-50
    (2048 -> 256 channels, low-level 256 -> 48, 21 classes); BN: 2 x
    channels parameters."""
    head = _head(
        in_channels=2048,
        channels=256,
        dilations=(1, 6, 12, 18),
        c1_in_channels=256,
        c1_channels=48,
        num_classes=21)

    def count(*modules):
        return sum(p.numel() for m in modules for p in m.parameters())

    bn256 = 2 * 256
    aspp1 = 2048 * 256 + bn256  # 524,800
    aspp_atrous = 2048 * 256 * 9 + bn256  # 4,719,104 each
    global_pool = 2048 * 256 + bn256  # 524,800
    projection = 1280 * 256 + bn256  # 328,192
    assert count(head.aspp_modules) == aspp1 + 3 * aspp_atrous
    assert count(head.image_pool) == global_pool
    assert count(head.bottleneck) == projection
    aspp_total = aspp1 + 3 * aspp_atrous + global_pool + projection
    assert aspp_total == 15_535_104
    skip = 256 * 48 + 2 * 48  # 12,384
    last_conv = (304 * 256 * 9 + bn256) + (256 * 256 * 9 + bn256)
    assert count(head.c1_bottleneck) == skip
    assert count(head.decoder) == last_conv
    assert skip + last_conv == 1_303_648
    classifier = 256 * 21 + 21
    assert count(head.conv_seg) == classifier == 5_397
    assert count(head) == aspp_total + skip + last_conv + classifier


def test_forward_is_cls_seg_of_forward_feature():
    head = _head()
    head.eval()
    inputs = _inputs()
    with torch.no_grad():
        feats = head._forward_feature(inputs)
        torch.testing.assert_close(head(inputs), head.cls_seg(feats))
        # what the CAC segmentor's projector gets
        torch.testing.assert_close(decoder_features(head, inputs), feats)
    with mock.patch.object(
            head, '_forward_feature', return_value=feats) as forward_feature:
        with mock.patch.object(
                head, 'cls_seg', wraps=head.cls_seg) as cls_seg:
            head(inputs)
    forward_feature.assert_called_once_with(inputs)
    assert cls_seg.call_args[0][0] is feats


def test_dropout_in_train_not_in_eval():
    head = _head(channels=32, c1_channels=8)
    inputs = _inputs()
    head.train()
    torch.manual_seed(0)
    a = head(inputs)
    b = head(inputs)
    assert not torch.allclose(a, b)
    # element-wise, not channel-wise: a few elements of a channel dropped
    feats = torch.ones(2, 32, 16, 16)
    dropped = (head.dropout(feats) == 0).float().mean(dim=(2, 3))
    assert ((dropped > 0) & (dropped < 1)).all()
    head.eval()
    with torch.no_grad():
        torch.testing.assert_close(head(inputs), head(inputs))
        torch.testing.assert_close(head.dropout(feats), feats)
    # without the dropouts the train-mode forward is deterministic
    quiet = _head(
        aspp_dropout=0, decoder_dropout=0, dropout_ratio=0,
        channels=32, c1_channels=8)
    quiet.train()
    torch.testing.assert_close(quiet(inputs), quiet(inputs))
    assert quiet.dropout is None
    assert isinstance(quiet.aspp_dropout, nn.Identity)
    assert isinstance(quiet.decoder[1], nn.Identity)


def test_channel_dropout_option():
    head = _head(dropout_type='channel')
    assert type(head.dropout) is nn.Dropout2d and head.dropout.p == 0.1
    with pytest.raises(ValueError, match='dropout_type'):
        _head(dropout_type='spatial')
    with pytest.raises(ValueError, match='dropout rates'):
        _head(aspp_dropout=1.0)


def test_reference_init_is_kaiming_fan_in():
    """_init_weight / model.py: kaiming_normal_ (fan_in, gain sqrt(2)) on
    every conv, BN weight 1 and bias 0; the classifier's bias PyTorch's
    default uniform(+-1/sqrt(fan_in))."""
    torch.manual_seed(0)
    head = _head(
        in_channels=512,
        channels=64,
        dilations=(1, 6),
        c1_in_channels=64,
        c1_channels=48,
        num_classes=21)
    for m in (head.aspp_modules[1].conv, head.decoder[0].conv):
        fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        assert m.weight.std().item() == pytest.approx(
            math.sqrt(2 / fan_in), rel=0.05)
    fan_in = head.conv_seg.in_channels
    assert head.conv_seg.weight.std().item() == pytest.approx(
        math.sqrt(2 / fan_in), rel=0.1)
    bias = head.conv_seg.bias
    assert bias.abs().max() <= 1 / math.sqrt(fan_in)
    assert bias.abs().max() > 0
    for m in head.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight == 1).all() and (m.bias == 0).all()
    # a second init_weights call (e.g. after loading weights) is a no-op
    before = head.conv_seg.weight.clone()
    head.init_weights()
    torch.testing.assert_close(head.conv_seg.weight, before)
    # MMSeg's initialisation without reference_init: fan_out, N(0, 0.01)
    mmseg = _head(
        in_channels=512,
        channels=64,
        dilations=(1, 6),
        c1_in_channels=64,
        c1_channels=48,
        num_classes=21,
        reference_init=False)
    conv = mmseg.aspp_modules[1].conv
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / (64 * 9)), rel=0.05)
    assert (mmseg.conv_seg.bias == 0).all()


def test_loss_with_the_authors_head_trains():
    head = _head()
    head.train()
    inputs = _inputs()
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, 64, 64)))
        s.set_metainfo(dict(img_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(s)
    losses = head.loss(inputs, samples, dict())
    losses['loss_ce'].backward()
    assert head.aspp_modules[0].conv.weight.grad is not None
    assert head.c1_bottleneck.conv.weight.grad is not None
