# Generated VOC data with extra image-level labels (the synthetic twin of
# voc12aug_semi-1464-cam.py): labeled_1-8 (50 masks) + weak_1-8 (350 images
# with CAM pseudo-masks in PseudoMasks/cam, see voc12aug_semi-1464-cam.py for
# the two tools), each image-labeled image cropped into two views.
_base_ = './synthetic_voc_semi.py'
labeled_split = 'ImageSets/Segmentation/splits/seed0/labeled_1-8.txt'
unlabeled_split = 'ImageSets/Segmentation/splits/seed0/weak_1-8.txt'
pseudo_path = 'PseudoMasks/cam'
# an image-labeled image: its CAM pseudo-mask is loaded, resized and cropped /
# flipped with each view (SelectCropView), packed as the view's gt_sem_seg
pseudo_mask_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    dict(
        type='RandomResize',
        scale={{_base_.img_scale}},
        ratio_range=(0.75, 1.5),
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
                metainfo={{_base_.metainfo}},
                ann_file=labeled_split,
                supervision='full',
                pipeline={{_base_.labeled_pipeline}}),
            dict(
                type={{_base_.dataset_type}},
                data_root={{_base_.data_root}},
                metainfo={{_base_.metainfo}},
                ann_file=unlabeled_split,
                supervision='pseudo_mask',
                data_prefix=dict(
                    img_path='JPEGImages',
                    seg_map_path='SegmentationClassAug',
                    pseudo_path=pseudo_path,
                    ann_path='Annotations'),
                pipeline=pseudo_mask_pipeline),
        ]))
