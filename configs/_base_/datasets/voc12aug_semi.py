# Semi-supervised PASCAL VOC 2012 aug as in Lai et al. (CVPR 2021, Sec. 4.1)
# with the authors' augmentation (dvlab-research/Context-Aware-Consistency,
# configs/voc_cac_*.json base_size 400, crop_size 320):
# - labeled images (base/base_dataset.py _augmentation): the longer side
#   resized to a random integer in [200, 800] (0.5-2.0 x 400; PIL bicubic,
#   labels OpenCV nearest), a random 320x320 crop padded at the bottom /
#   right (image mean, label 255), a horizontal flip; no colour jitter;
# - unlabeled images (dataloaders/voc.py PairVOCDataset): the longer side in
#   [320, 800] (0.8-2.0 x 400), then the two overlapping crops (cac_views.py);
# - validation on the original images (no resize; their val_loader has no
#   base_size).
# MMSeg's RandomResize(scale=(2048, 512), ratio_range=(0.5, 2.0)) would give
# a 500x375 image a long side of 341-1365 px: the -mmseg variants keep it
# (voc12aug_semi-mmseg.py). 8 labeled + 8 unlabeled images per batch
# (the paper's total batch; with N GPUs use batch_size=16 // N per GPU),
# labeled = a fraction of the 10,582 trainaug images, unlabeled = the rest.
# Split lists (nested for one seed):
#   python tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012 \
#       --sizes 1/16 1/8 1/4 --labeled-lists ImageSets/Segmentation/train.txt
# Labeled / unlabeled lists per setting (ImageSets/Segmentation/...):
#   1/16: splits/seed0/labeled_1-16.txt / splits/seed0/weak_1-16.txt  (661)
#   1/8:  splits/seed0/labeled_1-8.txt  / splits/seed0/weak_1-8.txt  (1,323)
#   1/4:  splits/seed0/labeled_1-4.txt  / splits/seed0/weak_1-4.txt  (2,646)
#   1,464 train: train.txt / splits/seed0/aug_minus_train.txt
#   full: aug.txt / aug.txt (the unlabeled branch sees the labeled images)
# This file uses 1/8 (`labeled_dataset` / `unlabeled_dataset`, the layout of
# mmdet's semi-supervised configs); a setting's config re-points the two
# lists and re-assigns the datasets:
#   labeled_dataset = _base_.labeled_dataset
#   labeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/labeled_1-16.txt'
#   unlabeled_dataset = _base_.unlabeled_dataset
#   unlabeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/weak_1-16.txt'
#   train_dataloader = dict(
#       dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
# Each unlabeled image gives two overlapping crops 'view1' / 'view2'
# (OverlappingCropPair: IoU in [0.1, 1], offsets on the stride-8 grid), each
# flipped and photometrically augmented on its own, whose SegDataSample
# carries 'overlap_box' and 'flip'. The model's data_preprocessor must be
#   dict(type='mmdet.MultiBranchDataPreprocessor',
#        data_preprocessor=dict(type='SegDataPreProcessor', ...))
_base_ = ['./voc12aug_weak.py', './cac_views.py']
crop_size = (320, 320)
img_scale = (2048, 512)
base_size = 400  # the authors' base_size: long side ranges are ratios of it
labeled_long_side = (200, 800)  # randint(0.5 * 400, 2.0 * 400)
unlabeled_long_side = (320, 800)  # randint(0.8 * 400, 2.0 * 400)
# the authors' padding colour: the ImageNet mean in 0-255 (BGR), truncated
# to uint8 by OpenCV
pad_img = (103, 116, 123)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(
        type='RandomLongSideResize',
        long_side_range=labeled_long_side,
        interpolation='bicubic',
        backend='pillow',
        seg_backend='cv2'),
    # the authors' _crop: padded at the bottom / right to the crop size
    dict(
        type='PaddedRandomCrop',
        crop_size=crop_size,
        pad_val=pad_img,
        seg_pad_val=255),
    dict(type='RandomFlip', prob=0.5),
    {{_base_.sup_branch}},
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomLongSideResize',
        long_side_range=unlabeled_long_side,
        interpolation='bicubic',
        backend='pillow',
        seg_backend='cv2'),
    dict(
        type='OverlappingCropPair',
        crop_size=crop_size,
        iou_range=(0.1, 1.0),
        stride={{_base_.feature_stride}}),
    {{_base_.view_branches}},
]
labeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    ann_file='ImageSets/Segmentation/splits/seed0/labeled_1-8.txt',
    supervision='full',
    pipeline=labeled_pipeline)
unlabeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    ann_file='ImageSets/Segmentation/splits/seed0/weak_1-8.txt',
    supervision='unlabeled',
    pipeline=unlabeled_pipeline)
train_dataloader = dict(
    batch_size=16,
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=16,
        source_ratio=[1, 1]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[labeled_dataset, unlabeled_dataset]))
# evaluation on the original image (the authors' val loader)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='PackWeakSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
