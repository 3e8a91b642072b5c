"""Convolutional self-correction, stage 2 of 3 (Ibrahim et al., CVPR 2020,
Sec. 3.4): primary model + correction network (2 x 3x3 conv, 128 channels)
trained on the F = 1464 fully labeled images only (first and last terms of
Eq. 6), with the stage-1 ancillary model."""
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_self-correction.py',
    '../_base_/datasets/voc12aug_weak.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    ancillary=dict(
        config='configs/self_correction/convsc-stage1_ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512.py',
        checkpoint='work_dirs/convsc-stage1_ancillary_deeplabv3plus_r50-d8_4xb4-30k_voc12aug-f1464-512x512/iter_30000.pth'),
    decode_head=dict(
        type='ConvSelfCorrectionHead',
        correction_channels=128,
        primary=dict(num_classes={{_base_.num_classes}})),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/train.txt',
        with_boxes=True,
        pipeline={{_base_.train_box_pipeline}}))
