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
# the training images at test scale: what a cyclic round predicts
predict_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
    dict(type='LoadImageLabels', num_classes={{_base_.num_classes}}),
    dict(type='PackWeakSegInputs'),
]
