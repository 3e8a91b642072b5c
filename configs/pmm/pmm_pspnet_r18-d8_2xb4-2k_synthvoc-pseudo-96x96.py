# Pseudo-mask Matters (Li et al., https://arxiv.org/abs/2108.12995) on
# generated VOC-format data: PSPNet (half-width ResNet-18 from scratch) on the
# PPMG pseudo-masks with the PUS loss (clamp, beta = kappa = 0.5) for 1k
# iterations, then one cyclic round: the model predicts the training set,
# the predictions replace the pseudo-masks and training restarts from the
# initial weights for 1k more iterations without PUS, with a fresh poly
# schedule. The round is CHEAPER than the paper's (configs/pmm/pspnet_voc.py:
# TTA x12 + dense CRF, no restriction): one scale, no flip, no CRF, and the
# predictions restricted to the image labels (the README's numbers).
# `tools/test.py ... --tta` uses tta_pipeline below (3 scales x flip), and
# predict_tta_pipeline gives the hook the same views (tta=True).
#
# ONE key sets the length: round_iters = [0.5] of train_cfg.max_iters for
# the hook and the RoundPolyLR schedule, e.g.
# `--cfg-options train_cfg.max_iters=400` gives 200 + 200 iterations (add
# train_cfg.val_interval=200 default_hooks.checkpoint.interval=200 to
# validate / save at the round's end too).
_base_ = [
    './_base_/pmm_pspnet_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_pseudo.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_cpu.py'
]
# round ends as fractions of train_cfg.max_iters (hook and lr schedule)
round_iters = [0.5]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(num_classes={{_base_.num_classes}}),
    auxiliary_head=dict(num_classes={{_base_.num_classes}}))
# one poly decay per round (restarted at the round's end with the weights)
param_scheduler = [
    dict(type='RoundPolyLR', round_iters=round_iters, eta_min=1e-4,
         power=0.9, begin=0, by_epoch=False)  # end: train_cfg.max_iters
]
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        round_iters=round_iters,
        supervisions=('pseudo_mask', ),
        predict_pipeline={{_base_.predict_pipeline}},
        restrict_to_image_labels=True,
        disable_pus=True,
        restart=True)
]
tta_ratios = [0.75, 1.0, 1.25]
tta_views = [
    [
        dict(type='Resize', scale=(int(128 * r), int(128 * r)),
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
