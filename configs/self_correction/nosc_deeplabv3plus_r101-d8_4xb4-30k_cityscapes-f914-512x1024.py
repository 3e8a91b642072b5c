# No self-correction (Ibrahim et al., CVPR 2020) on Cityscapes: R-101,
# F = 914 masks + W = 2,061 box-only images, frozen ancillary model of
# `ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py`.
# Reproduces the "No self-correction" row of Tables 3/4.
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
        config='configs/self_correction/ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py',
        checkpoint='work_dirs/ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024/iter_30000.pth'),
    decode_head=dict(
        type='NoSelfCorrectionHead',
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
