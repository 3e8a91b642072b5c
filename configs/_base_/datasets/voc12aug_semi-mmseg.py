# MMSeg-standard augmentation of the -mmseg CAC variants on semi-supervised
# PASCAL VOC 2012 aug (1/8 split; voc12aug_semi.py, the paper configs' base,
# has the authors' augmentation and the other settings): MMSeg's
# RandomResize(scale=(2048, 512), ratio_range=(0.5, 2.0)) for the labeled
# and the unlabeled images (a 500x375 image gets a long side of 341-1365 px,
# the authors' 200-800 / 320-800 px), RandomCrop without padding (the batch
# is padded to its largest crop), evaluation on images resized to
# (2048, 512) (the authors: original size).
_base_ = './voc12aug_semi.py'
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(type='PackWeakSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
