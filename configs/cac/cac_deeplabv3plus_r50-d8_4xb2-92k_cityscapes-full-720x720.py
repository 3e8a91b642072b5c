# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50,
# Cityscapes (19 classes) with all 2,975 masks. Table 2, "Ours", full: 77.5
# mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_4xb2-92k_cityscapes-1-8-720x720.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'train.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'train.txt'
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
