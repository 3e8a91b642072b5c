# CAC, DeepLabV3+ R-101, VOC aug 1/4, MMSeg-standard variant: Table 1, "Ours"
# DeepLabv3+ ResNet101, 1/4: 76.3 mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1-4-320x320-mmseg.py'
model = dict(pretrained='open-mmlab://resnet101_v1c', backbone=dict(depth=101))
