"""Class-balanced cross-entropy for self-supervised segmentation on pseudo
ground truth.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020, Sec. 3.3 (https://arxiv.org/abs/2005.08104).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.models.losses.utils import weight_reduce_loss
from mmseg.registry import MODELS

__all__ = ['balanced_cross_entropy', 'BalancedCrossEntropyLoss']


def balanced_cross_entropy(pred: Tensor,
                           label: Tensor,
                           ignore_index: int = 255) -> Tensor:
    """Per-image class-balanced cross-entropy.

    The weights follow the authors' implementation: in an image with ``n_c``
    pseudo-labelled pixels of class ``c`` and ``n = sum_c n_c`` labelled
    pixels, a pixel of class ``c`` is weighted ``(n - n_c) / (1 + n)``, so
    rare classes weigh more and an image with a single class contributes
    nothing. The weighted per-pixel cross-entropy is averaged over *all*
    pixels of the image (ignored ones count as zero).

    Args:
        pred (Tensor): ``(N, C, H, W)`` logits.
        label (Tensor): ``(N, H, W)`` class indices, ``ignore_index`` where
            ignored.
        ignore_index (int): Label of ignored pixels. Defaults to 255.

    Returns:
        Tensor: ``(N,)`` loss per image.
    """
    if pred.dim() != 4 or label.shape != (pred.shape[0], *pred.shape[2:]):
        raise ValueError(f'pred {tuple(pred.shape)} must be (N, C, H, W) and '
                         f'label {tuple(label.shape)} (N, H, W)')
    num, num_classes = pred.shape[:2]
    label = label.long()
    valid = label != ignore_index
    safe_label = torch.where(valid, label, torch.zeros_like(label))
    counts = F.one_hot(safe_label.view(num, -1), num_classes)
    counts = (counts * valid.view(num, -1, 1)).sum(1).to(pred.dtype)
    total = counts.sum(1, keepdim=True)
    class_weight = (total - counts) / (1 + total)  # (N, C)
    pixel_weight = torch.gather(class_weight, 1, safe_label.view(num, -1))
    pixel_weight = pixel_weight * valid.view(num, -1)
    loss = F.cross_entropy(
        pred, label, ignore_index=ignore_index, reduction='none')
    return (pixel_weight * loss.view(num, -1)).mean(1)


@MODELS.register_module()
class BalancedCrossEntropyLoss(nn.Module):
    """Class-balanced cross-entropy on (pseudo) label maps.

    See :func:`balanced_cross_entropy`. Follows the conventions of mmseg's
    ``CrossEntropyLoss`` (``loss_weight``, ``loss_name``, ``reduction``,
    ``ignore_index`` passed by the head).

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over images.
            Defaults to ``'mean'`` (discarded images count as zero, as in the
            authors' code).
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_seg'``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_seg') -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'unknown reduction {reduction!r}')
        self.reduction = reduction
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Loss of ``(N, C, H, W)`` logits against an ``(N, H, W)`` label
        map; ``weight`` is an optional ``(N,)`` per-image weight (e.g. 0 for
        images whose pseudo ground truth was discarded)."""
        reduction = reduction_override or self.reduction
        loss = balanced_cross_entropy(cls_score, label, ignore_index)
        if weight is not None:
            weight = weight.to(loss.dtype).view(-1)
        loss = weight_reduce_loss(loss, weight, reduction, avg_factor)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name
