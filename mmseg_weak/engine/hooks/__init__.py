from .self_correction_alpha_hook import (SelfCorrectionAlphaHook,
                                         exponential_alpha)

__all__ = ['SelfCorrectionAlphaHook', 'exponential_alpha']
