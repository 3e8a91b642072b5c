# Box-free model trained on the 100 fully labeled images of train.txt only:
# the "F only" reference of the weak / semi-supervised methods.
_base_ = './deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
train_dataloader = dict(
    dataset=dict(ann_file='ImageSets/Segmentation/train.txt'))
