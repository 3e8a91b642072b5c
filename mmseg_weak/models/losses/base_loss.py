"""The interface of a loss module as MMSeg's decode heads call it."""
from abc import ABCMeta, abstractmethod
from typing import Optional

from torch import Tensor, nn

__all__ = ['REDUCTIONS', 'BaseLoss', 'check_reduction']

#: The reductions of ``weight_reduce_loss``.
REDUCTIONS = ('none', 'mean', 'sum')


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
        str: ``reduction``.

    Raises:
        ValueError: For any other value.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f'unknown reduction {reduction!r}')
    return reduction


class BaseLoss(nn.Module, metaclass=ABCMeta):
    """A loss module with the interface of MMSeg's ``CrossEntropyLoss``.

    MMSeg's ``BaseDecodeHead.loss_by_feat`` calls a loss as ``loss(seg_logits,
    seg_label, weight=seg_weight, ignore_index=...)`` and adds its value to
    the item ``loss_name`` (the items whose name starts with ``loss_`` are
    back-propagated). As MMSeg's losses, :meth:`forward` takes ``weight``,
    ``avg_factor`` and a per-call ``reduction_override`` of ``reduction``,
    and multiplies the value by ``loss_weight``; subclasses compute the
    value in :meth:`compute`.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to
            ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``loss_`` to
            be back-propagated. Defaults to ``'loss_seg'``.
    """

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_seg') -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """``loss_weight`` times :meth:`compute`.

        Args:
            cls_score (Tensor): The logits.
            label (Tensor): The target (label map or distribution).
            weight (Tensor, optional): Sample weight.
            avg_factor (float, optional): Denominator of the mean.
            reduction_override (str, optional): ``'none'``, ``'mean'`` or
                ``'sum'`` for this call; None uses :attr:`reduction`.
            **kwargs: Passed to :meth:`compute` (e.g. the ``ignore_index``
                that MMSeg heads pass).

        Returns:
            Tensor: The weighted loss.
        """
        if reduction_override is not None:
            check_reduction(reduction_override)
        reduction = reduction_override or self.reduction
        return self.loss_weight * self.compute(
            cls_score, label, weight, reduction, avg_factor, **kwargs)

    @abstractmethod
    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float], **kwargs) -> Tensor:
        """The loss before ``loss_weight``, reduced by ``reduction``."""

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name
