# The half-width PSPNet R-18 trained from scratch of the CPU configs
# (configs/_base_/models/pspnet_r18-d8_scratch.py) with the PUS loss of
# Pseudo-mask Matters on both heads, as pmm_pspnet_r50-d8.py: clamp,
# beta = kappa = 0.5 (pus_losses.py); CE weights 1.0 / 0.4 as MMSeg's.
_base_ = ['../../_base_/models/pspnet_r18-d8_scratch.py', './pus_losses.py']
model = dict(
    decode_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_decode_loss)),
    auxiliary_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_auxiliary_loss)))
