# Naive weak baseline on generated VOC data: the 100 fully labeled images of
# train.txt (masks) + the 300 other trainaug images with boxes only, boxes
# filled as masks (smaller box on top). Each batch of 4 per process holds 1
# labeled and 3 box-only images (mmdet's MultiSourceSampler).
# Split list: tools/dataset_converters/make_splits.py <root> --labeled-lists
#     ImageSets/Segmentation/train.txt
_base_ = './deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
labeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/train.txt',
    supervision='full',
    pipeline={{_base_.train_pipeline}})
weak_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    metainfo={{_base_.metainfo}},
    ann_file='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
    supervision='box',
    pipeline={{_base_.box_fill_pipeline}})
train_dataloader = dict(
    batch_size=4,
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=4,
        source_ratio=[1, 3]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[labeled_dataset, weak_dataset]))
