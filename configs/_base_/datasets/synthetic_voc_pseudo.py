# Generated VOC-format data with pseudo-masks (Pseudo-mask Matters): the 400
# trainaug images train on the PNGs in PseudoMasks/ppmg (made by
# tools/generate_pseudo_masks.py from CAMs), measured against the generated
# ground truth (SegmentationClassAug); validation on the 100 val masks.
_base_ = './synthetic_voc.py'
pseudo_path = 'PseudoMasks/ppmg'
train_dataloader = dict(
    dataset=dict(
        supervision='pseudo_mask',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClassAug',
            pseudo_path=pseudo_path,
            ann_path='Annotations')))
