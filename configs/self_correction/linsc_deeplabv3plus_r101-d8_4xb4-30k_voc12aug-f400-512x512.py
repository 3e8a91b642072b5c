# Linear self-correction (Sec. 3.3, alpha 30 -> 0.5), R-101, VOC aug F = 400:
# the "Linear self-correction" row of Table 1 (F=400).
_base_ = './nosc_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f400-512x512.py'
model = dict(decode_head=dict(type='LinearSelfCorrectionHead'))
custom_hooks = [dict(type='SelfCorrectionAlphaHook', start=30.0, end=0.5)]
