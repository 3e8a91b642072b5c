# MMSeg's PSPNet R-50-D8 with the PUS loss of Pseudo-mask Matters (Li et al.,
# https://arxiv.org/abs/2108.12995, Sec. 3.4) on both heads: cross-entropy
# clamped at kappa once the batch's mean loss falls below beta (clamp,
# beta = kappa = 0.5, the VOC setting); CE weights 1.0 / 0.4 as MMSeg's.
_base_ = 'mmseg::_base_/models/pspnet_r50-d8.py'
_pus = dict(type='PUSLoss', mode='clamp', beta=0.5, kappa=0.5)
model = dict(
    decode_head=dict(
        loss_decode=dict(
            _delete_=True,
            loss=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            **_pus)),
    auxiliary_head=dict(
        loss_decode=dict(
            _delete_=True,
            loss=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4),
            **_pus)))
