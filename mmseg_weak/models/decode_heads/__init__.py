from .conv_self_correction_head import ConvSelfCorrectionHead
from .linear_self_correction_head import (LinearSelfCorrectionHead,
                                          linear_self_correction)
from .no_self_correction_head import NoSelfCorrectionHead
from .self_correction_head import SelfCorrectionHead, soft_cross_entropy

__all__ = [
    'ConvSelfCorrectionHead', 'LinearSelfCorrectionHead',
    'NoSelfCorrectionHead', 'SelfCorrectionHead', 'linear_self_correction',
    'soft_cross_entropy'
]
