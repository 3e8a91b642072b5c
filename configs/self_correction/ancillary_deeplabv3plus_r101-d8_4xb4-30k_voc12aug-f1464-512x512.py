# Ancillary model (Ibrahim et al., CVPR 2020, Sec. 3.1), R-101, F = 1464: the
# "Ancillary Model" row of Table 1 (F=1464) and Table 2.
_base_ = './ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512.py'
model = dict(pretrained='open-mmlab://resnet101_v1c', backbone=dict(depth=101))
