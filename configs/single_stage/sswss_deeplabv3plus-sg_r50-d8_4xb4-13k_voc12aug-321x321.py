# Single-stage WSSS with a ResNet-50 backbone (the paper's supplementary
# ResNet experiments); everything else as the R-101 config.
_base_ = './sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    pretrained='open-mmlab://resnet50_v1c', backbone=dict(depth=50))
