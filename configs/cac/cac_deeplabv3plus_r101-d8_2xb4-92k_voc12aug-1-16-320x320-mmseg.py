"""Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-101, PASCAL
VOC 2012 aug with 1/16 (661 masks, 9,921 unlabeled). Table 1, "Ours" DeepLabv3+
ResNet101, 1/16: 72.4 mIoU.
MMSeg-standard variant (MMSeg's model and augmentation choices, see
configs/cac/README.md, "Paper configs vs MMSeg choices")."""
_base_ = './cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1-16-320x320-mmseg.py'
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101))
