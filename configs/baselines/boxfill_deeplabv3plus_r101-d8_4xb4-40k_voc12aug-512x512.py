# Naive box baseline on VOC 2012 aug: the 1,464 train images with masks + the
# 9,118 other trainaug images with boxes filled as masks (smaller box on top);
# 1 labeled + 3 box-only images per batch of 4 (mmdet's MultiSourceSampler).
_base_ = './deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py'
_common = dict(type={{_base_.dataset_type}}, data_root={{_base_.data_root}})
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=4,
        source_ratio=[1, 3]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(_common, ann_file='ImageSets/Segmentation/train.txt',
                 supervision='full', pipeline={{_base_.train_pipeline}}),
            dict(_common,
                 ann_file='ImageSets/Segmentation/splits/seed0/'
                 'aug_minus_train.txt',
                 supervision='box', pipeline={{_base_.box_fill_pipeline}}),
        ]))
