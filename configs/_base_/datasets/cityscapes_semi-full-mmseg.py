# cityscapes_semi-mmseg.py (MMSeg-standard augmentation of the -mmseg CAC
# variants) with all 2,975 training images labeled ("Full" of
# Table 2); the unlabeled branch crops view pairs of the same images.
_base_ = './cityscapes_semi-mmseg.py'
labeled_split = 'train.txt'
unlabeled_split = 'train.txt'
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
