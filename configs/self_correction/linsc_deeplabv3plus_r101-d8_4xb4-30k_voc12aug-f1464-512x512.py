"""Linear self-correction (Ibrahim et al., CVPR 2020, Sec. 3.3, Eq. 3-5; alpha 30 -> 0.5): R-101,
F = 1464 masks + W = 9118 box-only VOC aug images, the frozen
ancillary model of `ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py`. Reproduces the "Linear self-correction" row of Table 1 (F=1464) and Table 2."""
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_self-correction.py',
    '../_base_/datasets/voc12aug_boxes-f1464.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    data_preprocessor=dict(size={{_base_.crop_size}}),
    ancillary=dict(
        config='configs/self_correction/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py',
        checkpoint='work_dirs/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512/iter_30000.pth'),
    decode_head=dict(
        type='LinearSelfCorrectionHead',
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
custom_hooks = [dict(type='SelfCorrectionAlphaHook', start=30.0, end=0.5)]
