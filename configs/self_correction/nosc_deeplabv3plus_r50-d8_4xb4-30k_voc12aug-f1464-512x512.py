# No self-correction (Ibrahim et al., CVPR 2020, Sec. 3.2, Eq. 2): R-50, F =
# 1464 masks + W = 9118 box-only VOC aug images, the frozen ancillary model of
# `ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512.py`.
# Reproduces the "No self-correction" row of Table 1 (F=1464) and Table 2.
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_self-correction.py',
    '../_base_/datasets/voc12aug_boxes-f1464.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    ancillary=dict(
        config='configs/self_correction/ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512.py',
        checkpoint='work_dirs/ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512/iter_30000.pth'),
    decode_head=dict(
        type='NoSelfCorrectionHead',
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
