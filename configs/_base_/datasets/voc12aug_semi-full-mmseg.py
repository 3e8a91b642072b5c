# voc12aug_semi-mmseg.py (MMSeg-standard augmentation of the -mmseg CAC
# variants) with all 10,582 trainaug images labeled ("Full" of Table 1);
# the unlabeled branch crops view pairs of the same images.
_base_ = './voc12aug_semi-mmseg.py'
labeled_split = 'ImageSets/Segmentation/aug.txt'
unlabeled_split = 'ImageSets/Segmentation/aug.txt'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=labeled_split,
                supervision='full',
                pipeline={{_base_.labeled_pipeline}}),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                ann_file=unlabeled_split,
                supervision='unlabeled',
                pipeline={{_base_.unlabeled_pipeline}}),
        ]))
