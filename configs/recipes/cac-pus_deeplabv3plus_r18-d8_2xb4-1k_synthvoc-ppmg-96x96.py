# Recipe (c): context-aware consistency on PPMG pseudo-masks with PUS.
#
# The labeled branch of Context-Aware Consistency (Lai et al., CVPR 2021) is
# fed pseudo-masks instead of ground truth: the PPMG masks of Pseudo-mask
# Matters (Li et al., ICCV 2021, Alg. 1) of the 400 trainaug images, made from
# their image labels only (``tools/generate_pseudo_masks.py --method ppmg``, in
# ``PseudoMasks/ppmg``), trained with the PUS loss (clamp, beta = kappa = 0.5)
# on the decode and auxiliary heads; the same images, unlabeled, give the
# overlapping crop pairs of the directional contrastive loss. Nothing here uses
# a ground-truth mask.
_base_ = [
    '../cac/cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py',
    '../pmm/_base_/pus_losses.py'
]
model = dict(
    decode_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_decode_loss)),
    auxiliary_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_auxiliary_loss)))
train_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type={{_base_.dataset_type}},
            data_root={{_base_.data_root}},
            metainfo={{_base_.metainfo}},
            ann_file='ImageSets/Segmentation/aug.txt',
            supervision='pseudo_mask',
            data_prefix=dict(
                img_path='JPEGImages',
                seg_map_path='SegmentationClassAug',
                pseudo_path='PseudoMasks/ppmg',
                ann_path='Annotations'),
            pipeline={{_base_.labeled_pipeline}}),
        dict(
            type={{_base_.dataset_type}},
            data_root={{_base_.data_root}},
            metainfo={{_base_.metainfo}},
            ann_file='ImageSets/Segmentation/aug.txt',
            supervision='unlabeled',
            pipeline={{_base_.unlabeled_pipeline}}),
    ]))
