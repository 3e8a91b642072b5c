# Semi-supervised Cityscapes as in Lai et al. (CVPR 2021, Sec. 4.1) with the
# authors' augmentation (dvlab-research/Context-Aware-Consistency,
# configs/city_cac_*.json base_size 2048, crop_size 720, "jitter": true for
# the labeled loader):
# - labeled images (base/base_dataset.py _augmentation): the longer side
#   resized to a random integer in [1024, 4096] (0.5-2.0 x 2048; PIL bicubic,
#   labels OpenCV nearest), a random 720x720 crop (padded at the bottom /
#   right if needed), a horizontal flip, ColorJitter(0.4, 0.4, 0.4, 0.1);
# - unlabeled images (dataloaders/city.py PairCityDataset): the longer side in
#   [1638, 4096] (0.8-2.0 x 2048), then the two overlapping crops
#   (cac_views.py; their own per-view jitter);
# - validation on the full 2048x1024 images.
# The -mmseg variants keep MMSeg's RandomResize(scale=(2048, 1024),
# ratio_range=(0.5, 2.0)) for both branches and no labeled colour jitter
# (cityscapes_semi-mmseg.py). Crop 720, 8 labeled + 8 unlabeled images per
# batch (the paper's total batch over 4 GPUs: batch_size=4 per GPU there),
# labeled = a fraction of the 2,975 training images, unlabeled = the rest.
# SemiCityscapesDataset: the 19 classes of MMSeg's CityscapesDataset. Layout:
# MMSeg's converted Cityscapes (its tools/dataset_converters/cityscapes.py
# writes *_gtFine_labelTrainIds.png) under data/cityscapes, plus
#   (cd data/cityscapes/leftImg8bit/train && find . -name '*_leftImg8bit.png' \
#     | sed 's|^\./||; s|_leftImg8bit.png$||' | sort) > data/cityscapes/train.txt
# and the split lists:
#   python tools/dataset_converters/make_splits.py data/cityscapes \
#     --pool train.txt --sizes 1/8 1/4 --out-dir splits
#   1/8: splits/seed0/labeled_1-8.txt / splits/seed0/weak_1-8.txt (372)
#   1/4: splits/seed0/labeled_1-4.txt / splits/seed0/weak_1-4.txt (744)
#   full: train.txt / train.txt (the unlabeled branch sees the labeled images)
# This file uses 1/8 (`labeled_dataset` / `unlabeled_dataset`, the layout of
# mmdet's semi-supervised configs); a setting's config re-points the two
# lists and re-assigns the datasets (as voc12aug_semi.py describes).
# Each unlabeled image gives two overlapping crops 'view1' / 'view2'
# (OverlappingCropPair: IoU in [0.1, 1], offsets on the stride-8 grid), each
# flipped and photometrically augmented on its own, whose SegDataSample
# carries 'overlap_box' and 'flip'. The model's data_preprocessor must be
#   dict(type='mmdet.MultiBranchDataPreprocessor',
#        data_preprocessor=dict(type='SegDataPreProcessor', ...))
_base_ = ['./cac_views.py']
dataset_type = 'SemiCityscapesDataset'
data_root = 'data/cityscapes'
num_classes = 19
crop_size = (720, 720)
img_scale = (2048, 1024)
base_size = 2048  # the authors' base_size: long side ranges are ratios of it
labeled_long_side = (1024, 4096)  # randint(0.5 * 2048, 2.0 * 2048)
unlabeled_long_side = (1638, 4096)  # randint(int(0.8 * 2048), 2.0 * 2048)
# the authors' padding colour: the ImageNet mean in 0-255 (BGR), truncated
# to uint8 by OpenCV
pad_img = (103, 116, 123)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
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
    # the views' ColorJitter(0.4, 0.4, 0.4, 0.1) (cac_views.py), always
    {{_base_.colour_jitter}},
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
labeled_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='splits/seed0/labeled_1-8.txt',
    supervision='full',
    pipeline=labeled_pipeline)
unlabeled_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='splits/seed0/weak_1-8.txt',
    supervision='unlabeled',
    pipeline=unlabeled_pipeline)
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(
        type='mmdet.MultiSourceSampler',
        batch_size=16,
        source_ratio=[1, 1]),
    dataset=dict(
        type='ConcatDataset',
        datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        supervision='full',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
