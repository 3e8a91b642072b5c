# Convolutional self-correction, stage 1 of 3 (Ibrahim et al., CVPR 2020,
# Sec. 3.4): the ancillary model trained on HALF of the fully labeled set F
# (50 of the 100 train.txt images), so that the correction network of stage 2
# does not learn to copy an ancillary model that is perfect on F.
# Split: make_splits.py <root> --pool ImageSets/Segmentation/train.txt
#        --sizes 1/2 --out-dir ImageSets/Segmentation/splits/train
_base_ = './ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
train_dataloader = dict(
    dataset=dict(
        ann_file='ImageSets/Segmentation/splits/train/seed0/labeled_1-2.txt'))
