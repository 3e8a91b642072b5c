# Convolutional self-correction, stage 1 of 3 (Ibrahim et al., CVPR 2020,
# Sec. 3.4): the ancillary model of
# ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py trained on
# HALF of F. Split:
#   make_splits.py <root> --pool ImageSets/Segmentation/train.txt \
#       --sizes 1/2 --out-dir ImageSets/Segmentation/splits/f1464
_base_ = './ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f1464-512x512.py'
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/splits/f1464/seed0/labeled_1-2.txt'))
