# Recipe (a): box self-correction with PUS on its weak term.
#
# Linear self-correction (Ibrahim et al., CVPR 2020, Sec. 3.3): the box-only
# images W are trained with a soft cross-entropy towards the corrected
# distribution softmax((l + a*l_anc)/(a+1)); here that term is wrapped in the
# Pretended Under-fitting Strategy of Pseudo-mask Matters (Li et al., ICCV
# 2021, Sec. 3.4, clamp, beta = kappa = 0.5): once the batch's mean soft CE on
# W falls below beta, each pixel's loss is capped at kappa, so W pixels whose
# target stays far from the prediction (box corners, overlaps) stop pulling.
# The fully labeled images F keep the plain cross-entropy.
#
# Needs the ancillary checkpoint of
# ``configs/self_correction/ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py``
# (``--cfg-options model.ancillary.checkpoint=...``).
_base_ = '../self_correction/linsc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'
model = dict(
    decode_head=dict(
        loss_weak=dict(
            type='PUSLoss',
            mode='clamp',
            beta=0.5,
            kappa=0.5,
            loss=dict(type='SoftCrossEntropyLoss', loss_name='loss_weak'))))
