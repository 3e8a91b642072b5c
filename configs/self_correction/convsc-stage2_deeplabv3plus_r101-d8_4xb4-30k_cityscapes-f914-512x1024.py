"""Convolutional self-correction, stage 2 of 3, on Cityscapes: primary model
+ correction network trained on F = 914 only (first and last terms of Eq. 6)."""
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_self-correction.py',
    '../_base_/datasets/cityscapes_boxes.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    data_preprocessor=dict(size={{_base_.crop_size}}),
    ancillary=dict(
        config='configs/self_correction/convsc-stage1_ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py',
        checkpoint='work_dirs/convsc-stage1_ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024/iter_30000.pth'),
    decode_head=dict(
        type='ConvSelfCorrectionHead',
        correction_channels=128,
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
# F alone (masks + boxes)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='splits/seed0/labeled_914.txt',
        supervision='full',
        with_boxes=True,
        pipeline={{_base_.train_box_pipeline}}))
