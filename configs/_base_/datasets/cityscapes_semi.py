# Semi-supervised Cityscapes as in Lai et al. (CVPR 2021, Sec. 4.1): crop
# 720, resize ratio 0.5-2, 8 labeled + 8 unlabeled images per batch (the
# paper's total batch over 4 GPUs: batch_size=4 per GPU there), labeled = a
# fraction of the 2,975 training images, unlabeled = the rest.
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
labeled_split = 'splits/seed0/labeled_1-8.txt'
unlabeled_split = 'splits/seed0/weak_1-8.txt'
crop_size = (720, 720)
img_scale = (2048, 1024)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='mmdet.MultiBranch',
        branch_field={{_base_.branch_field}},
        sup=[dict(type='PackWeakSegInputs')]),
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(
        type='OverlappingCropPair',
        crop_size=crop_size,
        iou_range=(0.1, 1.0),
        stride={{_base_.feature_stride}}),
    dict(
        type='mmdet.MultiBranch',
        branch_field={{_base_.branch_field}},
        view1={{_base_.view1_pipeline}},
        view2={{_base_.view2_pipeline}}),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes=num_classes),
    dict(type='PackWeakSegInputs'),
]
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
        datasets=[
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file=labeled_split,
                supervision='full',
                pipeline=labeled_pipeline),
            dict(
                type=dataset_type,
                data_root=data_root,
                ann_file=unlabeled_split,
                supervision='unlabeled',
                pipeline=unlabeled_pipeline),
        ]))
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
