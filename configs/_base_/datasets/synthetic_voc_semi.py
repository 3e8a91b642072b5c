# Semi-supervised training on the generated VOC data, as in Lai et al.
# (CVPR 2021, Sec. 4.1): labeled = 1/8 of the 400 trainaug images (masks),
# unlabeled = the other 7/8; 4 labeled + 4 unlabeled images per batch
# (mmdet's MultiSourceSampler). Split lists (tools/demo.sh writes them):
#   python tools/dataset_converters/make_splits.py \
#       data/synthetic_voc/VOCdevkit/VOC2012 --sizes 1/8 1/4
# Labeled images go through the 'sup' branch; each unlabeled image gives two
# overlapping crops 'view1' / 'view2' (OverlappingCropPair, IoU in [0.1, 1],
# offsets on the stride-8 feature grid), each flipped and photometrically
# augmented on its own, whose SegDataSample carries 'overlap_box' and 'flip'.
# The model's data_preprocessor must be
#   dict(type='mmdet.MultiBranchDataPreprocessor',
#        data_preprocessor=dict(type='SegDataPreProcessor', ...))
_base_ = './synthetic_voc.py'
labeled_split = 'ImageSets/Segmentation/splits/seed0/labeled_1-8.txt'
unlabeled_split = 'ImageSets/Segmentation/splits/seed0/weak_1-8.txt'
crop_size = (96, 96)
img_scale = (128, 128)
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
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.5),
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
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.5),
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
    batch_size=8,
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=8,
        source_ratio=[1, 1]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                metainfo={{_base_.metainfo}},
                ann_file=labeled_split,
                supervision='full',
                pipeline=labeled_pipeline),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                metainfo={{_base_.metainfo}},
                ann_file=unlabeled_split,
                supervision='unlabeled',
                pipeline=unlabeled_pipeline),
        ]))
