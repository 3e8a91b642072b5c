"""The configs that name a table of a paper train like the authors' code.

Each test loads the resolved config (mmengine ``Config``, no training) and
checks it against the values of the reference implementation, quoted with
the file they come from, so that config and reference cannot drift apart
again; the MMSeg-standard alternatives are the ``-mmseg`` variants. One
model per changed architecture is built on CPU and run on a 1x3x64x64 input
to prove the configs are valid.

- Single-stage WSSS (Araslanov & Roth, CVPR 2020): visinf/1-stage-wseg;
- Context-aware consistency (Lai et al., CVPR 2021):
  dvlab-research/Context-Aware-Consistency;
- Pseudo-mask Matters (Li et al., ICCV 2021): Eli-YiLi/PMM (pseudo-mask
  presets of tools/generate_pseudo_masks.py, the cyclic round of
  configs/pmm/pspnet_voc.py).
"""
import copy
import functools
import glob
import os.path as osp

import pytest
import torch
from config_utils import header_comment
from mmengine.config import Config
from mmseg.registry import MODELS

import mmseg_weak  # noqa: F401

torch.set_num_threads(2)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TORCHVISION = 'https://download.pytorch.org/models/resnet{}-{}.pth'
TORCHVISION_HASH = {50: '19c8e357', 101: '5d3b4d8f'}


@functools.lru_cache(maxsize=None)
def _cfg(path):
    """The resolved config (cached: the tests only read it)."""
    return Config.fromfile(osp.join(ROOT, path))


def _configs(pattern):
    return sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, pattern), recursive=True))


