from .self_correction_alpha_hook import (SelfCorrectionAlphaHook,
                                         exponential_alpha)

__all__ = ['SelfCorrectionAlphaHook', 'exponential_alpha']
from .seg_loss_warmup_hook import SegLossWarmupHook  # noqa: E402

__all__ += ['SegLossWarmupHook']
from .cyclic_pseudo_mask_hook import (CyclicPseudoMaskHook,  # noqa: E402
                                      write_label_png)

__all__ += ['CyclicPseudoMaskHook', 'write_label_png']
