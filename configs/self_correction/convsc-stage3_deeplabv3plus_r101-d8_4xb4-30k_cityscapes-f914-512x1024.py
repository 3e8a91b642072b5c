"""Convolutional self-correction, stage 3 of 3, on Cityscapes: the stage-2
model fine-tuned on F = 914 + W = 2,061 (Eq. 6). Reproduces the "Conv.
Self-correction" row of Tables 3/4."""
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_self-correction.py',
    '../_base_/datasets/cityscapes_boxes.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    data_preprocessor=dict(size={{_base_.crop_size}}),
    ancillary=dict(
        config='configs/self_correction/convsc-stage1_ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py',
        checkpoint='work_dirs/convsc-stage1_ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024/iter_30000.pth'),
    decode_head=dict(
        type='ConvSelfCorrectionHead',
        correction_channels=128,
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
load_from = 'work_dirs/convsc-stage2_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024/iter_30000.pth'
