# Single-stage WSSS (Araslanov & Roth, CVPR 2020,
# https://arxiv.org/abs/2005.08104) on PASCAL VOC 2012 aug (10,582 images with
# image-level labels only): DeepLabV3+ R-101 with SG (psi = 0.3) + GCI, nGWP
# with the focal penalty (p = 3, lambda = 0.01), PAMR (10 iterations,
# dilations 1-2-4-8-12-24) pseudo ground truth, class-balanced CE.
# Schedule of the paper (Sec. 4): 20 epochs (5 classification-only), SGD
# momentum 0.9, weight decay 5e-4, constant lr 0.01 for new layers and 0.001
# for the backbone, random rescale (0.9-1.0 of the image area), flip, colour
# jitter, 321x321 crops. 4 GPUs x 4 images = 16 per iteration: 662
# iterations per epoch.
#
# Trains like the authors' code (visinf/1-stage-wseg; see
# configs/single_stage/README.md, "Paper configs vs MMSeg choices"):
# - backbone (models/backbones/resnets.py): torchvision-layout ResNet (7x7
#   stem), output stride 16 with an undilated last stage, ImageNet weights of
#   torchvision (resnet101-5d3b4d8f.pth), stem and all BN layers frozen;
# - decoder (models/stage_net.py, models/mods/aspp.py, sg.py, gci.py): plain
#   ASPP (rates 1-12-24-36, 1x1 bottleneck, Dropout(0.5), its BN statistics
#   frozen at their initial values), skip 256->48, 3x3 fuse, GCI, SG with
#   the train-time rescaling (x_d - psi x_s) / (1 - psi), 3x3 conv,
#   Dropout(0.5), 3x3 conv, element-wise Dropout(0.1), 1x1 classifier;
#   every resize with align_corners=True; Kaiming fan_in initialisation;
# - data (datasets/transforms.py): torchvision's RandomResizedCrop (area
#   0.9-1.0, aspect 3/4-4/3, bicubic) to 321x321, flip, ColorJitter(0.3,
#   0.3, 0.3, 0.1) always; evaluation at the original image size;
# - test-time augmentation (--tta, configs/voc_resnet38.yaml): scales 1, 0.5,
#   1.5, 2 (bicubic) x flip.
# The MMSeg-standard version of this config:
# sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321-mmseg.py.
_base_ = [
    '../_base_/datasets/voc12aug_weak.py', '../_base_/default_runtime.py'
]
num_classes = 21
crop_size = (321, 321)
norm_cfg = dict(type='SyncBN', requires_grad=True)
# the backbone's BN layers stay frozen (statistics and affine parameters),
# as in the authors' code
backbone_norm_cfg = dict(type='SyncBN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    type='SingleStageWSSS',
    data_preprocessor=data_preprocessor,
    # torchvision's ImageNet weights, the authors' resnet101-5d3b4d8f.pth
    pretrained='https://download.pytorch.org/models/resnet101-5d3b4d8f.pth',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        # output stride 16, last stage neither strided nor dilated
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 1),
        norm_cfg=backbone_norm_cfg,
        norm_eval=True,
        frozen_stages=0,  # the stem (conv1, bn1) is not trained
        style='pytorch'),
    decode_head=dict(
        type='StochasticGateASPPHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),  # the authors' rates (their OS-8 set)
        c1_in_channels=256,
        c1_channels=48,
        aspp_type='plain',
        aspp_dropout=0.5,
        aspp_norm_eval=True,
        mix_rate=0.3,
        rescale_deep=True,
        decoder_dropout=0.5,
        dropout_ratio=0.1,
        dropout_type='element',
        reference_init=True,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=True,
        focal_power=3.0,
        focal_lambda=0.01,
        pamr=dict(
            type='PixelAdaptiveMaskRefinement',
            num_iter=10,
            dilations=(1, 2, 4, 8, 12, 24)),
        cls_score_thr=0.1,
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=True,
            loss_weight=1.0,
            loss_name='loss_cls'),
        loss_decode=dict(
            type='BalancedCrossEntropyLoss',
            loss_weight=1.0,
            loss_name='loss_seg')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# torchvision's ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3,
# hue=0.1): the four jitters in a random order, factors uniform in
# [0.7, 1.3], hue shift uniform in [-0.1, 0.1] turns
colour_jitter = dict(
    type='mmdet.RandomOrder',
    transforms=[
        dict(type='mmdet.Brightness', min_mag=0.7, max_mag=1.3),
        dict(type='mmdet.Contrast', min_mag=0.7, max_mag=1.3),
        dict(type='mmdet.Color', min_mag=0.7, max_mag=1.3),
        dict(type='RandomHue', max_shift=0.1),
    ])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageLabels', num_classes=num_classes),
    # a window of 90-100% of the image area (aspect 3/4-4/3) resized to the
    # crop size with PIL bicubic, as torchvision's RandomResizedCrop
    dict(
        type='RandomResizedCrop',
        crop_size=crop_size,
        area_range=(0.9, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    colour_jitter,
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(supervision='image_label', pipeline=train_pipeline))
# the authors evaluate at the original image size
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# `tools/test.py --tta`: the authors' multi-scale inference (scales of
# configs/voc_resnet38.yaml, the paper's model; each view resized with PIL
# bicubic, with and without a horizontal flip)
tta_scales = [1.0, 0.5, 1.5, 2.0]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(
                    type='Resize',
                    scale_factor=r,
                    keep_ratio=True,
                    interpolation='bicubic',
                    backend='pillow') for r in tta_scales
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadVerifiedAnnotations', num_classes=num_classes)],
            [dict(type='PackWeakSegInputs')],
        ])
]
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    clip_grad=None,
    # 0.001 for the (pre-trained) backbone, 0.01 for the new layers; no
    # weight decay on biases (the authors' parameter groups; MMEngine's
    # bias_decay_mult also covers the BN biases, BN weights keep it)
    paramwise_cfg=dict(
        custom_keys={'backbone': dict(lr_mult=0.1)}, bias_decay_mult=0.0))
# constant learning rate
param_scheduler = []
# 10,582 images / 16 per iteration
iters_per_epoch = 662
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=20 * iters_per_epoch,
    val_interval=2 * iters_per_epoch)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False,
        interval=2 * iters_per_epoch),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [
    dict(type='SegLossWarmupHook', warmup_iters=5 * iters_per_epoch)
]
