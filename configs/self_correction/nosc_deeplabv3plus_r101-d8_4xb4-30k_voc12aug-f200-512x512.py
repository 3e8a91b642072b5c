# No self-correction (Ibrahim et al., CVPR 2020, Sec. 3.2, Eq. 2): R-101, F =
# 200 masks + W = 10382 box-only VOC aug images, the frozen ancillary model of
# `ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py`.
# Reproduces the "No self-correction" row of Table 1 (F=200).
_base_ = './nosc_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py'
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/labeled_200.txt'
weak_dataset = _base_.weak_dataset
weak_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/weak_200.txt'
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, weak_dataset]))
model = dict(
    ancillary=dict(
        config='configs/self_correction/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py',
        checkpoint='work_dirs/ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512/iter_30000.pth'))
