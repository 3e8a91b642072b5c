# PASCAL VOC 2012 with extra image-level labels as in Lai et al. (CVPR 2021,
# Sec. 3.5 / 4.4, following CCT): the 1,464 train images with masks, the
# other 9,118 trainaug images with image labels only, through CAM
# pseudo-masks (PseudoMasks/cam, ignore = 255). Each image-labeled image
# gives the two overlapping views of the semi-supervised setting (DC loss)
# whose pseudo-masks train the auxiliary classifier C_w. Pseudo-masks from
# a CAM network trained on the image labels (e.g. the CAM baseline of
# configs/single_stage), labelled by the argmax of the CAMs and a background
# score (no CRF; CCT also thresholds plain CAMs):
#   python tools/generate_cams.py \
#       configs/single_stage/cam-gap_r101-d8_4xb4-13k_voc12aug-321x321.py \
#       work_dirs/cam-gap/iter_13000.pth --out-dir work_dirs/cams \
#       --ann-file ImageSets/Segmentation/splits/seed0/aug_minus_train.txt \
#       --scales 1.0 0.5 1.5 2.0 --flip
#   python tools/generate_pseudo_masks.py --method argmax \
#       --img-dir data/VOCdevkit/VOC2012/JPEGImages \
#       --cam-dir work_dirs/cams \
#       --out-dir data/VOCdevkit/VOC2012/PseudoMasks/cam
# Split lists: tools/dataset_converters/make_splits.py data/VOCdevkit/VOC2012
#     --labeled-lists ImageSets/Segmentation/train.txt
# Augmentation of the authors (voc12aug_semi.py): labeled long side
# 200-800 px, image-labeled 320-800 px; MMSeg's:
# voc12aug_semi-1464-cam-mmseg.py.
_base_ = './voc12aug_semi.py'
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
