"""Pretended Under-fitting Strategy (PUS): a wrapper for per-pixel losses.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021, Sec. 3.4, Eq. 10-13 (https://arxiv.org/abs/2108.12995).

Training on noisy pseudo-masks, pixels whose loss stays high are likely noise.
Once the batch's mean per-pixel loss ``mean(L)`` falls below a warm-up
threshold ``beta`` (Eq. 10), the per-pixel loss map is transformed before the
reduction:

- ``'clamp'`` (Eq. 11): ``min(L, kappa)``; a pixel above ``kappa``
  contributes ``kappa`` and no gradient;
- ``'pow'`` (Eq. 12): ``(L + eps) ** kappa`` (``eps = 1e-9`` keeps the
  gradient finite at ``L = 0``);
- ``'ignore'`` (Eq. 13): ``L`` where ``L <= kappa``, else 0.

The semantics are those of the authors' segmentation code (a fork of MMSeg
0.8, ``cross_entropy`` with ``pus_type``/``pus_beta``/``pus_k``), which we
match numerically:

- the switch statistic is the mean over every element of the per-process
  batch's loss map, ignored pixels counting as zeros (no all-reduce);
- the comparisons are ``mean < beta`` (switch on) and ``L <= kappa`` (kept by
  ``'ignore'``; a pixel at exactly ``kappa`` is kept, where Eq. 13 writes
  ``L >= kappa -> 0``);
- ``'pow'`` raises every element, ignored pixels included, so each ignored
  pixel adds the constant ``eps ** kappa`` (about 3e-5 for kappa 0.5) to the
  sum, with no gradient;
- the transform keeps the autograd graph: clamped / dropped pixels get a zero
  gradient, kept ones their plain gradient, ``'pow'`` pixels the chain rule
  factor ``kappa * (L + eps) ** (kappa - 1)``;
- class weights act inside the wrapped loss (before PUS), per-pixel sample
  weights (``weight``) and ``loss_weight`` after it.

Soft targets (our extension, e.g. the self-correction heads' box-only term
with :class:`~mmseg_weak.models.losses.SoftCrossEntropyLoss`): the label may
also be a ``(N, C, H, W)`` target distribution of the logits' shape; the
wrapped loss is still called without ``weight`` and must return one loss
per pixel. There is no ignore label: the per-pixel ``weight`` (the valid-
pixel mask) marks the pixels that count, and the loss at the others is not
zero. So, for soft targets only:

- the switch statistic is the *weighted* mean ``sum(L * weight) / D``, i.e.
  the value the wrapped loss alone reports (before its ``loss_weight``);
  with a 0/1 valid mask and the soft cross-entropy's ``avg_non_ignore=True``
  that is the mean over the valid pixels;
- ``D``, also what ``'mean'`` divides by, is ``weight.sum()`` (1 if that is
  0) when the wrapped loss averages over the pixels that count
  (``avg_non_ignore=True``), else every element of the loss map, as MMSeg's
  ``weight_reduce_loss``; without ``weight`` it is every element;
- the transform acts per pixel, masked pixels included, and the weight
  multiplies after it, so masked pixels still contribute nothing.

Disabled, the wrapped loss's value is reproduced exactly, weight included.
"""
import copy
from typing import Optional, Union

import torch
from mmengine.config import ConfigDict
from mmseg.models.losses.utils import weight_reduce_loss
from mmseg.registry import MODELS
from torch import Tensor, nn

from .base_loss import BaseLoss
from .soft_cross_entropy_loss import weight_sum

__all__ = ['PUS_MODES', 'pus_transform', 'PUSLoss', 'set_pus_enabled']

#: The transforms of Eq. 11-13.
PUS_MODES = ('clamp', 'pow', 'ignore')


