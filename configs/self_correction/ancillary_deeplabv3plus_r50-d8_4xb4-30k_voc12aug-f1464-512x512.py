# Ancillary model (Ibrahim et al., CVPR 2020, Sec. 3.1): R-50, trained with CE
# on the F = 1464 fully labeled VOC images with their boxes; evaluated with the
# val boxes. Reproduces the "Ancillary Model" row of Table 1 (F=1464) and Table
# 2.
_base_ = [
    '../_base_/models/deeplabv3plus_r50-d8_box-encoder.py',
    '../_base_/datasets/voc12aug_weak.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_lr0.007.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/train.txt',
        with_boxes=True,
        pipeline={{_base_.train_box_pipeline}}))
val_dataloader = dict(
    dataset=dict(with_boxes=True, pipeline={{_base_.test_box_pipeline}}))
test_dataloader = val_dataloader
