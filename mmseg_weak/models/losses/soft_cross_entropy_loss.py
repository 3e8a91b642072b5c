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
from mmseg.models.losses.utils import weighted_loss
from mmseg.registry import MODELS
from torch import Tensor

from .base_loss import BaseLoss

__all__ = [
    'soft_cross_entropy', 'soft_cross_entropy_map', 'weight_sum',
    'SoftCrossEntropyLoss'
]


def weight_sum(weight: Tensor) -> Tensor:
    """Denominator of a mean over weighted pixels: ``weight.sum()``, or 1
    where that is not positive (nothing counts: the mean is then 0). For a
    0/1 mask, ``max(number of valid pixels, 1)``. No host sync."""
    total = weight.sum()
    return torch.where(total > 0, total, torch.ones_like(total))


@weighted_loss
def soft_cross_entropy_map(pred: Tensor, target: Tensor) -> Tensor:
    """Per-pixel soft cross-entropy ``-sum_c target_c *
    log_softmax(pred)_c``, no gradient into ``target``.

    Decorated by MMSeg's ``weighted_loss`` (``weight``, ``reduction``,
    ``avg_factor`` as ``weight_reduce_loss``); :func:`soft_cross_entropy`
    adds the checks and the mean over the weighted pixels.

    Args:
        pred (Tensor): ``(N, C, ...)`` logits.
        target (Tensor): Target probabilities of the same shape.

    Returns:
        Tensor: ``(N, ...)`` losses (for ``reduction='none'``).
    """
    return -(target.detach() * F.log_softmax(pred, dim=1)).sum(dim=1)


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
    if weight is not None:
        pixels = pred.shape[:1] + pred.shape[2:]
        if weight.shape != pixels:
            raise ValueError(f'weight {tuple(weight.shape)} must be per pixel '
                             f'{tuple(pixels)}')
        weight = weight.float()
        if reduction == 'mean' and avg_factor is None and avg_non_ignore:
            return soft_cross_entropy_map(
                pred, target, weight, reduction='sum') / weight_sum(weight)
    return soft_cross_entropy_map(pred, target, weight, reduction, avg_factor)


@MODELS.register_module()
class SoftCrossEntropyLoss(BaseLoss):
    """Per-pixel cross-entropy against soft targets (see
    :func:`soft_cross_entropy`), the box-only term of the self-correction
    heads (`Ibrahim et al., CVPR 2020 <https://arxiv.org/abs/1911.07450>`_).

    Follows the conventions of MMSeg's ``CrossEntropyLoss`` (``loss_weight``,
    ``loss_name``, ``reduction``, ``weight``, ``avg_factor``,
    ``reduction_override``, the element-wise function decorated by
    ``weighted_loss``), so that it can be wrapped, e.g. by
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
        super().__init__(reduction, loss_weight, loss_name)
        self.avg_non_ignore = avg_non_ignore

    def compute(self, cls_score: Tensor, target: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float], **kwargs) -> Tensor:
        """Loss of ``(N, C, H, W)`` logits against ``(N, C, H, W)`` target
        probabilities (no gradient taken into them); ``weight`` is an
        ``(N, H, W)`` per-pixel weight, e.g. the valid-pixel mask. Other
        keyword arguments (the ``ignore_index`` MMSeg heads pass) are
        ignored: soft targets mark ignored pixels through ``weight``."""
        return soft_cross_entropy(
            cls_score,
            target,
            weight=weight,
            reduction=reduction,
            avg_factor=avg_factor,
            avg_non_ignore=self.avg_non_ignore)

    def extra_repr(self) -> str:
        return (f"reduction='{self.reduction}', loss_weight="
                f'{self.loss_weight}, avg_non_ignore={self.avg_non_ignore}, '
                f"loss_name='{self.loss_name}'")
