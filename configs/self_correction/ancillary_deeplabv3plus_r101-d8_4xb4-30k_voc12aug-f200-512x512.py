# Ancillary model (Ibrahim et al., CVPR 2020, Sec. 3.1), R-101, on F = 200 VOC
# images: the "Ancillary Model" row of Table 1 (F=200).
_base_ = './ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py'
train_dataloader = dict(
    dataset=dict(ann_file='ImageSets/Segmentation/splits/seed0/labeled_200.txt'))
