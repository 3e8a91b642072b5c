# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50, PASCAL
# VOC 2012 aug with 1/16 (661 masks, 9,921 unlabeled). Table 1, "Ours"
# DeepLabv3+ ResNet50, 1/16: 70.1 mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/labeled_1-16.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/weak_1-16.txt'
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
