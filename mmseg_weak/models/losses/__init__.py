from .balanced_cross_entropy_loss import (BalancedCrossEntropyLoss,
                                          balanced_cross_entropy)
from .multilabel_soft_margin_loss import (MultiLabelSoftMarginLoss,
                                          multilabel_soft_margin_loss)

__all__ = [
    'BalancedCrossEntropyLoss', 'balanced_cross_entropy',
    'MultiLabelSoftMarginLoss', 'multilabel_soft_margin_loss'
]
from .pus_loss import (PUS_MODES, PUSLoss, pus_transform,  # noqa: E402
                       set_pus_enabled)
__all__ += ['PUS_MODES', 'PUSLoss', 'pus_transform', 'set_pus_enabled']
from .directional_contrastive_loss import (  # noqa: E402
    DirectionalContrastiveLoss, directional_contrastive_loss,
    pixel_contrastive_nll)
__all__ += [
    'DirectionalContrastiveLoss', 'directional_contrastive_loss',
    'pixel_contrastive_nll'
]
from .soft_cross_entropy_loss import (SoftCrossEntropyLoss,  # noqa: E402
                                      soft_cross_entropy, weight_sum)
__all__ += ['SoftCrossEntropyLoss', 'soft_cross_entropy', 'weight_sum']
