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
_base_ = './cityscapes_boxes.py'
labeled_split = 'splits/seed0/labeled_1-8.txt'
unlabeled_split = 'splits/seed0/weak_1-8.txt'
crop_size = (720, 720)
img_scale = (2048, 1024)
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
        view1=[
            dict(type='SelectCropView', index=0, flip_prob=0.5),
            *view_photometric,
            dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
        ],
        view2=[
            dict(type='SelectCropView', index=1, flip_prob=0.5),
            *view_photometric,
            dict(type='PackWeakSegInputs', meta_keys=view_meta_keys),
        ]),
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
