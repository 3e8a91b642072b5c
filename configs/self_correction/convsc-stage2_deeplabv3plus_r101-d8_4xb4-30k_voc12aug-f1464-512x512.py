# Convolutional self-correction, stage 2 of 3 (Ibrahim et al., CVPR 2020, Sec.
# 3.4): the primary model + correction network (2 x 3x3 conv, 128 channels) of
# stage 3 trained on the F = 1464 fully labeled VOC aug images only
# (first and last terms of Eq. 6), with the stage-1 ancillary model.
_base_ = './convsc-stage3_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py'
load_from = None
# F alone (masks + boxes)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.labeled_dataset))
