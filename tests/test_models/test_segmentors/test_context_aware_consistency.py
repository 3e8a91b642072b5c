"""ContextAwareConsistency (Lai et al., CVPR 2021): overlap cropping of the
views' features, the rows handed to the DC loss, warm-up, gradients, the
image-label classifier C_w and EncoderDecoder inference."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.logging import MessageHub
from mmengine.structures import PixelData
from mmseg.registry import MODELS, TRANSFORMS
from mmseg.structures import SegDataSample
from torch import nn

from mmseg_weak.models.decode_heads import PixelClassifierHead
from mmseg_weak.models.segmentors import ContextAwareConsistency
from mmseg_weak.models.segmentors.context_aware_consistency import (
    decoder_features, overlap_rows, sigmoid_rampup)

torch.set_num_threads(2)
NUM_CLASSES = 4
VIEW = 32  # view / crop size, a multiple of the stride 8

BACKBONE = dict(
    type='ResNetV1c',
    depth=18,
    stem_channels=8,
    base_channels=8,
    out_indices=(0, 1, 2, 3),
    dilations=(1, 1, 2, 4),
    strides=(1, 2, 1, 1),
    norm_cfg=dict(type='BN'))
SEP_ASPP = dict(
    type='DepthwiseSeparableASPPFeatureHead',
    in_channels=64,
    in_index=3,
    channels=16,
    dilations=(1, 2),
    c1_in_channels=8,
    c1_channels=4,
    num_classes=NUM_CLASSES,
    norm_cfg=dict(type='BN'))
# the authors' plain DeepLabV3+ decoder (paper configs)
PLAIN = dict(SEP_ASPP, type='DeepLabV3PlusPlainHead')
PSP = dict(
    type='PSPHead',
    in_channels=64,
    in_index=3,
    channels=16,
    pool_scales=(1, 2),
    num_classes=NUM_CLASSES,
    norm_cfg=dict(type='BN'))
SEG_PRE = dict(
    type='SegDataPreProcessor',
    mean=[100.0, 110.0, 120.0],
    std=[50.0, 60.0, 70.0],
    bgr_to_rgb=True,
    size_divisor=8)


def _cfg(head=SEP_ASPP, pool=True, weak=False, **kwargs):
    cfg = dict(
        type='ContextAwareConsistency',
        data_preprocessor=dict(
            type='mmdet.MultiBranchDataPreprocessor',
            data_preprocessor=SEG_PRE),
        backbone=BACKBONE,
        decode_head=head,
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=32,
            in_index=2,
            channels=8,
            num_convs=1,
            num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        projector=dict(type='Projector', in_channels=16, pool=pool),
        # gamma 0 and no sampling: every overlap pixel is an anchor of one
        # direction, the loss is deterministic
        loss_dc=dict(
            type='DirectionalContrastiveLoss',
            pos_thresh=0.0,
            num_negatives=None,
            memory_bank_size=0),
        test_cfg=ConfigDict(mode='whole'))
    if weak:
        cfg['weak_head'] = dict(
            type='PixelClassifierHead',
            in_channels=16,
            num_classes=NUM_CLASSES,
            dropout_ratio=0.,
            loss_decode=dict(
                type='CrossEntropyLoss', loss_weight=0.4,
                loss_name='loss_weak'))
    cfg.update(kwargs)
    return cfg


def _model(**kwargs) -> ContextAwareConsistency:
    torch.manual_seed(0)
    return MODELS.build(_cfg(**kwargs))


def _set_iter(step: int) -> None:
    MessageHub.get_current_instance().update_info('iter', step)


@pytest.fixture(autouse=True)
def _reset_iter():
    hub = MessageHub.get_current_instance()
    saved = hub.get_info('iter')
    yield
    hub.update_info('iter', saved)


def _sample(path, size, box=None, flip=False, supervision='full', seg=None):
    s = SegDataSample()
    if seg is None:
        seg = torch.randint(0, NUM_CLASSES, (1, size, size))
    s.gt_sem_seg = PixelData(data=seg)
    meta = dict(img_path=path, img_shape=(size, size), ori_shape=(size, size),
                pad_shape=(size, size), supervision=supervision)
    if box is not None:
        meta.update(overlap_box=box, flip=flip)
    s.set_metainfo(meta)
    return s


#: two unlabeled images: per view the window origin (x, y) in the source
#: image and the flip; views are VIEW x VIEW
GEOMETRY = [(((8, 0), False), ((0, 8), True)),
            (((0, 0), True), ((16, 8), False))]


def _overlap_box(windows, index, flip):
    """Overlap of the two windows in view ``index``'s pixels after its
    flip."""
    x1 = max(w[0] for w in windows)
    y1 = max(w[1] for w in windows)
    x2 = min(w[0] for w in windows) + VIEW
    y2 = min(w[1] for w in windows) + VIEW
    ox, oy = windows[index]
    box = [x1 - ox, y1 - oy, x2 - ox, y2 - oy]
    if flip:
        box[0], box[2] = VIEW - box[2], VIEW - box[0]
    return tuple(box)


def _batch(num_unlabeled=2, view_supervision='unlabeled', seed=0):
    """A multi-branch batch as MultiBranchDataPreprocessor outputs it: 2
    labeled VIEW x VIEW images and ``num_unlabeled`` pairs of views."""
    g = torch.Generator().manual_seed(seed)
    samples = dict(sup=[_sample(f'l{i}', VIEW) for i in range(2)],
                   view1=[], view2=[])
    for i in range(num_unlabeled):
        geometry = GEOMETRY[i % 2]
        windows = [origin for origin, _ in geometry]
        for v, (_, flip) in enumerate(geometry):
            seg = None if view_supervision == 'pseudo_mask' else torch.full(
                (1, VIEW, VIEW), 255)
            samples[f'view{v + 1}'].append(
                _sample(f'u{i}', VIEW, _overlap_box(windows, v, flip), flip,
                        view_supervision, seg))
    inputs = dict(
        sup=torch.randn(2, 3, VIEW, VIEW, generator=g),
        view1=torch.randn(num_unlabeled, 3, VIEW, VIEW, generator=g),
        view2=torch.randn(num_unlabeled, 3, VIEW, VIEW, generator=g))
    return inputs, samples


class _SpyLoss(nn.Module):
    """Records its arguments; returns a differentiable function of feat1."""
    loss_name = 'loss_dc'

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, feat1, feat2, logits1, logits2, neg_feats, neg_labels):
        self.calls.append(
            dict(feat1=feat1, feat2=feat2, logits1=logits1, logits2=logits2,
                 neg_feats=neg_feats, neg_labels=neg_labels))
        return feat1.sum() * 0 + 1.5


# ---------------------------------------------------------------- features
@pytest.mark.parametrize('head', [SEP_ASPP, PLAIN, PSP])
def test_decoder_features_are_the_classifier_input(head):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='EncoderDecoder', backbone=BACKBONE,
                              decode_head=head)).eval()
    x = model.extract_feat(torch.randn(2, 3, VIEW, VIEW))
    feats = decoder_features(model.decode_head, x)
    assert feats.shape[1] == 16
    # stride 4 for DeepLabV3+ (c1 branch), 8 for PSPNet
    assert feats.shape[-1] == VIEW // (8 if head is PSP else 4)
    torch.testing.assert_close(
        model.decode_head.cls_seg(feats), model.decode_head(x))


def test_sep_aspp_feature_head_equals_mmseg_head():
    """Same parameters and output as MMSeg's DepthwiseSeparableASPPHead."""
    torch.manual_seed(0)
    ours = MODELS.build(SEP_ASPP).eval()
    theirs = MODELS.build(dict(SEP_ASPP,
                               type='DepthwiseSeparableASPPHead')).eval()
    theirs.load_state_dict(ours.state_dict())
    model = MODELS.build(dict(type='EncoderDecoder', backbone=BACKBONE,
                              decode_head=SEP_ASPP)).eval()
    x = model.extract_feat(torch.randn(2, 3, VIEW, VIEW))
    torch.testing.assert_close(ours(x), theirs(x))


