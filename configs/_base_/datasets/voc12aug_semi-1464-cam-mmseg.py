# voc12aug_semi-1464-cam.py (PASCAL VOC 2012 with extra image-level labels,
# Lai et al., CVPR 2021, Sec. 3.5 / 4.4: the 1,464 train masks + CAM
# pseudo-masks of the other 9,118 trainaug images) with the MMSeg-standard
# augmentation of the -mmseg CAC variants (voc12aug_semi-mmseg.py: MMSeg's
# RandomResize(scale=(2048, 512), ratio_range=(0.5, 2.0)) for both
# branches). How to make the CAM pseudo-masks: voc12aug_semi-1464-cam.py.
_base_ = './voc12aug_semi-mmseg.py'
labeled_split = 'ImageSets/Segmentation/train.txt'
unlabeled_split = 'ImageSets/Segmentation/splits/seed0/aug_minus_train.txt'
pseudo_path = 'PseudoMasks/cam'
# an image-labeled image: its CAM pseudo-mask is loaded, resized and cropped /
# flipped with each view (SelectCropView), packed as the view's gt_sem_seg
pseudo_mask_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(
        type='RandomResize',
        scale={{_base_.img_scale}},
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(
        type='OverlappingCropPair',
        crop_size={{_base_.crop_size}},
        iou_range=(0.1, 1.0),
        stride={{_base_.feature_stride}}),
    dict(
        type='mmdet.MultiBranch',
        branch_field={{_base_.branch_field}},
        view1={{_base_.view1_pipeline}},
        view2={{_base_.view2_pipeline}}),
]
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
                supervision='pseudo_mask',
                data_prefix=dict(
                    img_path='JPEGImages',
                    seg_map_path='SegmentationClassAug',
                    pseudo_path=pseudo_path,
                    ann_path='Annotations'),
                pipeline=pseudo_mask_pipeline),
        ]))
