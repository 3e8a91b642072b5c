# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50,
# Cityscapes (19 classes) with 1/8 (372 masks, 2,603 unlabeled). Table 2,
# "Ours", 1/8: 69.7 mIoU.
#
# MMSeg-standard variant of
# cac_deeplabv3plus_r50-d8_4xb2-92k_cityscapes-1-8-720x720.py (the paper
# config, which trains like the authors' code): MMSeg's model and augmentation
# choices, see configs/cac/README.md, "Paper configs vs MMSeg choices".
_base_ = [
    './_base_/cac_deeplabv3plus_r50-d8-mmseg.py',
    '../_base_/datasets/cityscapes_semi-mmseg.py',
    '../_base_/default_runtime.py',
    './_base_/schedule_cac_cityscapes-4xb2-92k.py'
]
model = dict(
    warmup_iters=5785,  # 5 epochs of 1157 steps (see the schedule)
    loss_dc=dict(memory_bank_size=0),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(batch_size=4, sampler=dict(batch_size=4))  # 2 + 2
