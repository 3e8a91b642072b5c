# Convolutional self-correction, stage 1 of 3 (Sec. 3.4): the F = 200 ancillary
# model trained on half of F (make_splits.py --pool <F list> --sizes 1/2).
_base_ = './ancillary_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py'
train_dataloader = dict(
    dataset=dict(ann_file='ImageSets/Segmentation/splits/f200/seed0/labeled_1-2.txt'))
