from .cyclic_pseudo_mask_hook import CyclicPseudoMaskHook
from .iter_sync_buffers_hook import IterSyncBuffersHook
from .round_poly_lr import RoundPolyLR
from .seg_loss_warmup_hook import SegLossWarmupHook
from .self_correction_alpha_hook import (SelfCorrectionAlphaHook,
                                         exponential_alpha)

__all__ = [
    'CyclicPseudoMaskHook', 'IterSyncBuffersHook', 'RoundPolyLR',
    'SegLossWarmupHook', 'SelfCorrectionAlphaHook', 'exponential_alpha'
]