def test_decoder_features_rejects_heads_without_feature_method():

    class Odd(nn.Module):
        channels = 16

        def forward(self, inputs):
            return inputs[0]

    with pytest.raises(TypeError, match='has no _forward_feature'):
        decoder_features(Odd(), [torch.zeros(1, 16, 2, 2)])
    plain = MODELS.build(dict(SEP_ASPP, type='DepthwiseSeparableASPPHead'))
    with pytest.raises(TypeError, match='DepthwiseSeparableASPPFeatureHead'):
        decoder_features(plain, [torch.zeros(1, 16, 2, 2)])


# ------------------------------------------------------- overlap cropping
def _coordinate_image(h, w):
    """uint8 BGR-like image whose channels hold (y, x, 0)."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing='ij')
    return np.stack([yy, xx, np.zeros_like(yy)], -1).astype(np.uint8)


@pytest.mark.parametrize('seed', range(6))
def test_overlap_rows_map_the_same_source_pixels(seed):
    """Real OverlappingCropPair + SelectCropView on an image encoding its
    coordinates; 'features' = 8x8 cell means of the views. The rows taken
    from both views hold the same source coordinates, cell by cell."""
    np.random.seed(seed)
    pair = TRANSFORMS.build(
        dict(type='OverlappingCropPair', crop_size=(24, 40),
             iou_range=(0.1, 0.9), stride=8))
    views = [
        TRANSFORMS.build(dict(type='SelectCropView', index=i, flip_prob=0.5))
        for i in (0, 1)
    ]
    img = _coordinate_image(70, 100)
    results = pair(dict(img=img, img_path=f'img{seed}'))
    maps, samples = [], []
    for view in views:
        out = view(copy.deepcopy(results))
        coords = torch.from_numpy(out['img'][..., :2].astype(np.float32))
        maps.append(F.avg_pool2d(coords.permute(2, 0, 1)[None], 8))
        s = SegDataSample()
        s.set_metainfo(dict(img_path=out['img_path'],
                            overlap_box=out['overlap_box'], flip=out['flip']))
        samples.append(s)
    rows1, n1 = overlap_rows(maps[0], [samples[0]], 8)
    rows2, n2 = overlap_rows(maps[1], [samples[1]], 8)
    assert n1 == n2 and n1[0] > 0
    torch.testing.assert_close(rows1, rows2)
    # and they are the overlap cells of the source image, row-major
    x1, y1 = (max(w[i] for w in results['crop_pair_windows'])
              for i in (0, 1))
    first = torch.tensor([y1 + 3.5, x1 + 3.5], dtype=torch.float32)
    torch.testing.assert_close(rows1[0], first)


def test_overlap_rows_hand_example():
    # one 1-channel 2x4 map (stride 8 -> a 16x32 view) holding 0..7
    maps = torch.arange(8.).reshape(1, 1, 2, 4)
    s = SegDataSample()
    s.set_metainfo(dict(overlap_box=(8, 0, 24, 16), flip=False))
    rows, counts = overlap_rows(maps, [s], 8)
    assert counts == [4]
    assert rows.squeeze(1).tolist() == [1., 2., 5., 6.]
    s.set_metainfo(dict(overlap_box=(16, 8, 32, 16), flip=True))
    rows, _ = overlap_rows(maps, [s], 8)
    assert rows.squeeze(1).tolist() == [7., 6.]


def test_overlap_rows_bad_boxes_raise_naming_the_image():
    maps = torch.zeros(1, 2, 4, 4)
    s = SegDataSample()
    s.set_metainfo(dict(img_path='a.jpg', overlap_box=(4, 0, 16, 16),
                        flip=False))
    with pytest.raises(ValueError, match='a.jpg.*stride-8'):
        overlap_rows(maps, [s], 8)
    s.set_metainfo(dict(overlap_box=(0, 0, 40, 16)))
    with pytest.raises(ValueError, match='a.jpg.*outside'):
        overlap_rows(maps, [s], 8)
    t = SegDataSample()
    t.set_metainfo(dict(img_path='b.jpg'))
    with pytest.raises(KeyError, match='b.jpg: no overlap_box'):
        overlap_rows(maps, [t], 8)


# ------------------------------------------------------ rows to the loss
def test_dc_loss_gets_the_overlap_rows_and_all_pixels_as_negatives():
    """Projections whose channels are (image, source row, source column) of
    each stride-8 cell: the rows handed to the loss agree between the
    views, are exactly the overlap cells, and the negatives are every pixel
    of every view."""
    model = _model()
    spy = _SpyLoss()
    model.loss_dc = spy
    _, samples = _batch()
    views = [samples['view1'], samples['view2']]
    cells = VIEW // 8
    proj, logits = [], []
    for v in range(2):
        p = torch.zeros(2, 3, cells, cells)
        for i, geometry in enumerate(GEOMETRY):
            (ox, oy), flip = geometry[v]
            cols = torch.arange(cells - 1, -1, -1.) if flip else \
                torch.arange(float(cells))
            p[i, 0] = i
            p[i, 1] = oy // 8 + torch.arange(float(cells))[:, None]
            p[i, 2] = ox // 8 + cols[None, :]
        proj.append(p)
        logits.append(torch.randn(2, NUM_CLASSES, cells, cells))
    out = model.dc_loss(proj, logits, views)
    assert out.item() == pytest.approx(0.1 * 1.5)  # dc_weight
    call = spy.calls[0]
    torch.testing.assert_close(call['feat1'], call['feat2'])
    # image 0 overlaps in source cells rows 1-3 x cols 1-3, image 1 in rows
    # 1-3 x cols 2-3, row-major
    expected = [(0., r, c) for r in (1, 2, 3) for c in (1, 2, 3)] + \
        [(1., r, c) for r in (1, 2, 3) for c in (2, 3)]
    assert [tuple(row) for row in call['feat1'].tolist()] == expected
    # logits rows: the same cells of the logit maps
    for v, key in enumerate(('logits1', 'logits2')):
        flat = logits[v].permute(0, 2, 3, 1).reshape(-1, NUM_CLASSES)
        src = proj[v].permute(0, 2, 3, 1).reshape(-1, 3).tolist()
        index = [src.index(list(row)) for row in expected]
        torch.testing.assert_close(call[key], flat[index])
    # negatives: all B*h*w pixels of each view, labels = argmax
    for v in range(2):
        torch.testing.assert_close(
            call['neg_feats'][v], proj[v].permute(0, 2, 3, 1).reshape(-1, 3))
        torch.testing.assert_close(call['neg_labels'][v],
                                   logits[v].argmax(1).reshape(-1))


def test_different_overlap_sizes_raise():
    model = _model()
    _, samples = _batch()
    samples['view2'][0].set_metainfo(dict(overlap_box=(0, 8, 8, 24)))
    proj = [torch.zeros(2, 3, 4, 4)] * 2
    with pytest.raises(ValueError, match="differ in size for \\['u0'\\]"):
        model.dc_loss(proj, proj, [samples['view1'], samples['view2']])


# ------------------------------------------------ warm-up and gradients
def test_warmup_trains_the_supervised_loss_only(monkeypatch):
    model = _model(warmup_iters=5, weak=True)
    inputs, samples = _batch()
    seen = []
    monkeypatch.setattr(model, 'unlabeled_features',
                        lambda x: seen.append(x) or None)
    _set_iter(4)
    losses = model.loss(inputs, samples)
    assert not seen  # views not even forwarded
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg',
                           'aux.loss_ce', 'aux.acc_seg', 'loss_dc'}
    assert losses['loss_dc'].item() == 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    # DDP-safe: projector and C_w get zero gradients, not None
    for module in (model.projector, model.weak_head):
        for p in module.parameters():
            assert p.grad is not None and not p.grad.any()
    monkeypatch.undo()
    _set_iter(5)
    losses = model.loss(inputs, samples)
    assert losses['loss_dc'].item() > 0


def test_warmup_reads_the_runner_iteration():
    model = _model(warmup_iters=3)
    MessageHub.get_current_instance().update_info('iter', 2)
    assert not model.unlabeled_losses_enabled()
    MessageHub.get_current_instance().update_info('iter', 3)
    assert model.unlabeled_losses_enabled()
    assert _model().unlabeled_losses_enabled()  # no warm-up by default


def test_dc_gradient_reaches_backbone_not_main_classifier():
    model = _model()
    _set_iter(0)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    loss = losses['loss_dc']
    assert loss.item() > 0
    loss.backward()
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    assert model.decode_head.sep_bottleneck[0].depthwise_conv.conv \
        .weight.grad.abs().sum() > 0
    assert model.projector.mlp[0].weight.grad.abs().sum() > 0
    # logits only give confidence / pseudo-labels: no gradient to C
    assert model.decode_head.conv_seg.weight.grad is None


def test_dc_gradient_with_the_plain_deeplabv3plus_head():
    """The paper configs' head: the DC loss reaches its ASPP and decoder
    convs, the supervised CE its classifier."""
    model = _model(head=PLAIN)
    _set_iter(0)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    assert set(losses) >= {'decode.loss_ce', 'loss_dc'}
    losses['loss_dc'].backward()
    head = model.decode_head
    for conv in (head.aspp_modules[1].conv, head.bottleneck.conv,
                 head.c1_bottleneck.conv, head.decoder[2].conv):
        assert conv.weight.grad.abs().sum() > 0
    assert head.conv_seg.weight.grad is None
    losses['decode.loss_ce'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0


def test_dc_loss_matches_a_direct_computation():
    """The segmentor's loss_dc equals 0.1 x the DC loss evaluated on the
    overlap rows taken by hand (same model, eval mode: no dropout)."""
    from mmseg_weak.models.losses.directional_contrastive_loss import \
        directional_contrastive_loss
    model = _model().eval()  # BN / dropout deterministic
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    p, lg = [], []
    for v in ('view1', 'view2'):
        x = model.extract_feat(inputs[v])
        feats = decoder_features(model.decode_head, x)
        pooled = F.avg_pool2d(feats, 2)
        p.append(model.projector(feats))
        lg.append(model.decode_head.conv_seg(pooled))
    rows = [overlap_rows(t, samples[v], 8)[0]
            for t, v in zip(p + lg, ['view1', 'view2'] * 2)]
    negs = torch.cat([t.permute(0, 2, 3, 1).reshape(-1, 128) for t in p])
    labels = torch.cat([t.argmax(1).reshape(-1) for t in lg])
    expected = directional_contrastive_loss(rows[0], rows[1], rows[2],
                                            rows[3], negs, labels,
                                            pos_thresh=0.0)
    torch.testing.assert_close(losses['loss_dc'], 0.1 * expected)


def test_stride_mismatch_is_reported():
    model = _model(feature_stride=16)
    inputs, samples = _batch()
    with pytest.raises(ValueError, match='feature_stride 16'):
        model.loss(inputs, samples)
    # PSPNet features have stride 8 already: pooling them gives 16
    model = _model(head=PSP, pool=True)
    with pytest.raises(ValueError, match='must be 4x4'):
        model.loss(inputs, samples)


def test_batch_errors_are_clear():
    model = _model()
    inputs, samples = _batch()
    with pytest.raises(TypeError, match='MultiBranchDataPreprocessor'):
        model.loss(inputs['sup'], samples['sup'])
    del inputs['view2']
    with pytest.raises(KeyError, match="no 'view2' branch"):
        model.loss(inputs, samples)
    inputs, samples = _batch()
    samples['view2'][1].set_metainfo(dict(img_path='other'))
    with pytest.raises(ValueError, match='different images'):
        model.loss(inputs, samples)


def test_projector_width_must_match_decoder():
    cfg = _cfg()
    cfg['projector']['in_channels'] = 8
    with pytest.raises(ValueError, match='projector in_channels=8'):
        MODELS.build(cfg)


# ------------------------------------------------------------ inference
def test_predict_equals_encoder_decoder_and_ignores_extra_heads(monkeypatch):
    model = _model(weak=True).eval()
    plain_cfg = _cfg()
    for key in ('projector', 'loss_dc'):
        plain_cfg.pop(key)
    plain_cfg.update(type='EncoderDecoder', data_preprocessor=SEG_PRE)
    plain = MODELS.build(plain_cfg).eval()
    state = model.state_dict()
    missing = plain.load_state_dict(
        {k: v for k, v in state.items() if k in plain.state_dict()},
        strict=False)
    assert not [
        k for k in missing.missing_keys if 'data_preprocessor' not in k
    ]
    assert any(k.startswith('projector.') for k in state)
    assert any(k.startswith('weak_head.') for k in state)

    def boom(*args, **kwargs):
        raise AssertionError('C_w / projector used at inference')

    monkeypatch.setattr(model.weak_head, 'forward', boom)
    monkeypatch.setattr(model.projector, 'forward', boom)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8)],
        data_samples=[_sample('t', 40, seg=torch.zeros(1, 40, 48))])
    data['data_samples'][0].set_metainfo(
        dict(img_shape=(40, 48), ori_shape=(40, 48)))
    out = model.test_step(copy.deepcopy(data))  # MultiBranch, test mode
    ref = plain.test_step(copy.deepcopy(data))
    torch.testing.assert_close(out[0].seg_logits.data,
                               ref[0].seg_logits.data)
    torch.testing.assert_close(out[0].pred_sem_seg.data,
                               ref[0].pred_sem_seg.data)


# ------------------------------------------- image-label extension (C_w)
def test_sigmoid_rampup_values():
    assert sigmoid_rampup(0, 10) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(5, 10) == pytest.approx(math.exp(-1.25))
    assert sigmoid_rampup(10, 10) == 1.0
    assert sigmoid_rampup(99, 10) == 1.0
    assert sigmoid_rampup(3, 0) == 1.0


def test_pixel_classifier_head_is_a_1x1_conv():
    torch.manual_seed(0)
    head = PixelClassifierHead(in_channels=5, num_classes=3,
                               dropout_ratio=0.)
    x = torch.randn(2, 5, 3, 4)
    expected = torch.einsum('kc,bchw->bkhw', head.conv_seg.weight[:, :, 0, 0],
                            x) + head.conv_seg.bias[:, None, None]
    torch.testing.assert_close(head(x), expected)
    torch.testing.assert_close(head([x]), expected)
    with pytest.raises(ValueError, match=r'\(B, 5, H, W\)'):
        head(torch.randn(2, 4, 3, 3))
    with pytest.raises(TypeError, match='not channels'):
        PixelClassifierHead(in_channels=5, channels=5, num_classes=3)


@pytest.mark.parametrize('step,rampup', [(0, 0), (2, 8)])
def test_weak_loss_is_ce_of_cw_on_pseudo_mask_views(step, rampup):
    model = _model(weak=True, weak_rampup_iters=rampup).eval()
    _set_iter(step)
    inputs, samples = _batch(view_supervision='pseudo_mask')
    samples['view2'][1].set_metainfo(dict(supervision='unlabeled'))
    losses = model.loss(inputs, samples)
    # oracle: 0.4 * mean CE over the 3 pseudo-mask views, logits of C_w on
    # the decoder features bilinearly upsampled to the mask
    picked = [(inputs['view1'], samples['view1'], [0, 1]),
              (inputs['view2'], samples['view2'], [0])]
    logits, targets = [], []
    for x, s, idx in picked:
        feats = decoder_features(model.decode_head, model.extract_feat(x))
        lg = F.conv2d(feats[idx], model.weak_head.conv_seg.weight,
                      model.weak_head.conv_seg.bias)
        logits.append(F.interpolate(lg, size=(VIEW, VIEW), mode='bilinear',
                                    align_corners=False))
        targets += [s[i].gt_sem_seg.data for i in idx]
    ce = F.cross_entropy(torch.cat(logits), torch.cat(targets).long(),
                         ignore_index=255)
    ramp = math.exp(-5 * (1 - step / rampup)**2) if rampup else 1.0
    torch.testing.assert_close(losses['weak.loss_weak'], 0.4 * ramp * ce)
    assert 'weak.acc_seg' in losses


def test_weak_head_gets_zero_gradient_without_pseudo_masks():
    model = _model(weak=True)
    inputs, samples = _batch()  # views are 'unlabeled'
    losses = model.loss(inputs, samples)
    assert losses['weak.loss_weak'].item() == 0
    losses['weak.loss_weak'].backward()
    assert all(p.grad is not None and not p.grad.any()
               for p in model.weak_head.parameters())


# ------------------------------------------------- configs with the DC loss
@pytest.mark.parametrize('config', [
    'configs/cac/cac_pspnet_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py',
])
def test_configs_train_past_the_warmup(config, voc_root, cityscapes_root,
                                       tmp_path):
    """The PSPNet config trains 2 iterations on tiny crops with the DC loss
    on (small backbone; the DeepLabV3+ configs, the weak-head config and
    Cityscapes are trained past their warm-up in
    tests/test_configs/test_configs_train.py)."""
    from config_utils import tiny_config
    from mmengine.runner import Runner
    cfg = tiny_config(config, voc_root, str(tmp_path),
                      cityscapes_root=cityscapes_root,
                      small_backbone_channels=16)
    cfg.model.warmup_iters = 0
    cfg.model.loss_dc.pos_thresh = 0.0  # anchors even for an untrained model
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert scalars['train/loss_dc'].current() > 0
    if 'weak_head' in cfg.model:
        assert scalars['train/weak.loss_weak'].current() > 0
