"""Multi-label soft-margin loss on image-level class scores.

Eq. 6 of Araslanov & Roth, *Single-Stage Semantic Segmentation from Image
Labels*, CVPR 2020 (https://arxiv.org/abs/2005.08104); the same as
``torch.nn.MultiLabelSoftMarginLoss``.
"""
from typing import Optional, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.models.losses.utils import weight_reduce_loss
from mmseg.registry import MODELS

__all__ = ['multilabel_soft_margin_loss', 'MultiLabelSoftMarginLoss']


def multilabel_soft_margin_loss(cls_score: Tensor,
                                label: Tensor,
                                class_weight: Optional[Tensor] = None
                                ) -> Tensor:
    """Per-sample multi-label soft-margin loss (Eq. 6).

    ``-1/C * sum_c [z_c log sigmoid(y_c) + (1 - z_c) log sigmoid(-y_c)]``.

    Args:
        cls_score (Tensor): ``(N, C)`` class scores ``y``.
        label (Tensor): ``(N, C)`` binary (multi-hot) labels ``z``.
        class_weight (Tensor, optional): ``(C,)`` per-class weights.

    Returns:
        Tensor: ``(N,)`` loss per sample.
    """
    if cls_score.shape != label.shape:
        raise ValueError(f'cls_score {tuple(cls_score.shape)} and label '
                         f'{tuple(label.shape)} must have the same shape')
    label = label.to(cls_score.dtype)
    loss = -(label * F.logsigmoid(cls_score) +
             (1 - label) * F.logsigmoid(-cls_score))
    if class_weight is not None:
        loss = loss * class_weight
    return loss.mean(dim=-1)


@MODELS.register_module()
class MultiLabelSoftMarginLoss(nn.Module):
    """Multi-label soft-margin loss for image-level labels (Eq. 6).

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over samples.
            Defaults to ``'mean'``.
        class_weight (Sequence[float], optional): Per-class weights.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_cls'``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cls') -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'unknown reduction {reduction!r}')
        self.reduction = reduction
        self.class_weight = class_weight
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of ``(N, C)`` scores against ``(N, C)`` multi-hot labels;
        ``weight`` is an optional ``(N,)`` per-sample weight."""
        reduction = reduction_override or self.reduction
        class_weight = None
        if self.class_weight is not None:
            class_weight = cls_score.new_tensor(self.class_weight)
        loss = multilabel_soft_margin_loss(cls_score, label, class_weight)
        if weight is not None:
            weight = weight.to(loss.dtype)
        loss = weight_reduce_loss(loss, weight, reduction, avg_factor)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name
