# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50,
# Cityscapes (19 classes) with 1/4 (744 masks, 2,231 unlabeled). Table 2,
# "Ours", 1/4: 72.7 mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_4xb2-92k_cityscapes-1-8-720x720.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'splits/seed0/labeled_1-4.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'splits/seed0/weak_1-4.txt'
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
