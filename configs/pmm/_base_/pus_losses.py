# The PUS loss of Pseudo-mask Matters (Li et al.,
# https://arxiv.org/abs/2108.12995, Sec. 3.4) around MMSeg's cross-entropy,
# the VOC setting: clamp, beta = kappa = 0.5 (the per-pixel loss is capped at
# kappa once the batch's mean loss falls below beta). One entry per head, CE
# weights 1.0 / 0.4 as MMSeg's; a model base uses them as
#   decode_head=dict(loss_decode=dict(_delete_=True, **_base_.pus_decode_loss))
pus_decode_loss = dict(
    type='PUSLoss',
    mode='clamp',
    beta=0.5,
    kappa=0.5,
    loss=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
pus_auxiliary_loss = dict(
    pus_decode_loss,
    loss=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4))
