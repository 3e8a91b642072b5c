# Context-Aware Consistency (Lai et al., CVPR 2021) on generated VOC data for
# 2k iterations (what `tools/demo.sh cac` runs): the 1k config with the poly
# schedule stretched to 2,000 iterations, validation and checkpoints every
# 1,000; the same 220 supervised-only warm-up iterations.
_base_ = './cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py'
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=2000,
         by_epoch=False)
]
train_cfg = dict(max_iters=2000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
