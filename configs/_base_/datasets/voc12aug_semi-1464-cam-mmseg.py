# voc12aug_semi-1464-cam.py (PASCAL VOC 2012 with extra image-level labels,
# Lai et al., CVPR 2021, Sec. 3.5 / 4.4: the 1,464 train masks + CAM
# pseudo-masks of the other 9,118 trainaug images) with the MMSeg-standard
# augmentation of the -mmseg CAC variants (voc12aug_semi-mmseg.py: MMSeg's
# RandomResize(scale=(2048, 512), ratio_range=(0.5, 2.0)) for both
# branches). How to make the CAM pseudo-masks: voc12aug_semi-1464-cam.py.
_base_ = './voc12aug_semi-mmseg.py'
pseudo_path = 'PseudoMasks/cam'
# an image-labeled image: the unlabeled pipeline with its CAM pseudo-mask
# loaded, which is resized and cropped / flipped with each view
# (SelectCropView) and packed as the view's gt_sem_seg
pseudo_mask_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVerifiedAnnotations', num_classes={{_base_.num_classes}}),
    *_base_.unlabeled_pipeline[1:],
]
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'ImageSets/Segmentation/train.txt'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.update(
    ann_file='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
    supervision='pseudo_mask',
    data_prefix=dict(
        img_path='JPEGImages',
        seg_map_path='SegmentationClassAug',
        pseudo_path=pseudo_path,
        ann_path='Annotations'),
    pipeline=pseudo_mask_pipeline)
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
