# What the single-stage WSSS configs on PASCAL VOC 2012 aug share (Araslanov
# & Roth, CVPR 2020, https://arxiv.org/abs/2005.08104): 10,582 images with
# image-level labels only; DeepLabV3+ R-101 with SG (psi = 0.3) + GCI, nGWP
# with the focal penalty (p = 3, lambda = 0.01), PAMR (10 iterations,
# dilations 1-2-4-8-12-24) pseudo ground truth, class-balanced CE; the
# backbone's BN layers frozen. Schedule of the paper (Sec. 4): 20 epochs (5
# classification-only), SGD momentum 0.9, weight decay 5e-4, constant lr
# 0.01 for new layers and 0.001 for the backbone, 321x321 crops; 4 GPUs x 4
# images = 16 per iteration: 662 iterations per epoch.
# The leaves set the backbone, the decoder details and the augmentation:
# ../sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py (the
# authors' code) and its -mmseg.py twin (MMSeg's parts).
_base_ = [
    '../../_base_/datasets/voc12aug_weak.py',
    '../../_base_/default_runtime.py', '../../_base_/schedules/iter_based.py'
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
    backbone=dict(
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=backbone_norm_cfg,
        norm_eval=True,
        style='pytorch'),
    decode_head=dict(
        type='StochasticGateASPPHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        c1_in_channels=256,
        c1_channels=48,
        mix_rate=0.3,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
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
train_dataloader = dict(batch_size=4, dataset=dict(supervision='image_label'))
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
    max_iters=20 * iters_per_epoch, val_interval=2 * iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=2 * iters_per_epoch))
custom_hooks = [
    dict(type='SegLossWarmupHook', warmup_iters=5 * iters_per_epoch)
]
