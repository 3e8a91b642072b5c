# Ancillary model (Ibrahim et al., CVPR 2020, Sec. 3.1) on Cityscapes' 11
# object classes: R-101, CE on F = 914 images with masks and boxes (from
# instance ids); evaluated with the val boxes. Reproduces the "Ancillary Model"
# row of Table 3 (F = 914).
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_box-encoder.py',
    '../_base_/datasets/cityscapes_boxes.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
# F alone (masks + boxes)
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, **_base_.labeled_dataset))
val_dataloader = dict(
    dataset=dict(with_boxes=True, pipeline={{_base_.test_box_pipeline}}))
test_dataloader = val_dataloader
