# No self-correction (Ibrahim et al., CVPR 2020, Sec. 3.2, Eq. 2): R-101, F =
# 1464 masks + W = 9118 box-only VOC aug images, the frozen ancillary model of
# `ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py`.
# Reproduces the "No self-correction" row of Table 1 (F=1464) and Table 2.
_base_ = './nosc_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512.py'
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    ancillary=dict(
        config='configs/self_correction/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py',
        checkpoint='work_dirs/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512/iter_30000.pth'))
