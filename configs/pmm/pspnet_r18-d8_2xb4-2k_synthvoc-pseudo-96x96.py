# Pseudo-mask Matters (Li et al., https://arxiv.org/abs/2108.12995) on
# generated VOC-format data: PSPNet (half-width ResNet-18 from scratch) on the
# PPMG pseudo-masks with the PUS loss (clamp, beta = kappa = 0.5) for 1k
# iterations, then one cyclic round: the model predicts the training set,
# the predictions replace the pseudo-masks and training restarts from the
# initial weights for 1k more iterations without PUS.
_base_ = [
    '../_base_/models/pspnet_r18-d8_scratch.py',
    '../_base_/datasets/synthetic_voc_pseudo.py',
    '../_base_/default_runtime.py'
]
round_iters = 1000
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    decode_head=dict(
        num_classes={{_base_.num_classes}},
        loss_decode=dict(
            _delete_=True,
            type='PUSLoss',
            loss=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            mode='clamp',
            beta=0.5,
            kappa=0.5)),
    auxiliary_head=dict(
        num_classes={{_base_.num_classes}},
        loss_decode=dict(
            _delete_=True,
            type='PUSLoss',
            loss=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4),
            mode='clamp',
            beta=0.5,
            kappa=0.5)))
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
# one poly segment per round: the cyclic round restarts the lr
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=round_iters,
         by_epoch=False),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=round_iters,
         end=2 * round_iters, by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=2 * round_iters,
    val_interval=round_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=round_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [
    dict(
        type='CyclicPseudoMaskHook',
        round_iters=[round_iters],
        predict_pipeline={{_base_.predict_pipeline}},
        restrict_to_image_labels=True,
        disable_pus=True,
        restart=True)
]
