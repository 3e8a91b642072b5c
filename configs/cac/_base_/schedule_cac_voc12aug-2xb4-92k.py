# Schedule of Lai et al. (CVPR 2021, Sec. 4.1) on PASCAL VOC, with the epoch
# length of the authors' train.py: SGD (momentum 0.9, weight decay 1e-4),
# lr 0.01 for the head / projector and 0.001 for the backbone, poly decay
# (power 0.9) to 0, 80 epochs, the DC loss after 5 epochs of supervised-only
# training. The released train.py fixes iter_per_epoch = 1157 for every
# split (= floor(9,259 unlabeled images of the 1/8 split / 8 per step)), so
# an "epoch" is 1157 steps whatever the labeled set size:
# 80 x 1157 = 92,560 iterations, warm-up 5 x 1157 = 5,785.
# Model and data settings of the same schedule, set by each config (sibling
# bases may not share keys): model.warmup_iters = 5 * 1157 = 5785, and
# 8 labeled + 8 unlabeled images per step on 2 GPUs, i.e. 4 + 4 per process:
# train_dataloader batch_size = sampler batch_size = 8 ("2xb4" = 2 GPUs x 4
# labeled images; each step also 4 unlabeled images = 8 view crops per GPU;
# with N GPUs use 16 // N).
_base_ = '../../_base_/schedules/iter_based.py'
iters_per_epoch = 1157
max_iters = 80 * iters_per_epoch
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    clip_grad=None,
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=10 * iters_per_epoch)
default_hooks = dict(
    checkpoint=dict(interval=10 * iters_per_epoch, max_keep_ckpts=2))
