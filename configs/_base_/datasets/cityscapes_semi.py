# Semi-supervised Cityscapes as in Lai et al. (CVPR 2021, Sec. 4.1): crop
# 720, resize ratio 0.5-2, 8 labeled + 8 unlabeled images per batch (the
# paper's total batch over 4 GPUs: batch_size=4 per GPU there), labeled = a
# fraction of the 2,975 training images, unlabeled = the rest.
# Dataset type as cityscapes_boxes.py: WeakCityscapesDataset, i.e. the 12
# classes (11 objects + background) of that dataset, not the paper's 19.
# Split lists (train.txt as in cityscapes_boxes.py):
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
_base_ = ['./cityscapes_boxes.py', './cac_views.py']
labeled_split = 'splits/seed0/labeled_1-8.txt'
unlabeled_split = 'splits/seed0/weak_1-8.txt'
crop_size = (720, 720)
img_scale = (2048, 1024)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
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
        datasets=[
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=labeled_split,
                supervision='full',
                pipeline=labeled_pipeline),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=unlabeled_split,
                supervision='unlabeled',
                pipeline=unlabeled_pipeline),
        ]))
