# VOC 2012 aug for box-supervised training, in the layout of mmdet's
# semi-supervised configs: `labeled_dataset` F = the 1,464 fully labeled
# train images (masks + boxes), `weak_dataset` W = the other 9,118 trainaug
# images (boxes only); 1 F + 3 W images per batch of 4 (mmdet's
# MultiSourceSampler). Another F size (200 / 400 / 800) re-points the two
# lists and re-assigns the datasets (e.g. configs/self_correction/
# nosc_deeplabv3plus_r101-d8_4xb4-30k_voc12aug-f200-512x512.py):
#   labeled_dataset = _base_.labeled_dataset
#   labeled_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/labeled_200.txt'
#   weak_dataset = _base_.weak_dataset
#   weak_dataset.ann_file = 'ImageSets/Segmentation/splits/seed0/weak_200.txt'
#   train_dataloader = dict(
#       dataset=dict(datasets=[labeled_dataset, weak_dataset]))
# Split lists: tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012
#     --labeled-lists ImageSets/Segmentation/train.txt --sizes 200 400 800
_base_ = './voc12aug_weak.py'
labeled_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    ann_file='ImageSets/Segmentation/train.txt',
    supervision='full',
    with_boxes=True,
    pipeline={{_base_.train_box_pipeline}})
weak_dataset = dict(
    type={{_base_.dataset_type}},
    data_root={{_base_.data_root}},
    ann_file='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
    supervision='box',
    pipeline={{_base_.box_pipeline}})
train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='mmdet.MultiSourceSampler',
        batch_size=4,
        source_ratio=[1, 3]),
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[labeled_dataset, weak_dataset]))
