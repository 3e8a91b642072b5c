# Linear self-correction (Sec. 3.3, alpha 30 -> 0.5), R-101, Cityscapes F =
# 914: the "Linear self-correction" row of Tables 3/4.
_base_ = './nosc_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py'
model = dict(decode_head=dict(type='LinearSelfCorrectionHead'))
custom_hooks = [dict(type='SelfCorrectionAlphaHook', start=30.0, end=0.5)]