def pus_transform(loss: Tensor,
                  mode: str,
                  kappa: float,
                  eps: float = 1e-9) -> Tensor:
    """Apply one PUS operation (Eq. 11-13) to a per-pixel loss map.

    Args:
        loss (Tensor): Non-negative per-pixel losses, any shape.
        mode (str): ``'clamp'``, ``'pow'`` or ``'ignore'``.
        kappa (float): The cap (``'clamp'``, ``'ignore'``) or the exponent
            (``'pow'``).
        eps (float): Added before ``'pow'``. Defaults to 1e-9.

    Returns:
        Tensor: The transformed map (same shape, differentiable).
    """
    if mode == 'clamp':
        return torch.clamp(loss, max=kappa)
    if mode == 'pow':
        return torch.pow(loss + eps, kappa)
    if mode == 'ignore':
        return loss * (loss <= kappa).to(loss.dtype)
    raise ValueError(f'unknown PUS mode {mode!r}; expected one of {PUS_MODES}')


@MODELS.register_module()
class PUSLoss(BaseLoss):
    """Pretended Under-fitting Strategy around any per-pixel MMSeg loss.

    Li et al., ICCV 2021, Sec. 3.4 (https://arxiv.org/abs/2108.12995); see the
    module docstring for the exact semantics. The wrapped loss is called with
    ``reduction_override='none'`` and must return one loss per pixel (``(N,
    H, W)``, or ``(N, C, H, W)`` for sigmoid losses), ignored pixels as 0, as
    MMSeg's ``CrossEntropyLoss`` does. The result is then reduced as MMSeg's
    ``CrossEntropyLoss`` reduces: ``'mean'`` divides by the number of elements
    of the map, ignored pixels included (``avg_non_ignore=False``, MMSeg's
    and the authors' default), or by the number of non-ignored elements when
    the wrapped loss has ``avg_non_ignore=True``; an explicit ``avg_factor``
    wins. The switch statistic is the mean with the same denominator,
    ``avg_factor`` aside, before sample weights (with the defaults: exactly
    the authors' ``loss.mean()``). With ``class_weight`` the mean is over the
    pixels too, as in the authors' MMSeg 0.8 (MMSeg 1.2.2's
    ``CrossEntropyLoss`` divides by the sum of the pixels' class weights
    instead, and fails on ``ignore_index`` labels). Soft ``(N, C, H, W)``
    targets are reduced over the pixels their ``weight`` marks (see the
    module docstring)::

        loss_weak=dict(
            type='PUSLoss', mode='clamp', beta=0.5, kappa=0.5,
            loss=dict(type='SoftCrossEntropyLoss', loss_name='loss_weak'))

    Drop-in use as ``loss_decode`` of any decode or auxiliary head::

        loss_decode=dict(
            type='PUSLoss', mode='clamp', beta=0.5, kappa=0.5,
            loss=dict(type='CrossEntropyLoss', loss_weight=0.4))

    ``enabled`` can be switched at run time (e.g. by a hook starting the
    cyclic pseudo-mask round, which trains without PUS); see
    :func:`set_pus_enabled`. Disabled, the loss equals the wrapped loss.

    A wrapper of another loss module, it is not an element-wise function
    for MMSeg's ``weighted_loss``: it transforms the wrapped loss's
    unreduced map, then weights and reduces it as that loss would.

    Args:
        loss (dict): Config of the wrapped per-pixel loss.
        mode (str): ``'clamp'`` (default, best in the paper), ``'pow'`` or
            ``'ignore'``.
        beta (float): Warm-up threshold: PUS acts while the batch's mean
            per-pixel loss is below it. 0.5 for VOC (default), 0.8 for COCO.
        kappa (float): Cap / exponent. 0.5 for VOC (default), 0.8 for COCO.
        enabled (bool): Apply PUS at all. Defaults to True.
        loss_weight (float, optional): Weight of the loss, applied once after
            PUS. Defaults to the wrapped config's ``loss_weight`` (1.0 if it
            has none); giving both (the wrapped one != 1) is an error.
        loss_name (str, optional): Name of the loss item. Defaults to the
            wrapped loss's name, so that the log keeps its usual key.
        reduction (str, optional): ``'mean'``, ``'sum'`` or ``'none'``.
            Defaults to the wrapped loss's ``reduction`` (else ``'mean'``).
        eps (float): Added to the losses before ``'pow'``. Defaults to 1e-9
            (the authors' value).
    """

    def __init__(self,
                 loss: Union[dict, ConfigDict],
                 mode: str = 'clamp',
                 beta: float = 0.5,
                 kappa: float = 0.5,
                 enabled: bool = True,
                 loss_weight: Optional[float] = None,
                 loss_name: Optional[str] = None,
                 reduction: Optional[str] = None,
                 eps: float = 1e-9) -> None:
        if mode not in PUS_MODES:
            raise ValueError(
                f'unknown PUS mode {mode!r}; expected one of {PUS_MODES}')
        if not isinstance(loss, dict) or 'type' not in loss:
            raise TypeError('PUSLoss.loss must be a loss config dict with a '
                            f"'type', got {loss!r}")
        if kappa <= 0:
            raise ValueError(f'kappa must be positive, got {kappa}')
        loss = copy.deepcopy(dict(loss))
        inner_weight = loss.pop('loss_weight', None)
        if loss_weight is None:
            loss_weight = 1.0 if inner_weight is None else inner_weight
        elif inner_weight not in (None, 1, 1.0):
            raise ValueError(
                f'loss_weight given twice: PUSLoss(loss_weight={loss_weight}) '
                f"and loss=dict(loss_weight={inner_weight}); set one")
        inner = MODELS.build(loss)
        if getattr(inner, 'loss_weight', 1.0) != 1.0:
            raise ValueError(
                f"{loss['type']} has loss_weight "
                f'{inner.loss_weight} by default; PUSLoss applies '
                'loss_weight itself, the wrapped loss must use 1.0')
        if reduction is None:
            reduction = getattr(inner, 'reduction', 'mean')
        if loss_name is None:
            loss_name = getattr(inner, 'loss_name', None)
            if loss_name is None:
                raise ValueError(f"{loss['type']} has no loss_name: give "
                                 'PUSLoss a loss_name')
        super().__init__(reduction, float(loss_weight), loss_name)
        self.loss = inner
        self.mode = mode
        self.beta = float(beta)
        self.kappa = float(kappa)
        self.enabled = bool(enabled)
        self.eps = float(eps)
        #: Whether the last forward applied the transform (for logging).
        self.last_active = False

    @staticmethod
    def _is_soft(cls_score: Tensor, label: Tensor) -> bool:
        """Whether ``label`` is a soft target (a distribution of the logits'
        shape) rather than a label map (one dimension less)."""
        if label.dim() == cls_score.dim() - 1:
            return False
        if label.shape == cls_score.shape:
            return True
        raise ValueError(
            f'PUSLoss needs a label map of shape (N, ...) one dimension less '
            f'than the logits {tuple(cls_score.shape)}, or a soft target of '
            f'their shape; got {tuple(label.shape)}')

    def _per_pixel(self, cls_score: Tensor, label: Tensor,
                   **kwargs) -> Tensor:
        """The wrapped loss, unreduced, checked to be one value per pixel
        (``(N, H, W)``, or ``(N, C, H, W)``)."""
        soft = self._is_soft(cls_score, label)
        loss = self.loss(cls_score, label, reduction_override='none',
                         **kwargs)
        spatial = tuple(label.shape[2:] if soft else label.shape[1:])
        if (not isinstance(loss, Tensor) or loss.dim() < len(spatial) + 1
                or loss.shape[0] != label.shape[0]
                or tuple(loss.shape[loss.dim() - len(spatial):]) != spatial):
            shape = tuple(loss.shape) if isinstance(loss, Tensor) else loss
            kind = 'soft targets' if soft else 'labels'
            raise ValueError(
                f'PUSLoss needs a per-pixel loss: {type(self.loss).__name__} '
                f"returned {shape} for reduction_override='none' with {kind} "
                f'of shape {tuple(label.shape)}')
        return loss

    def _denominator(self, loss: Tensor, label: Tensor,
                     ignore_index: Optional[int]) -> Union[int, Tensor]:
        """What ``'mean'`` divides by: every element of the loss map, or only
        the non-ignored ones when the wrapped loss averages over those."""
        if getattr(self.loss, 'avg_non_ignore', False) and \
                ignore_index is not None:
            per_pixel = loss.numel() // max(label.numel(), 1)
            return (label != ignore_index).sum() * per_pixel
        return loss.numel()

    def _soft_denominator(self, loss: Tensor,
                          weight: Optional[Tensor]) -> Union[int, Tensor]:
        """What ``'mean'`` divides by for soft targets: the sum of the
        per-pixel weights when the wrapped loss averages over the pixels
        that count (``avg_non_ignore``), else every element of the map."""
        if weight is not None and getattr(self.loss, 'avg_non_ignore',
                                          False):
            total = weight_sum(weight)
            per_pixel = loss.numel() // max(weight.numel(), 1)
            return total if per_pixel == 1 else total * per_pixel
        return loss.numel()

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float], **kwargs) -> Tensor:
        """Loss of ``(N, C, H, W)`` logits against ``(N, H, W)`` labels or
        ``(N, C, H, W)`` soft targets, before ``loss_weight``.

        Args:
            cls_score (Tensor): The logits.
            label (Tensor): The (pseudo) label map, or the target
                distribution (soft targets, see the module docstring).
            weight (Tensor, optional): Per-pixel sample weight (e.g. from a
                pixel sampler, or the valid-pixel mask of soft targets),
                ``(N, H, W)``, applied after PUS.
            reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            avg_factor (float, optional): Denominator of the mean.
            **kwargs: Passed to the wrapped loss (e.g. ``ignore_index``).

        Returns:
            Tensor: The reduced loss.
        """
        loss = self._per_pixel(cls_score, label, **kwargs)
        if weight is not None:
            weight = weight.to(loss.dtype)
            if weight.dim() == loss.dim() - 1:  # per-pixel weight, C-wise map
                weight = weight.unsqueeze(1)
        soft = self._is_soft(cls_score, label)
        if soft:
            denominator = self._soft_denominator(loss, weight)
        else:
            denominator = self._denominator(loss, label,
                                            kwargs.get('ignore_index'))
        self.last_active = False
        if self.enabled:
            with torch.no_grad():
                if soft:  # the wrapped loss's own weighted mean
                    weighted = loss if weight is None else loss * weight
                    mean = weighted.sum() / denominator
                else:  # before sample weights (the authors' loss.mean())
                    mean = loss.sum() / max(int(denominator), 1)
            if mean < self.beta:
                loss = pus_transform(loss, self.mode, self.kappa, self.eps)
                self.last_active = True
        if weight is not None:
            loss = loss * weight
        if reduction == 'mean' and avg_factor is None and \
                getattr(self.loss, 'avg_non_ignore', False):
            if soft and isinstance(denominator, Tensor):
                # exactly the wrapped loss's sum / weight sum (no eps)
                return loss.sum() / denominator
            avg_factor = denominator
        return weight_reduce_loss(loss, None, reduction, avg_factor)

    def extra_repr(self) -> str:
        return (f"mode='{self.mode}', beta={self.beta}, kappa={self.kappa}, "
                f'enabled={self.enabled}, loss_weight={self.loss_weight}, '
                f"loss_name='{self.loss_name}'")


def set_pus_enabled(module: nn.Module, enabled: bool) -> int:
    """Switch every :class:`PUSLoss` inside ``module`` on or off.

    Args:
        module (nn.Module): A model (unwrap DDP first or pass the wrapper:
            ``modules()`` reaches through it).
        enabled (bool): The new state.

    Returns:
        int: The number of PUS losses switched.
    """
    count = 0
    for child in module.modules():
        if isinstance(child, PUSLoss):
            child.enabled = bool(enabled)
            count += 1
    return count
