# Context-Aware Consistency (Lai et al., CVPR 2021), PSPNet R-50, PASCAL VOC
# 2012 aug with 1/16 (661 masks, 9,921 unlabeled). Table 1, "Ours" PSPNet
# ResNet50, 1/16: 67.1 mIoU. MMSeg-standard variant (MMSeg's model and
# augmentation choices, see configs/cac/README.md, "Paper configs vs MMSeg
# choices").
_base_ = './cac_pspnet_r50-d8_2xb4-92k_voc12aug-1-8-320x320-mmseg.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/labeled_1-16.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/weak_1-16.txt'
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
