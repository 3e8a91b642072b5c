# Supervised-only twin of
# cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py ("SupOnly" of Lai et
# al., CVPR 2021): the same DeepLabV3+ R-18 from scratch, schedule and labeled
# stream (4 of the 50 labeled_1-8 images per process and step, the same
# augmentation as the CAC 'sup' branch), no unlabeled images.
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_cpu.py'
]
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(
        type='RandomResize',
        scale={{_base_.img_scale}},
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        ann_file='ImageSets/Segmentation/splits/seed0/labeled_1-8.txt',
        pipeline=train_pipeline))
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
