# Context-Aware Consistency (Lai et al., CVPR 2021), DeepLabV3+ R-50, PASCAL
# VOC 2012 aug with all 10,582 masks (also used unlabeled). Table 1, "Ours"
# DeepLabv3+ ResNet50, full: 76.5 mIoU.
_base_ = './cac_deeplabv3plus_r50-d8_2xb4-92k_voc12aug-1-8-320x320.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'ImageSets/Segmentation/aug.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'ImageSets/Segmentation/aug.txt'
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
