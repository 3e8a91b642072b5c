# Context-Aware Consistency with extra image-level labels (Lai et al., CVPR
# 2021, Sec. 3.5) on generated VOC data: 50 masks (labeled_1-8) + 350 images
# with CAM pseudo-masks (synthetic_voc_semi-cam.py), DeepLabV3+ R-18 from
# scratch; the auxiliary classifier C_w (weight 0.4, CCT's sigmoid ramp-up over
# the first 10% = 100 iterations) learns the views' pseudo-masks and is
# discarded at inference. Same schedule and warm-up as
# cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py.
_base_ = [
    '../_base_/models/cac_deeplabv3plus_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_semi-cam.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_cpu.py'
]
model = dict(
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}),
    warmup_iters=220,
    weak_head=dict(
        type='PixelClassifierHead',
        in_channels=64,
        num_classes={{_base_.num_classes}},
        dropout_ratio=0.1,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', loss_weight=0.4,
            loss_name='loss_weak')),
    weak_rampup_iters=100)
