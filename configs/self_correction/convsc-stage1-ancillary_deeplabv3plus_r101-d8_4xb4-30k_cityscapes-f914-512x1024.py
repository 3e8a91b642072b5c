# Convolutional self-correction, stage 1 of 3, on Cityscapes: the
# ancillary model trained on HALF of F (457 of the 914 images).
# Split: make_splits.py data/cityscapes --pool splits/seed0/labeled_914.txt
#        --sizes 1/2 --out-dir splits/f914
_base_ = './ancillary_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py'
train_dataloader = dict(
    dataset=dict(ann_file='splits/f914/seed0/labeled_1-2.txt'))
