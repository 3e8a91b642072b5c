from .balanced_cross_entropy_loss import (BalancedCrossEntropyLoss,
                                          balanced_cross_entropy)
from .multilabel_soft_margin_loss import (MultiLabelSoftMarginLoss,
                                          multilabel_soft_margin_loss)

__all__ = [
    'BalancedCrossEntropyLoss', 'balanced_cross_entropy',
    'MultiLabelSoftMarginLoss', 'multilabel_soft_margin_loss'
]
