from .self_correction_alpha_hook import (SelfCorrectionAlphaHook,
                                         exponential_alpha)

__all__ = ['SelfCorrectionAlphaHook', 'exponential_alpha']
from .seg_loss_warmup_hook import SegLossWarmupHook  # noqa: E402

__all__ += ['SegLossWarmupHook']
from .cyclic_pseudo_mask_hook import (CyclicPseudoMaskHook,  # noqa: E402
                                      write_label_png)

__all__ += ['CyclicPseudoMaskHook', 'write_label_png']
from .round_poly_lr import RoundPolyLR  # noqa: E402

__all__ += ['RoundPolyLR']
from .iter_sync_buffers_hook import IterSyncBuffersHook  # noqa: E402,F401
