# Fully supervised DeepLabV3+ R-101 on VOC 2012 aug (10,582 masks) through the
# weak-label data layer: the upper bound of every weak / semi-supervised row.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/datasets/voc12aug_weak.py', '../_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
