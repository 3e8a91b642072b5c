from .balanced_cross_entropy_loss import (BalancedCrossEntropyLoss,
                                          balanced_cross_entropy)
from .base_loss import BaseLoss
from .directional_contrastive_loss import (DirectionalContrastiveLoss,
                                           directional_contrastive_loss,
                                           pixel_contrastive_nll)
from .pus_loss import PUS_MODES, PUSLoss, pus_transform, set_pus_enabled
from .soft_cross_entropy_loss import (SoftCrossEntropyLoss, soft_cross_entropy,
                                      weight_sum)

__all__ = [
    'BalancedCrossEntropyLoss', 'BaseLoss', 'DirectionalContrastiveLoss',
    'PUSLoss', 'PUS_MODES', 'SoftCrossEntropyLoss', 'balanced_cross_entropy',
    'directional_contrastive_loss', 'pixel_contrastive_nll', 'pus_transform',
    'set_pus_enabled', 'soft_cross_entropy', 'weight_sum'
]
