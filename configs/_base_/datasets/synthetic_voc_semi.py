# Semi-supervised training on the generated VOC data, as in Lai et al.
# (CVPR 2021, Sec. 4.1): labeled = 1/8 of the 400 trainaug images (masks),
# unlabeled = the other 7/8; 4 labeled + 4 unlabeled images per batch
# (mmdet's MultiSourceSampler; `labeled_dataset` / `unlabeled_dataset` as in
# mmdet's semi-supervised configs). Split lists (tools/demo.sh writes them):
#   python tools/dataset_converters/make_splits.py \
#       data/synthetic_voc/VOCdevkit/VOC2012 --sizes 1/8 1/4
# Labeled images go through the 'sup' branch; each unlabeled image gives two
# overlapping crops 'view1' / 'view2' (OverlappingCropPair, IoU in [0.1, 1],
# offsets on the stride-8 feature grid), each flipped and photometrically
# augmented on its own, whose SegDataSample carries 'overlap_box' and 'flip'.
# The model's data_preprocessor must be
#   dict(type='mmdet.MultiBranchDataPreprocessor',
#        data_preprocessor=dict(type='SegDataPreProcessor', ...))
_base_ = ['./synthetic_voc.py', './cac_views.py']
crop_size = (96, 96)
img_scale = (128, 128)
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    {{_base_.sup_branch}},
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.5),
         keep_ratio=True),
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
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/splits/seed0/labeled_1-8.txt',
    supervision='full',
    pipeline=labeled_pipeline)
unlabeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/splits/seed0/weak_1-8.txt',
    supervision='unlabeled',
    pipeline=unlabeled_pipeline)
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
        datasets=[labeled_dataset, unlabeled_dataset]))
