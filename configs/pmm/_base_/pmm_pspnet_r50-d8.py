# MMSeg's PSPNet R-50-D8 with the PUS loss of Pseudo-mask Matters (Li et al.,
# https://arxiv.org/abs/2108.12995, Sec. 3.4) on both heads: cross-entropy
# clamped at kappa once the batch's mean loss falls below beta (clamp,
# beta = kappa = 0.5, the VOC setting of pus_losses.py); CE weights 1.0 / 0.4
# as MMSeg's.
_base_ = ['mmseg::_base_/models/pspnet_r50-d8.py', './pus_losses.py']
model = dict(
    decode_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_decode_loss)),
    auxiliary_head=dict(
        loss_decode=dict(_delete_=True, **_base_.pus_auxiliary_loss)))
