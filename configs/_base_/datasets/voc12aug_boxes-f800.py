# VOC 2012 aug for box-supervised training: F = 800 fully labeled images
# (masks + boxes), W = the other 9782 trainaug images (boxes only);
# 1 F + 3 W images per batch of 4 (mmdet's MultiSourceSampler).
# Split lists: tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012
#     --labeled-lists ImageSets/Segmentation/train.txt --sizes 200 400 800
_base_ = './voc12aug_weak.py'
labeled_split = 'ImageSets/Segmentation/splits/seed0/labeled_800.txt'
weak_split = 'ImageSets/Segmentation/splits/seed0/weak_800.txt'
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
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=labeled_split,
                supervision='full',
                with_boxes=True,
                pipeline={{_base_.train_box_pipeline}}),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=weak_split,
                supervision='box',
                pipeline={{_base_.box_pipeline}}),
        ]))
