# Single-stage WSSS with a ResNet-50 backbone (the paper's supplementary
# ResNet experiments; the backbone of the Table 1 ablations in
# configs/single_stage/ablations); everything else as the R-101 config,
# i.e. as the authors' code (torchvision-layout ResNet-50 at output stride
# 16 with torchvision's resnet50-19c8e357.pth, the authors' decoder and
# augmentation). The learning rates are the paper's (0.01 / 0.001), see
# configs/single_stage/README.md for the authors' ResNet yaml files.
# The MMSeg-standard version:
# sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321-mmseg.py.
_base_ = './sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    pretrained='https://download.pytorch.org/models/resnet50-19c8e357.pth',
    backbone=dict(depth=50))
