# Recipe (e): box masks -> dense CRF -> PSPNet + PUS -> one cyclic round.
#
# From boxes only (the 400 trainaug images' XML boxes, no mask): each training
# image's boxes are rasterised into per-class box masks and refined by a dense
# CRF on the image (``DenseCRFRefine`` with confidence 0.7 on the box masks:
# the object inside its box keeps its class, the box's background corners
# drift to the background), giving the ``gt_seg_map`` of that sample; a plain
# PSPNet (half-width R-18 from scratch) trains on them with the PUS loss of
# Pseudo-mask Matters (Li et al., ICCV 2021, Sec. 3.4). After round 0 (half of
# ``train_cfg.max_iters``) the ``CyclicPseudoMaskHook`` predicts every box
# image (restricted to its box labels, then the same dense CRF on the
# predicted probabilities), switches those images to ``pseudo_mask``
# supervision with the masks-loading pipeline, turns PUS off and retrains from
# the initial weights (Sec. 3.5). ``--cfg-options train_cfg.max_iters=N``
# moves the round and the lr schedule together.
_base_ = [
    '../pmm/_base_/pmm_pspnet_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_cpu.py'
]
round_iters = [0.5]  # fractions of train_cfg.max_iters (hook and lr)
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
box_crf_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBoxAnnotations'),
    dict(type='LoadImageLabels', num_classes={{_base_.num_classes}}),
    dict(type='RandomResize', scale={{_base_.img_scale}},
         ratio_range=(0.75, 1.5), keep_ratio=True),  # moves the boxes
    # at the resized image (a cheap CRF), before the crop and flip, which
    # move gt_seg_map with the image
    dict(type='RasterizeBoxMasks', num_classes={{_base_.num_classes}},
         out_key='box_masks'),
    dict(type='DenseCRFRefine', key='box_masks', seg_map_key='gt_seg_map',
         confidence=0.7, num_iter=10),
    dict(type='BoxAwareRandomCrop', crop_size={{_base_.crop_size}},
         cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        supervision='box',
        data_prefix=dict(
            img_path='JPEGImages',
            seg_map_path='SegmentationClassAug',
            ann_path='Annotations'),
        pipeline=box_crf_pipeline))
param_scheduler = [
    dict(type='RoundPolyLR', round_iters=round_iters, eta_min=1e-4,
         power=0.9, begin=0, by_epoch=False)
]
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        round_iters=round_iters,
        supervisions=('box', ),
        # the relabelled images load their round's masks as any mask
        train_pipeline={{_base_.train_pipeline}},
        predict_pipeline={{_base_.predict_pipeline}},
        restrict_to_image_labels=True,
        post_pipeline=[
            dict(type='DenseCRFRefine', key='seg_probs', num_iter=10)
        ],
        disable_pus=True,
        restart=True)
]
