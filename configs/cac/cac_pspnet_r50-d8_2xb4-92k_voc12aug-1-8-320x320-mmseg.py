# Context-Aware Consistency (Lai et al., CVPR 2021), PSPNet R-50, PASCAL VOC
# 2012 aug with 1/8 (1,323 masks, 9,259 unlabeled). Table 1, "Ours" PSPNet
# ResNet50, 1/8: 71.3 mIoU.
#
# MMSeg-standard variant of cac_pspnet_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py
# (the paper config, which trains like the authors' code): MMSeg's model and
# augmentation choices, see configs/cac/README.md, "Paper configs vs MMSeg
# choices".
_base_ = [
    './_base_/cac_pspnet_r50-d8-mmseg.py',
    '../_base_/datasets/voc12aug_semi-mmseg.py',
    '../_base_/default_runtime.py',
    './_base_/schedule_cac_voc12aug-2xb4-92k.py'
]
model = dict(
    warmup_iters=5785,  # 5 epochs of 1157 steps (see the schedule)
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
train_dataloader = dict(batch_size=8, sampler=dict(batch_size=8))  # 4 + 4