def _find(node, type_name):
    """All transform dicts of ``type_name`` in a (nested) pipeline."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == type_name:
            found.append(node)
        for value in node.values():
            found += _find(value, type_name)
    elif isinstance(node, (list, tuple)):
        for item in node:
            found += _find(item, type_name)
    return found


def _one(node, type_name):
    found = _find(node, type_name)
    assert len(found) == 1, f'{len(found)} {type_name} in the pipeline'
    return found[0]


def _types(pipeline):
    return [t['type'] for t in pipeline]


def _bn_model(model_cfg):
    """The model config on CPU: BN instead of SyncBN, no pretrained
    weights."""
    cfg = copy.deepcopy(model_cfg)
    cfg.pretrained = None

    def swap(node):
        if isinstance(node, dict):
            if node.get('type') == 'SyncBN':
                node['type'] = 'BN'
            for value in node.values():
                swap(value)
        elif isinstance(node, list):
            for item in node:
                swap(item)

    swap(cfg)
    return MODELS.build(cfg)


def _colour_jitter(transform, strength):
    """torchvision's ColorJitter(s, s, s, 0.1): the four jitters in a
    random order, factors uniform in [1 - s, 1 + s]."""
    assert transform['type'] == 'mmdet.RandomOrder'
    jitters = {t['type']: t for t in transform['transforms']}
    assert set(jitters) == {
        'mmdet.Brightness', 'mmdet.Contrast', 'mmdet.Color', 'RandomHue'
    }
    for name in ('mmdet.Brightness', 'mmdet.Contrast', 'mmdet.Color'):
        assert jitters[name]['min_mag'] == pytest.approx(1 - strength)
        assert jitters[name]['max_mag'] == pytest.approx(1 + strength)
        assert jitters[name].get('prob', 1.0) == 1.0
    assert jitters['RandomHue']['max_shift'] == 0.1


# ===================================================================
# Single-stage WSSS (visinf/1-stage-wseg)
# ===================================================================
SSWSS_R101 = ('configs/single_stage/'
              'sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py')
SSWSS_R50 = ('configs/single_stage/'
             'sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py')
SSWSS_ABLATIONS = _configs('configs/single_stage/ablations/*.py')
SSWSS_PAPER = [SSWSS_R101, SSWSS_R50] + SSWSS_ABLATIONS


def test_sswss_paper_configs_found():
    assert len(SSWSS_ABLATIONS) == 14
    for path in (SSWSS_R101, SSWSS_R50):
        assert osp.exists(osp.join(ROOT, path))
        assert osp.exists(osp.join(ROOT, path[:-3] + '-mmseg.py'))


@pytest.mark.parametrize('path', SSWSS_PAPER)
def test_sswss_backbone_is_the_authors_resnet(path):
    """models/backbones/resnets.py: torchvision ResNet (7x7 stem) with
    replace_stride_with_dilation=[False] * 3 and layer4 stride 1: output
    stride 16, no dilation; conv1 / bn1 fixed, all backbone BN frozen
    (_fix_running_stats(self, fix_params=True)); torchvision weights."""
    cfg = _cfg(path)
    backbone = cfg.model.backbone
    assert backbone.type == 'ResNet'
    assert not backbone.get('deep_stem', False)
    assert tuple(backbone.strides) == (1, 2, 2, 1)
    assert tuple(backbone.dilations) == (1, 1, 1, 1)
    assert backbone.get('multi_grid') is None
    assert backbone.frozen_stages == 0
    assert backbone.norm_eval is True
    assert backbone.norm_cfg.requires_grad is False
    assert backbone.style == 'pytorch'
    depth = backbone.depth
    assert depth == (101 if 'r101' in path else 50)
    assert cfg.model.pretrained == TORCHVISION.format(
        depth, TORCHVISION_HASH[depth])


@pytest.mark.parametrize('path', SSWSS_PAPER)
def test_sswss_decoder_is_the_authors(path):
    """models/stage_net.py SoftMaxAE + models/mods/{aspp,sg,gci}.py."""
    head = _cfg(path).model.decode_head
    assert head.type == 'StochasticGateASPPHead'
    # ASPP(fan_out, 8, ...): rates 1-12-24-36, plain atrous convs, 1x1
    # bottleneck 1280 -> 256, Dropout(0.5); _fix_running_stats(self.aspp)
    assert head.aspp_type == 'plain'
    assert tuple(head.dilations) == (1, 12, 24, 36)
    assert head.channels == 256
    assert head.aspp_dropout == 0.5
    assert head.aspp_norm_eval is True
    # fc8_skip 256 -> 48; last_conv: conv, Dropout(0.5), conv, Dropout(0.1)
    assert head.c1_in_channels == 256 and head.c1_channels == 48
    assert head.decoder_dropout == 0.5
    assert head.dropout_ratio == 0.1
    assert head.dropout_type == 'element'
    # rescale_as / F.interpolate(..., align_corners=True) everywhere
    assert head.align_corners is True
    # sg.py: x1 = (x1 - alpha_rate * x2) / (1 - alpha_rate) at train time
    assert head.rescale_deep is True
    assert head.reference_init is True
    assert head.get('use_sg', True) or 'no-sg' in path
    # core/config.py defaults: PAMR_ITER 10, PAMR_KERNEL, FOCAL_P / LAMBDA
    assert head.pamr is None if 'no-pamr' in path else \
        head.pamr.num_iter == 10
    assert head.cls_score_thr == 0.1  # paper Sec. 4, FP_CUT_SCORE 0.1


def test_sswss_main_and_table1_hyper_parameters():
    """SG_PSI 0.3 for the final model; Table 1a / 1b fix psi = 0.5 with GCI
    (their captions); Table 1c varies psi per row."""
    main = _cfg(SSWSS_R101).model.decode_head
    assert main.mix_rate == 0.3 and main.focal_power == 3.0
    assert main.focal_lambda == 0.01
    assert tuple(main.pamr.dilations) == (1, 2, 4, 8, 12, 24)
    for path in SSWSS_ABLATIONS:
        head = _cfg(path).model.decode_head
        name = osp.basename(path).split('_')[0]
        table_1c = '-sg' in name
        if not table_1c:  # Table 1a / 1b
            assert head.mix_rate == 0.5, path
            assert head.get('use_gci', True) and head.get('use_sg', True)
        elif 'psi0.5' in name:
            assert head.mix_rate == 0.5, path
        elif 'no-sg' not in name:
            assert head.mix_rate == 0.3, path
        if 'deterministic' in name:
            assert head.deterministic_gate is True
        if 'nogci' in name:
            assert head.use_gci is False
        if name.startswith('sswss-pamr'):
            dilations = tuple(int(v) for v in name[len('sswss-pamr'):].split(
                '-'))
            assert tuple(head.pamr.dilations) == dilations
    by_name = {osp.basename(p).split('_')[0]: p for p in SSWSS_ABLATIONS}
    assert _cfg(by_name['sswss-no-pamr']).model.decode_head.pamr is None
    head = _cfg(by_name['sswss-p5-l0.1']).model.decode_head
    assert (head.focal_power, head.focal_lambda) == (5.0, 0.1)


@pytest.mark.parametrize('path', [SSWSS_R101, SSWSS_R50])
def test_sswss_augmentation_is_the_authors(path):
    """datasets/pascal_voc.py + transforms.py: MaskRandResizedCrop
    (RandomResizedCrop(CROP_SIZE, scale=(0.9, 1.0)), bicubic image,
    nearest mask), MaskHFlip, MaskColourJitter(p=1.0) = ColorJitter(0.3,
    0.3, 0.3, 0.1); crop 321 (paper Sec. 4)."""
    cfg = _cfg(path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert _types(pipeline) == [
        'LoadImageFromFile', 'LoadImageLabels', 'RandomResizedCrop',
        'RandomFlip', 'mmdet.RandomOrder', 'PackWeakSegInputs'
    ]
    crop = pipeline[2]
    assert tuple(crop.crop_size) == (321, 321)
    assert tuple(crop.area_range) == (0.9, 1.0)
    assert tuple(crop.aspect_ratio_range) == pytest.approx((3 / 4, 4 / 3))
    assert crop.interpolation == 'bicubic' and crop.backend == 'pillow'
    assert crop.get('seg_backend') in (None, 'pillow')
    assert pipeline[3].prob == 0.5
    _colour_jitter(pipeline[4], 0.3)
    assert cfg.model.data_preprocessor.size == (321, 321)
    # evaluation on the original images; --tta: scales of voc_resnet38.yaml
    assert 'Resize' not in _types(cfg.val_dataloader.dataset.pipeline)
    assert 'Resize' not in _types(cfg.test_dataloader.dataset.pipeline)
    views = cfg.tta_pipeline[1].transforms
    scales = [t.scale_factor for t in views[0]]
    assert scales == [1.0, 0.5, 1.5, 2.0]
    assert all(t.interpolation == 'bicubic' for t in views[0])
    assert sorted(t.prob for t in views[1]) == [0.0, 1.0]


@pytest.mark.parametrize('path', [SSWSS_R101, SSWSS_R50])
def test_sswss_schedule_is_the_papers(path):
    """train.py / base_net.py: SGD momentum 0.9, weight decay 5e-4 without
    biases, lr 0.01 new / 0.001 pre-trained layers (x10 / x1 of
    NET.LR = 0.001), constant; 20 epochs, 5 classification-only
    (TRAIN.PRETRAIN); 16 images per step."""
    cfg = _cfg(path)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 0.01,
                                                                  0.9, 5e-4)
    paramwise = cfg.optim_wrapper.paramwise_cfg
    assert paramwise.custom_keys.backbone.lr_mult == 0.1
    assert paramwise.bias_decay_mult == 0.0
    assert cfg.param_scheduler == []
    per_step = cfg.train_dataloader.batch_size * 4
    assert per_step == 16
    assert cfg.train_cfg.max_iters * per_step / 10582 == pytest.approx(
        20, abs=0.05)
    hook = _one(cfg.custom_hooks, 'SegLossWarmupHook')
    assert hook.warmup_iters * per_step / 10582 == pytest.approx(5, abs=0.05)


def test_sswss_mmseg_variants_keep_mmseg_choices():
    for path in (SSWSS_R101, SSWSS_R50):
        cfg = _cfg(path[:-3] + '-mmseg.py')
        head = cfg.model.decode_head
        assert cfg.model.backbone.type == 'ResNetV1c'
        assert tuple(cfg.model.backbone.dilations) == (1, 1, 2, 4)
        assert head.get('aspp_type', 'separable') == 'separable'
        assert not head.get('rescale_deep', False)
        assert head.align_corners is False
        assert 'RandomResize' in _types(cfg.train_dataloader.dataset.pipeline)


def test_sswss_model_builds_and_runs():
    """The R-50 paper model on CPU: output stride 16 features, stride-4
    masks, the authors' decoder in place (frozen ASPP statistics)."""
    from mmseg.models.decode_heads.aspp_head import ASPPModule
    model = _bn_model(_cfg(SSWSS_R50).model)
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 64, 64))
        assert [f.shape[-1] for f in feats] == [16, 8, 4, 4]
        logits = model.decode_head(feats)
    assert logits.shape == (1, 20, 16, 16)
    head = model.decode_head
    assert isinstance(head.aspp_modules, ASPPModule)
    assert type(head.dropout) is torch.nn.Dropout
    model.train()
    assert not head.bottleneck.bn.training and head.fuse.bn.training
    assert not model.backbone.bn1.training  # norm_eval
    assert not model.backbone.conv1.weight.requires_grad  # frozen stem


