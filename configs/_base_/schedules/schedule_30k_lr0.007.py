# Ibrahim et al. (CVPR 2020): lr 0.007, 30k iterations (poly decay, MMSeg's
# default DeepLabV3+ optimiser otherwise).
_base_ = 'mmseg::_base_/schedules/schedule_40k.py'
optimizer = dict(lr=0.007)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=30000,
         by_epoch=False)
]
train_cfg = dict(max_iters=30000, val_interval=3000)
default_hooks = dict(checkpoint=dict(interval=3000))
