# Single-stage WSSS (Araslanov & Roth, CVPR 2020,
# https://arxiv.org/abs/2005.08104) on generated VOC-format data, from image
# labels only: DeepLabV3+ (half-width ResNet-18 from scratch) with the
# Stochastic Gate + Global Cue Injection on the skip path, nGWP class scores
# with the focal mask penalty, PAMR pseudo ground truth and the class-balanced
# cross-entropy. 20 "epochs" of 100 iterations: the first 5 with the
# classification loss only (SegLossWarmupHook).
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    type='SingleStageWSSS',
    data_preprocessor=dict(size={{_base_.crop_size}}),
    # the base's DeepLabV3+ head (widths, ASPP rates, dropout) with SG + GCI
    decode_head=dict(
        type='StochasticGateASPPHead',
        num_classes={{_base_.num_classes}},
        mix_rate=0.3,
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
            _delete_=True,
            type='BalancedCrossEntropyLoss',
            loss_weight=1.0,
            loss_name='loss_seg')),
    auxiliary_head=None)
# image-level labels (from the XML) of all 400 trainaug images
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageLabels', num_classes={{_base_.num_classes}}),
    dict(type='RandomResize', scale={{_base_.img_scale}},
         ratio_range=(0.9, 1.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    dataset=dict(supervision='image_label', pipeline=train_pipeline))
# SGD, constant learning rate (everything is trained from scratch here, so
# no backbone lr multiplier; see the VOC configs for the paper's 0.1x)
optimizer = dict(lr=0.01)
optim_wrapper = dict(
    optimizer=optimizer, paramwise_cfg=dict(bias_decay_mult=0.0))
param_scheduler = []
iters_per_epoch = 100
train_cfg = dict(
    max_iters=20 * iters_per_epoch, val_interval=10 * iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=10 * iters_per_epoch))
custom_hooks = [
    dict(type='SegLossWarmupHook', warmup_iters=5 * iters_per_epoch)
]