# ===================================================================
# Context-aware consistency (dvlab-research/Context-Aware-Consistency)
# ===================================================================
CAC_PAPER = [
    p for p in _configs('configs/cac/cac*_r*-d8_*.py')
    if 'synthvoc' not in p and not p.endswith('-mmseg.py')
]
CAC_DEEPLAB = [p for p in CAC_PAPER if 'deeplabv3plus' in p]
CAC_PSP = [p for p in CAC_PAPER if 'pspnet' in p]
CAC_VOC = [p for p in CAC_PAPER if 'voc12aug' in p]
CAC_CITY = [p for p in CAC_PAPER if 'cityscapes' in p]


def test_cac_paper_configs_and_variants():
    assert len(CAC_PAPER) == 16
    assert len(CAC_DEEPLAB) == 12 and len(CAC_PSP) == 4
    assert len(CAC_CITY) == 3
    for path in CAC_PAPER:
        assert 'Table' in header_comment(osp.join(ROOT, path))
        assert osp.exists(osp.join(ROOT, path[:-3] + '-mmseg.py')), path


@pytest.mark.parametrize('path', CAC_DEEPLAB)
def test_cac_deeplab_model_is_the_authors(path):
    """models/modeling/deeplab.py (output_stride=16), backbone/resnet.py
    (strides 1-2-2-1, dilations 1-1-1-2, _make_MG_unit blocks [1, 2, 4]),
    aspp.py (plain atrous convs, rates 1-6-12-18 at OS 16, 256 channels,
    1x1 projection + Dropout(0.5)), decoder.py (256 -> 48 skip, two plain
    3x3 convs with Dropout(0.5) between, align_corners=True), model.py
    (classifier nn.Dropout(0.1) + conv, Kaiming fan_in, no auxiliary loss,
    project 256 -> 256 -> 128 on the 2x2-pooled features: "downsample":
    true, "out_dim": 256), utils/losses.py CE_loss (F.cross_entropy: mean
    over the non-ignored pixels)."""
    model = _cfg(path).model
    backbone = model.backbone
    assert backbone.type == 'ResNet'
    assert not backbone.get('deep_stem', False)
    assert tuple(backbone.strides) == (1, 2, 2, 1)
    assert tuple(backbone.dilations) == (1, 1, 1, 2)
    # MMSeg's multi_grid holds the absolute rates: [1, 2, 4] x 2
    assert tuple(backbone.multi_grid) == (2, 4, 8)
    assert backbone.contract_dilation is False
    assert backbone.norm_eval is False
    assert backbone.norm_cfg.type == 'SyncBN'
    assert backbone.norm_cfg.requires_grad is True
    depth = backbone.depth
    assert depth == (101 if 'r101' in path else 50)
    assert model.pretrained == TORCHVISION.format(depth,
                                                  TORCHVISION_HASH[depth])
    head = model.decode_head
    assert head.type == 'DeepLabV3PlusPlainHead'
    assert head.in_channels == 2048 and head.in_index == 3
    assert head.channels == 256
    assert tuple(head.dilations) == (1, 6, 12, 18)
    assert head.c1_in_channels == 256 and head.c1_channels == 48
    assert head.aspp_dropout == 0.5
    assert head.decoder_dropout == 0.5
    assert head.dropout_ratio == 0.1
    assert head.dropout_type == 'element'
    assert head.align_corners is True
    assert head.reference_init is True
    assert head.get('init_cfg') is None  # reference_init does it
    assert head.loss_decode.type == 'CrossEntropyLoss'
    assert head.loss_decode.avg_non_ignore is True
    assert head.loss_decode.loss_weight == 1.0
    assert model.auxiliary_head is None
    assert model.projector.in_channels == head.channels == 256
    assert model.projector.pool is True
    assert model.feature_stride == 8
    if 'weak' in path:
        assert model.weak_head.in_channels == head.channels


