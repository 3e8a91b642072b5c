# Linear self-correction (Ibrahim et al., CVPR 2020, Sec. 3.3, Eq. 3-5; Tables
# 1/3 "Lin. Self-correction" row) on generated VOC data: box-only images are
# trained towards softmax((l + a*l_anc)/(a+1)), a decaying exponentially from
# 30 to 0.5 over training (SelfCorrectionAlphaHook).
_base_ = './nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
model = dict(decode_head=dict(type='LinearSelfCorrectionHead', alpha=30.0))
custom_hooks = [dict(type='SelfCorrectionAlphaHook', start=30.0, end=0.5)]
