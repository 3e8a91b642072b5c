# PASCAL VOC 2012 aug with pseudo-masks (Pseudo-mask Matters, Li et al.):
# the 10,582 trainaug images train on the PNGs in PseudoMasks/ppmg (made by
# tools/generate_pseudo_masks.py), whose quality is measured against
# SegmentationClassAug; validation on the 1,449 val masks. MMSeg's VOC
# settings: random rescale 0.5-2.0 of (2048, 512), 512x512 crops, flip,
# photometric distortion.
_base_ = './voc12aug_weak.py'
pseudo_path = 'PseudoMasks/ppmg'
train_dataloader = dict(
    dataset=dict(
        supervision='pseudo_mask',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClassAug',
            pseudo_path=pseudo_path,
            ann_path='Annotations')))
# test-time augmentation as the authors' MMSeg 0.x MultiScaleFlipAug:
# img_scale (2048, 512) times 0.5-1.75, each with and without a horizontal
# flip (12 views; the predictions are merged as the mean softmax by MMSeg's
# SegTTAModel). tta_pipeline: `tools/test.py --tta` on val (with the ground
# truth); predict_tta_pipeline: the same views of the training images for a
# cyclic round (image labels instead of masks).
tta_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_views = [
    [
        dict(type='Resize', scale=(int(2048 * r), int(512 * r)),
             keep_ratio=True) for r in tta_ratios
    ],
    [
        dict(type='RandomFlip', prob=0., direction='horizontal'),
        dict(type='RandomFlip', prob=1., direction='horizontal')
    ],
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=tta_views + [
            [dict(type='LoadVerifiedAnnotations',
                  num_classes={{_base_.num_classes}})],
            [dict(type='PackWeakSegInputs')],
        ])
]
predict_tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=tta_views + [
            [dict(type='LoadImageLabels',
                  num_classes={{_base_.num_classes}})],
            [dict(type='PackWeakSegInputs')],
        ])
]
