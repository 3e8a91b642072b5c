# CAC, DeepLabV3+ R-101, VOC aug full: Table 1, "Ours" DeepLabv3+ ResNet101,
# full: 78.2 mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-full-320x320.py'
model = dict(
    pretrained='https://download.pytorch.org/models/resnet101-5d3b4d8f.pth',
    backbone=dict(depth=101))
