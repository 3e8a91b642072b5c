# Single-stage WSSS with a ResNet-50 backbone, MMSeg-standard variant of
# sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py: everything as
# the R-101 -mmseg config (configs/single_stage/README.md, "Paper configs vs
# MMSeg choices").
_base_ = './sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321-mmseg.py'
model = dict(
    pretrained='open-mmlab://resnet50_v1c', backbone=dict(depth=50))
