# Single-stage WSSS (Araslanov & Roth, CVPR 2020,
# https://arxiv.org/abs/2005.08104) on PASCAL VOC 2012 aug (10,582 images with
# image-level labels only): DeepLabV3+ R-101 with SG (psi = 0.3) + GCI, nGWP
# with the focal penalty (p = 3, lambda = 0.01), PAMR (10 iterations,
# dilations 1-2-4-8-12-24) pseudo ground truth, class-balanced CE.
# Schedule of the paper: 20 epochs (5 classification-only), SGD momentum 0.9,
# weight decay 5e-4, constant lr 0.01 for new layers and 0.001 for the
# backbone, random rescale (0.9-1.0), flip, colour jitter, 321x321 crops.
# 4 GPUs x 4 images = 16 per iteration: 662 iterations per epoch.
#
# MMSeg-standard variant of
# sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py (the paper
# config, which trains like the authors' code): MMSeg's DeepLabV3+ parts and
# augmentation instead of the authors' (configs/single_stage/README.md,
# "Paper configs vs MMSeg choices"): dilated ResNetV1c-101 at output stride
# 8 (open-mmlab weights), depthwise separable ASPP with a 3x3 bottleneck and
# trained BN statistics, no ASPP dropout, channel-wise Dropout2d(0.1) before
# the classifier, align_corners=False, MMSeg's initialisation, the Stochastic
# Gate of Eq. 9-10 without the authors' train-time rescaling; MMSeg's
# RandomResize (long side 450-500 px) + 321x321 RandomCrop +
# PhotoMetricDistortion; evaluation on images resized to (2048, 512); no
# --tta pipeline.
_base_ = './_base_/sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(
        type='ResNetV1c',
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        contract_dilation=True),
    decode_head=dict(align_corners=False))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageLabels', num_classes={{_base_.num_classes}}),
    # VOC images are at most 500 px: rescale to 90-100% of the original
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.9, 1.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
