"""Class-balanced cross-entropy for self-supervised segmentation on pseudo
ground truth.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020, Sec. 3.3 (https://arxiv.org/abs/2005.08104).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmseg.models.losses.utils import weighted_loss
from mmseg.registry import MODELS
from torch import Tensor

from .base_loss import BaseLoss

__all__ = ['balanced_cross_entropy', 'BalancedCrossEntropyLoss']


@weighted_loss
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

    Decorated by MMSeg's ``weighted_loss``: the per-image losses are
    multiplied by ``weight`` and reduced by ``reduction`` / ``avg_factor``
    as ``weight_reduce_loss`` does.

    Args:
        pred (Tensor): ``(N, C, H, W)`` logits.
        label (Tensor): ``(N, H, W)`` class indices, ``ignore_index`` where
            ignored.
        weight (Tensor, optional): ``(N,)`` per-image weight.
        reduction (str): ``'none'``, ``'mean'`` (default) or ``'sum'`` over
            the images.
        avg_factor (float, optional): Denominator of ``'mean'``.
        ignore_index (int): Label of ignored pixels. Defaults to 255.

    Returns:
        Tensor: ``(N,)`` loss per image for ``reduction='none'``, else a
        scalar.
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
class BalancedCrossEntropyLoss(BaseLoss):
    """Class-balanced cross-entropy on (pseudo) label maps.

    See :func:`balanced_cross_entropy`. Follows the conventions of mmseg's
    ``CrossEntropyLoss`` (``loss_weight``, ``loss_name``, ``reduction``,
    ``ignore_index`` passed by the head, the element-wise function decorated
    by ``weighted_loss``).

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over images.
            Defaults to ``'mean'`` (discarded images count as zero, as in the
            authors' code).
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_seg'``.
    """

    def compute(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor],
                reduction: str,
                avg_factor: Optional[float],
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Loss of ``(N, C, H, W)`` logits against an ``(N, H, W)`` label
        map; ``weight`` is an optional ``(N,)`` per-image weight (e.g. 0 for
        images whose pseudo ground truth was discarded), made float as in
        MMSeg's ``cross_entropy``."""
        if weight is not None:
            weight = weight.float().view(-1)
        return balanced_cross_entropy(
            cls_score,
            label,
            weight,
            reduction=reduction,
            avg_factor=avg_factor,
            ignore_index=ignore_index)
