# MMSeg-standard augmentation of the -mmseg CAC variants on semi-supervised
# Cityscapes (1/8 split; cityscapes_semi.py, the paper configs' base, has the
# authors' augmentation): MMSeg's RandomResize(scale=(2048, 1024),
# ratio_range=(0.5, 2.0)) for the labeled and the unlabeled images (the
# authors: long side 1024-4096 / 1638-4096 px), RandomCrop without padding,
# no colour jitter on the labeled images (the authors: ColorJitter(0.4, 0.4,
# 0.4, 0.1)).
_base_ = './cityscapes_semi.py'
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='RandomResize', scale={{_base_.img_scale}},
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    {{_base_.sup_branch}},
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale={{_base_.img_scale}},
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(
        type='OverlappingCropPair',
        crop_size={{_base_.crop_size}},
        iou_range=(0.1, 1.0),
        stride={{_base_.feature_stride}}),
    {{_base_.view_branches}},
]
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline = labeled_pipeline
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.pipeline = unlabeled_pipeline
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
