"""Cross-entropy against soft (probability) targets.

Ibrahim et al., *Semi-Supervised Semantic Image Segmentation with
Self-correcting Networks*, CVPR 2020, Eq. 2/5/6, second term
(https://arxiv.org/abs/1911.07450): box-only images are trained towards a
target distribution ``q`` (the ancillary, linearly or convolutionally
corrected distribution) with ``-sum_c q_c log p_c`` per pixel, no gradient
flowing into ``q``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.models.losses.utils import weight_reduce_loss
from mmseg.registry import MODELS

__all__ = ['soft_cross_entropy', 'weight_sum', 'SoftCrossEntropyLoss']


def weight_sum(weight: Tensor) -> Tensor:
    """Denominator of a mean over weighted pixels: ``weight.sum()``, or 1
    where that is not positive (nothing counts: the mean is then 0). For a
    0/1 mask, ``max(number of valid pixels, 1)``. No host sync."""
    total = weight.sum()
    return torch.where(total > 0, total, torch.ones_like(total))


def soft_cross_entropy(pred: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       reduction: str = 'mean',
                       avg_factor: Optional[float] = None,
                       avg_non_ignore: bool = True) -> Tensor:
    """Soft cross-entropy ``-sum_c target_c * log_softmax(pred)_c``.

    Follows the conventions of MMSeg's ``cross_entropy`` and
    ``weight_reduce_loss``, with one difference in ``'mean'``: with a
    per-pixel ``weight`` and ``avg_non_ignore=True`` (the default) the
    weighted sum is divided by the sum of the weights (1 where that sum is
    0), i.e. the loss is averaged over the pixels that count. With a 0/1
    valid mask as ``weight`` this is the mean over the valid (e.g.
    un-padded) pixels, which is what the self-correction heads need. With
    ``avg_non_ignore=False`` the weighted losses are averaged over all
    pixels (masked ones count as zeros), as ``weight_reduce_loss`` does; an
    explicit ``avg_factor`` divides the weighted sum, as in MMSeg.

    Args:
        pred (Tensor): ``(N, C, H, W)`` logits (any ``(N, C, ...)``).
        target (Tensor): Target probabilities of the same shape, summing to 1
            over ``C``. Detached: no gradient flows into it.
        weight (Tensor, optional): Per-pixel weight ``(N, H, W)`` (bool or
            float; e.g. the valid-pixel mask). Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to
            ``'mean'``.
        avg_factor (float, optional): Denominator of ``'mean'``. Defaults to
            None.
        avg_non_ignore (bool): With ``weight``, ``'mean'`` divides by the
            sum of the weights (True, default) or by the number of pixels
            (False).

    Returns:
        Tensor: ``(N, H, W)`` per-pixel losses for ``'none'``, else a scalar.
    """
    if pred.dim() < 2 or target.shape != pred.shape:
        raise ValueError(
            f'soft_cross_entropy needs (N, C, ...) logits and a target of the '
            f'same shape, got {tuple(pred.shape)} and {tuple(target.shape)}')
    loss = -(target.detach() * F.log_softmax(pred, dim=1)).sum(dim=1)
    if weight is not None:
        if weight.shape != loss.shape:
            raise ValueError(f'weight {tuple(weight.shape)} must be per pixel '
                             f'{tuple(loss.shape)}')
        weight = weight.to(loss.dtype)
        if reduction == 'mean' and avg_factor is None and avg_non_ignore:
            return (loss * weight).sum() / weight_sum(weight)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


@MODELS.register_module()
class SoftCrossEntropyLoss(nn.Module):
    """Per-pixel cross-entropy against soft targets (see
    :func:`soft_cross_entropy`), the box-only term of the self-correction
    heads (`Ibrahim et al., CVPR 2020 <https://arxiv.org/abs/1911.07450>`_).

    Follows the conventions of MMSeg's ``CrossEntropyLoss`` (``loss_weight``,
    ``loss_name``, ``reduction``, ``weight``, ``avg_factor``,
    ``reduction_override``), so that it can be wrapped, e.g. by
    :class:`~mmseg_weak.models.losses.PUSLoss`::

        loss_weak=dict(type='PUSLoss', mode='clamp', beta=0.5, kappa=0.5,
                       loss=dict(type='SoftCrossEntropyLoss'))

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to
            ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        avg_non_ignore (bool): ``'mean'`` with a per-pixel ``weight`` (the
            valid-pixel mask) divides by the sum of the weights (True,
            default: mean over the valid pixels) or by the number of pixels
            (False: masked pixels count as zeros).
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_weak'``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 avg_non_ignore: bool = True,
                 loss_name: str = 'loss_weak') -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f'unknown reduction {reduction!r}')
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.avg_non_ignore = avg_non_ignore
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Loss of ``(N, C, H, W)`` logits against ``(N, C, H, W)`` target
        probabilities.

        Args:
            cls_score (Tensor): The logits.
            target (Tensor): The target distribution (no gradient taken).
            weight (Tensor, optional): ``(N, H, W)`` per-pixel weight, e.g.
                the valid-pixel mask.
            avg_factor (float, optional): Denominator of the mean.
            reduction_override (str, optional): ``'none'``, ``'mean'`` or
                ``'sum'``.
            **kwargs: Ignored (e.g. the ``ignore_index`` MMSeg heads pass:
                soft targets mark ignored pixels through ``weight``).

        Returns:
            Tensor: The weighted loss.
        """
        if reduction_override not in (None, 'none', 'mean', 'sum'):
            raise ValueError(f'unknown reduction {reduction_override!r}')
        reduction = reduction_override or self.reduction
        return self.loss_weight * soft_cross_entropy(
            cls_score,
            target,
            weight=weight,
            reduction=reduction,
            avg_factor=avg_factor,
            avg_non_ignore=self.avg_non_ignore)

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f"reduction='{self.reduction}', loss_weight="
                f'{self.loss_weight}, avg_non_ignore={self.avg_non_ignore}, '
                f"loss_name='{self.loss_name}'")
