# Convolutional self-correction, stage 2 of 3 (Ibrahim et al., CVPR 2020, Sec.
# 3.4): the primary model + correction network of stage 3 trained on F only
# (first and last terms of Eq. 6), with the stage-1 ancillary model (boxes of F
# needed).
_base_ = './convsc-stage3_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
load_from = None
# F alone (masks + boxes)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.labeled_dataset))