@pytest.mark.parametrize('path', CAC_PSP)
def test_cac_pspnet_model_is_the_authors(path):
    """models/encoder.py: deep-base ResNet-50 dilated 8, PSP bins 1-2-3-6
    to 512 channels; model.py: classifier = a plain 1x1 conv (no dropout),
    no auxiliary loss, projector on the stride-8 features."""
    model = _cfg(path).model
    assert model.backbone.type == 'ResNetV1c'
    assert tuple(model.backbone.strides) == (1, 2, 1, 1)
    assert tuple(model.backbone.dilations) == (1, 1, 2, 4)
    assert model.backbone.contract_dilation is True
    head = model.decode_head
    assert head.type == 'PSPHead' and head.channels == 512
    assert tuple(head.pool_scales) == (1, 2, 3, 6)
    assert head.dropout_ratio == 0
    assert head.loss_decode.avg_non_ignore is True
    assert model.auxiliary_head is None
    assert model.projector.in_channels == 512
    assert model.projector.pool is False
    assert model.feature_stride == 8


@pytest.mark.parametrize('path', CAC_PAPER)
def test_cac_loss_and_schedule(path):
    """configs/*.json: weight_unsup 0.1, temp 0.1, pos_thresh_value 0.75,
    epoch_start_unsup 5, step_save 1 (VOC) / 0 (Cityscapes), stride 8,
    iou_bound [0.1, 1.0]; SGD lr 0.01 (VOC) / 0.1 (Cityscapes), weight decay
    1e-4, momentum 0.9, backbone lr / 10, Poly, 80 epochs of 1157 steps;
    8 labeled + 8 unlabeled images per step."""
    cfg = _cfg(path)
    model = cfg.model
    assert model.dc_weight == 0.1
    assert model.loss_dc.temperature == 0.1
    assert model.loss_dc.pos_thresh == 0.75
    assert model.warmup_iters == 5 * 1157
    city = 'cityscapes' in path
    assert model.loss_dc.memory_bank_size == (0 if city else 1)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == (
        'SGD', 0.1 if city else 0.01, 0.9, 1e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult \
        == 0.1
    poly = _one(cfg.param_scheduler, 'PolyLR')
    assert poly.power == 0.9 and poly.eta_min == 0
    assert cfg.train_cfg.max_iters == 80 * 1157
    gpus = 4 if city else 2
    assert cfg.train_dataloader.batch_size * gpus == 16
    assert cfg.train_dataloader.sampler.source_ratio == [1, 1]


def _semi_pipelines(cfg):
    datasets = cfg.train_dataloader.dataset.datasets
    assert [d.supervision for d in datasets][0] == 'full'
    return datasets[0].pipeline, datasets[1].pipeline


@pytest.mark.parametrize('path', CAC_PAPER)
def test_cac_scale_augmentation_is_the_authors(path):
    """base/base_dataset.py _resize: labeled long side
    randint(0.5 * base_size, 2.0 * base_size); dataloaders/voc.py /
    city.py: unlabeled randint(0.8 * base_size, 2.0 * base_size); PIL
    bicubic images, OpenCV nearest labels; base_size 400 / 2048, crop 320 /
    720 padded with the mean / 255 (_crop); flip p = 0.5; colour jitter of
    the labeled images only on Cityscapes ("jitter": true)."""
    cfg = _cfg(path)
    city = 'cityscapes' in path
    base, crop = (2048, 720) if city else (400, 320)
    labeled, unlabeled = _semi_pipelines(cfg)
    resize = _one(labeled, 'RandomLongSideResize')
    assert tuple(resize.long_side_range) == (int(base * 0.5), base * 2)
    assert (resize.interpolation, resize.backend,
            resize.seg_backend) == ('bicubic', 'pillow', 'cv2')
    assert not _find(labeled, 'RandomResize')
    crop_cfg = _one(labeled, 'PaddedRandomCrop')
    assert tuple(crop_cfg.crop_size) == (crop, crop)
    assert crop_cfg.seg_pad_val == 255
    assert tuple(crop_cfg.pad_val) == (103, 116, 123)  # uint8 mean, BGR
    assert crop_cfg.get('cat_max_ratio', 1.0) == 1.0
    assert not _find(labeled, 'RandomCrop')
    assert _one(labeled, 'RandomFlip').prob == 0.5
    order = _types(labeled)
    assert order.index('RandomLongSideResize') < order.index(
        'PaddedRandomCrop') < order.index('RandomFlip')
    jitter = [t for t in labeled if t['type'] == 'mmdet.RandomOrder']
    if city:
        assert len(jitter) == 1
        _colour_jitter(jitter[0], 0.4)
    else:
        assert not jitter and not _find(labeled, 'PhotoMetricDistortion')
    resize = _one(unlabeled, 'RandomLongSideResize')
    assert tuple(resize.long_side_range) == (int(base * 0.8), base * 2)
    assert (resize.interpolation, resize.backend,
            resize.seg_backend) == ('bicubic', 'pillow', 'cv2')
    assert not _find(unlabeled, 'RandomResize')
    pair = _one(unlabeled, 'OverlappingCropPair')
    assert tuple(pair.crop_size) == (crop, crop)
    assert tuple(pair.iou_range) == (0.1, 1.0)
    # the crop offsets live on the grid of the features the DC loss compares
    assert pair.stride == cfg.model.feature_stride == 8


@pytest.mark.parametrize('path', CAC_PAPER)
def test_cac_view_augmentation_is_the_authors(path):
    """PairVOCDataset / PairCityDataset train_transform: per view a flip
    (p = 0.5), RandomGaussianBlur (p = 0.5, 5x5), RandomApply(ColorJitter(
    0.4, 0.4, 0.4, 0.1), p = 0.8), RandomGrayscale(p = 0.2)."""
    _, unlabeled = _semi_pipelines(_cfg(path))
    branch = _one(unlabeled, 'mmdet.MultiBranch')
    for view, index in (('view1', 0), ('view2', 1)):
        pipeline = branch[view]
        select = pipeline[0]
        assert (select.type, select.index, select.flip_prob) == (
            'SelectCropView', index, 0.5)
        blur = _one(pipeline, 'RandomGaussianBlur')
        assert (blur.prob, blur.kernel_size) == (0.5, 5)
        apply = _one(pipeline, 'RandomApply')
        assert apply.prob == 0.8
        _colour_jitter(apply.transforms[0], 0.4)
        assert _one(pipeline, 'RandomGrayscale').prob == 0.2


def test_cac_weak_extension_resizes_like_the_unlabeled_branch():
    path = ('configs/cac/cac-weak_deeplabv3plus_r50-d8_2xb4-92k_voc12aug'
            '-1464-cam-320x320.py')
    _, weak = _semi_pipelines(_cfg(path))
    resize = _one(weak, 'RandomLongSideResize')
    assert tuple(resize.long_side_range) == (320, 800)


@pytest.mark.parametrize('path', CAC_VOC)
def test_cac_voc_evaluates_the_original_images(path):
    """trainer.py _valid_epoch on the val loader without base_size: the
    original image (MMSeg's (2048, 512) resize would enlarge VOC images)."""
    cfg = _cfg(path)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert 'Resize' not in _types(loader.dataset.pipeline)
    assert cfg.model.test_cfg.mode == 'whole'


def test_cac_mmseg_variants_keep_mmseg_choices():
    for path in CAC_PAPER:
        cfg = _cfg(path[:-3] + '-mmseg.py')
        assert cfg.model.backbone.type == 'ResNetV1c'
        assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
        labeled, unlabeled = _semi_pipelines(cfg)
        assert _one(labeled, 'RandomResize').ratio_range == (0.5, 2.0)
        assert _one(unlabeled, 'RandomResize').ratio_range == (0.5, 2.0)
        if 'deeplabv3plus' in path:
            assert cfg.model.decode_head.type == \
                'DepthwiseSeparableASPPFeatureHead'
            assert cfg.model.decode_head.channels == 512
            assert tuple(cfg.model.decode_head.dilations) == (1, 12, 24, 36)
            assert cfg.model.projector.in_channels == 512
            assert cfg.model.decode_head.align_corners is False


@pytest.mark.parametrize('path', [
    'configs/cac/cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py',
    'configs/cac/cac_pspnet_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py',
])
def test_cac_model_builds_and_runs(path):
    """On CPU, a 64x64 view: projection and pseudo-label logits on the
    stride-8 grid (= feature_stride = the crop pair's stride), the
    prediction at the decoder's resolution."""
    from mmseg_weak.models.segmentors.context_aware_consistency import \
        decoder_features
    model = _bn_model(_cfg(path).model)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats, proj, logits = model.unlabeled_features(x)
        channels = model.decode_head.channels
        assert feats.shape[1] == channels
        assert proj.shape == (1, 128, 8, 8)
        assert logits.shape == (1, 21, 8, 8)
        assert decoder_features(model.decode_head,
                                model.extract_feat(x)).shape[1] == channels
        out = model.decode_head(model.extract_feat(x))
    if 'deeplabv3plus' in path:
        assert channels == 256 and out.shape == (1, 21, 16, 16)
        assert model.extract_feat(x)[-1].shape[-1] == 4  # output stride 16
        head = model.decode_head
        assert type(head).__name__ == 'DeepLabV3PlusPlainHead'
        assert type(head.dropout) is torch.nn.Dropout
        assert head.bottleneck.conv.kernel_size == (1, 1)
        assert all(m.conv.groups == 1 for m in head.aspp_modules)
    else:
        assert channels == 512 and out.shape == (1, 21, 8, 8)
        assert model.decode_head.dropout is None
    assert not model.with_auxiliary_head


# ===================================================================
# Pseudo-mask Matters (Eli-YiLi/PMM)
# ===================================================================
def _gpm():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'generate_pseudo_masks',
        osp.join(ROOT, 'tools', 'generate_pseudo_masks.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('method,alpha,step', [
    ('ppmg', 11.0, 'ProportionalPseudoMask'),
    ('argmax-crf', 24.0, 'AddCAMBackground'),
    ('argmax', 11.0, 'AddCAMBackground'),
])
def test_pmm_preset_alpha_defaults(method, alpha, step):
    """run.py: crf_threshs '11' for PPMG (refine_cam); the SEAM
    argmax-CRF baseline with --crf_threshs default '24'
    (infer_multi_scale, paper Sec. 4.1: "alpha in CRF setting to be 24");
    no alpha for CAMs without a CRF in PMM, so argmax keeps 11."""
    gpm = _gpm()
    assert gpm.DEFAULT_ALPHA[method] == alpha
    base = ['--img-dir', 'i', '--cam-dir', 'c', '--out-dir', 'o']
    args = gpm.parse_args(base + ['--method', method])
    assert args.alpha == alpha
    assert _one(gpm.preset_pipeline(args), step)['alpha'] == alpha
    args = gpm.parse_args(base + ['--method', method, '--alpha', '4'])
    assert args.alpha == 4.0
    assert _one(gpm.preset_pipeline(args), step)['alpha'] == 4.0


def test_pmm_cyclic_round_tta_and_crf():
    """The authors' MMSeg 0.x cyclic round: MultiScaleFlipAug with ratios
    0.5-1.75 of (2048, 512) x flip, then their dense CRF; PUS clamp with
    beta = kappa = 0.5 on VOC."""
    cfg = _cfg('configs/pmm/pspnet_voc.py')
    hook = _one(cfg.custom_hooks, 'CyclicPseudoMaskHook')
    assert hook.tta is True
    views = _one(hook.predict_pipeline, 'TestTimeAug').transforms
    scales = [tuple(t.scale) for t in views[0]]
    ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert scales == [(int(2048 * r), int(512 * r)) for r in ratios]
    assert sorted(t.prob for t in views[1]) == [0.0, 1.0]
    crf = _one(hook.post_pipeline, 'DenseCRFRefine')
    assert (crf.gaussian_sxy, crf.gaussian_compat, crf.bilateral_sxy,
            crf.bilateral_srgb, crf.bilateral_compat,
            crf.num_iter) == (1, 3, 67, 3, 4, 10)
    pus = cfg.model.decode_head.loss_decode
    assert (pus.type, pus.mode, pus.beta,
            pus.kappa) == ('PUSLoss', 'clamp', 0.5, 0.5)
