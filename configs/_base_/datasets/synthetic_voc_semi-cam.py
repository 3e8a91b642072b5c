# Generated VOC data with extra image-level labels (the synthetic twin of
# voc12aug_semi-1464-cam.py): labeled_1-8 (50 masks) + weak_1-8 (350 images
# with CAM pseudo-masks in PseudoMasks/cam, see voc12aug_semi-1464-cam.py for
# the two tools), each image-labeled image cropped into two views.
_base_ = './synthetic_voc_semi.py'
pseudo_path = 'PseudoMasks/cam'
# an image-labeled image: the unlabeled pipeline with its CAM pseudo-mask
# loaded, which is resized and cropped / flipped with each view
# (SelectCropView) and packed as the view's gt_sem_seg
pseudo_mask_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    *_base_.unlabeled_pipeline[1:],
]
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.update(
    ann_file='ImageSets/Segmentation/splits/seed0/weak_1-8.txt',
    supervision='pseudo_mask',
    data_prefix=dict(
        img_path='JPEGImages',
        seg_map_path='SegmentationClassAug',
        pseudo_path=pseudo_path,
        ann_path='Annotations'),
    pipeline=pseudo_mask_pipeline)
train_dataloader = dict(
    dataset=dict(datasets=[_base_.labeled_dataset, unlabeled_dataset]))
