# Semi-supervised PASCAL VOC 2012 aug as in Lai et al. (CVPR 2021, Sec. 4.1):
# crop 320, resize ratio 0.5-2, 8 labeled + 8 unlabeled images per batch
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
# This file uses 1/8; a setting's config redefines train_dataloader.dataset
# with the other two lists (see voc12aug_boxes-f200.py for the pattern).
# Each unlabeled image gives two overlapping crops 'view1' / 'view2'
# (OverlappingCropPair: IoU in [0.1, 1], offsets on the stride-8 grid), each
# flipped and photometrically augmented on its own, whose SegDataSample
# carries 'overlap_box' and 'flip'. The model's data_preprocessor must be
#   dict(type='mmdet.MultiBranchDataPreprocessor',
#        data_preprocessor=dict(type='SegDataPreProcessor', ...))
_base_ = ['./voc12aug_weak.py', './cac_views.py']
labeled_split = 'ImageSets/Segmentation/splits/seed0/labeled_1-8.txt'
unlabeled_split = 'ImageSets/Segmentation/splits/seed0/weak_1-8.txt'
crop_size = (320, 320)
img_scale = (2048, 512)
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
