# Convolutional self-correction, stage 3 of 3 (Ibrahim et al., CVPR 2020, Sec.
# 3.4, Eq. 6): the stage-2 model fine-tuned on VOC aug F = 200 + W =
# 10382. Reproduces the "Conv. Self-correction" row of Table 1 (F=200).
_base_ = './nosc_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py'
model = dict(
    ancillary=dict(
        config='configs/self_correction/convsc-stage1-ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py',
        checkpoint='work_dirs/convsc-stage1-ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512/iter_30000.pth'),
    decode_head=dict(type='ConvSelfCorrectionHead', correction_channels=128))
load_from = 'work_dirs/convsc-stage2_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512/iter_30000.pth'
