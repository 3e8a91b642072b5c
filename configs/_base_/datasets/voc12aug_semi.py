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
_base_ = './voc12aug_weak.py'
labeled_split = 'ImageSets/Segmentation/splits/seed0/labeled_1-8.txt'
unlabeled_split = 'ImageSets/Segmentation/splits/seed0/weak_1-8.txt'
crop_size = (320, 320)
img_scale = (2048, 512)
feature_stride = 8  # of the embedding the consistency loss compares
branch_field = ['sup', 'view1', 'view2']
view_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label', 'img_id', 'supervision', 'overlap_box',
                  'crop_window', 'crop_pair_iou')
# per-view low-level augmentation of the authors' code: blur (p=0.5, 5x5),
# ColorJitter(0.4, 0.4, 0.4, 0.1) with p=0.8 in random order, grayscale p=0.2
view_photometric = [
    dict(type='RandomGaussianBlur', prob=0.5, kernel_size=5),
    dict(
        type='RandomApply',
        prob=0.8,
        transforms=[
            dict(
                type='mmdet.RandomOrder',
                transforms=[
                    dict(type='mmdet.Brightness', min_mag=0.6, max_mag=1.4),
                    dict(type='mmdet.Contrast', min_mag=0.6, max_mag=1.4),
                    dict(type='mmdet.Color', min_mag=0.6, max_mag=1.4),
                    dict(type='RandomHue', max_shift=0.1),
                ])
        ]),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.299)),  # BGR luma
]
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='mmdet.MultiBranch',
        branch_field=branch_field,
        sup=[dict(type='PackWeakSegInputs')]),
]
# the two views of an unlabeled image (also used by the *-cam variants)
view1_pipeline = [
    dict(type='SelectCropView', index=0, flip_prob=0.5),
    *view_photometric,
    dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
]
view2_pipeline = [
    dict(type='SelectCropView', index=1, flip_prob=0.5),
    *view_photometric,
    dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(
        type='OverlappingCropPair',
        crop_size=crop_size,
        iou_range=(0.1, 1.0),
        stride=feature_stride),
    dict(
        type='mmdet.MultiBranch',
        branch_field=branch_field,
        view1=view1_pipeline,
        view2=view2_pipeline),
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
