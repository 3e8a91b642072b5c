# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50,
# Cityscapes (19 classes) with 1/8 (372 masks, 2,603 unlabeled). Table 2,
# "Ours", 1/8: 69.7 mIoU.
#
# Trains like the authors' code (model, augmentation, loss: see
# configs/cac/README.md); MMSeg-standard variant:
# cac_deeplabv3plus_r50-d8_4xb2-92k_cityscapes-1-8-720x720-mmseg.py.
_base_ = [
    '../_base_/models/cac_deeplabv3plus_r50-d8.py',
    '../_base_/datasets/cityscapes_semi.py',
    '../_base_/default_runtime.py',
    './_base_/schedule_cac_cityscapes-4xb2-92k.py'
]
model = dict(
    warmup_iters=5785,  # 5 epochs of 1157 steps (see the schedule)
    loss_dc=dict(memory_bank_size=0),
    decode_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(batch_size=4, sampler=dict(batch_size=4))  # 2 + 2
