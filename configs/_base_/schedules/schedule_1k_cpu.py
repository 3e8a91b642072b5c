# Short iteration-based schedule for generated data on CPU.
_base_ = './iter_based.py'
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=1000,
         by_epoch=False)
]
train_cfg = dict(max_iters=1000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500))
