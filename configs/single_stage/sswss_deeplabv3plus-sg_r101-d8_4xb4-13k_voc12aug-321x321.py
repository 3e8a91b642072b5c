# Single-stage WSSS (Araslanov & Roth, CVPR 2020,
# https://arxiv.org/abs/2005.08104) on PASCAL VOC 2012 aug (10,582 images with
# image-level labels only): DeepLabV3+ R-101 with SG (psi = 0.3) + GCI, nGWP
# with the focal penalty (p = 3, lambda = 0.01), PAMR (10 iterations,
# dilations 1-2-4-8-12-24) pseudo ground truth, class-balanced CE.
# Schedule of the paper (Sec. 4): 20 epochs (5 classification-only), SGD
# momentum 0.9, weight decay 5e-4, constant lr 0.01 for new layers and 0.001
# for the backbone, random rescale (0.9-1.0 of the image area), flip, colour
# jitter, 321x321 crops. 4 GPUs x 4 images = 16 per iteration: 662
# iterations per epoch.
#
# Trains like the authors' code (visinf/1-stage-wseg; see
# configs/single_stage/README.md, "Paper configs vs MMSeg choices"):
# - backbone (models/backbones/resnets.py): torchvision-layout ResNet (7x7
#   stem), output stride 16 with an undilated last stage, ImageNet weights of
#   torchvision (resnet101-5d3b4d8f.pth), stem and all BN layers frozen;
# - decoder (models/stage_net.py, models/mods/aspp.py, sg.py, gci.py): plain
#   ASPP (rates 1-12-24-36, 1x1 bottleneck, Dropout(0.5), its BN statistics
#   frozen at their initial values), skip 256->48, 3x3 fuse, GCI, SG with
#   the train-time rescaling (x_d - psi x_s) / (1 - psi), 3x3 conv,
#   Dropout(0.5), 3x3 conv, element-wise Dropout(0.1), 1x1 classifier;
#   every resize with align_corners=True; Kaiming fan_in initialisation;
# - data (datasets/transforms.py): torchvision's RandomResizedCrop (area
#   0.9-1.0, aspect 3/4-4/3, bicubic) to 321x321, flip, ColorJitter(0.3,
#   0.3, 0.3, 0.1) always; evaluation at the original image size;
# - test-time augmentation (--tta, configs/voc_resnet38.yaml): scales 1, 0.5,
#   1.5, 2 (bicubic) x flip.
# The MMSeg-standard version of this config:
# sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321-mmseg.py.
_base_ = './_base_/sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py'
model = dict(
    # torchvision's ImageNet weights, the authors' resnet101-5d3b4d8f.pth
    pretrained='https://download.pytorch.org/models/resnet101-5d3b4d8f.pth',
    backbone=dict(
        type='ResNet',
        # output stride 16, last stage neither strided nor dilated
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 1),
        frozen_stages=0),  # the stem (conv1, bn1) is not trained
    decode_head=dict(
        # (the base's ASPP rates 1-12-24-36 are the authors' OS-8 set)
        aspp_type='plain',
        aspp_dropout=0.5,
        aspp_norm_eval=True,
        rescale_deep=True,
        decoder_dropout=0.5,
        dropout_type='element',
        reference_init=True,
        align_corners=True))
# torchvision's ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3,
# hue=0.1): the four jitters in a random order, factors uniform in
# [0.7, 1.3], hue shift uniform in [-0.1, 0.1] turns
colour_jitter = dict(
    type='mmdet.RandomOrder',
    transforms=[
        dict(type='mmdet.Brightness', min_mag=0.7, max_mag=1.3),
        dict(type='mmdet.Contrast', min_mag=0.7, max_mag=1.3),
        dict(type='mmdet.Color', min_mag=0.7, max_mag=1.3),
        dict(type='RandomHue', max_shift=0.1),
    ])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageLabels', num_classes={{_base_.num_classes}}),
    # a window of 90-100% of the image area (aspect 3/4-4/3) resized to the
    # crop size with PIL bicubic, as torchvision's RandomResizedCrop
    dict(
        type='RandomResizedCrop',
        crop_size={{_base_.crop_size}},
        area_range=(0.9, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    colour_jitter,
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the authors evaluate at the original image size
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='PackWeakSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# `tools/test.py --tta`: the authors' multi-scale inference (scales of
# configs/voc_resnet38.yaml, the paper's model; each view resized with PIL
# bicubic, with and without a horizontal flip)
tta_scales = [1.0, 0.5, 1.5, 2.0]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(
                    type='Resize',
                    scale_factor=r,
                    keep_ratio=True,
                    interpolation='bicubic',
                    backend='pillow') for r in tta_scales
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}})],
            [dict(type='PackWeakSegInputs')],
        ])
]
