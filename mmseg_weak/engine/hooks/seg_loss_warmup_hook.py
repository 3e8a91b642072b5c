"""Classification-only warm-up before the self-supervised segmentation loss.

Araslanov & Roth, *Single-Stage Semantic Segmentation from Image Labels*,
CVPR 2020 (https://arxiv.org/abs/2005.08104), Sec. 4.1: 5 of 20 epochs with
the classification loss only, then classification + segmentation.
"""
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch import nn

__all__ = ['SegLossWarmupHook']


@HOOKS.register_module()
class SegLossWarmupHook(Hook):
    """Switches on ``seg_loss_enabled`` of the model's heads after a warm-up.

    Before every training iteration, every submodule of the (unwrapped)
    model that has a ``seg_loss_enabled`` attribute (``NGWPHead`` and its
    subclasses) gets ``seg_loss_enabled = step >= warmup`` where ``step`` is
    ``runner.iter`` (``warmup_iters``) or ``runner.epoch`` (``warmup_epochs``).
    The state is a function of the runner's progress, which a checkpoint
    restores, so it is the same after ``--resume``. The flag is logged as
    ``seg_loss_on``.

    Args:
        warmup_iters (int, optional): Iterations with the classification
            loss only (for iteration-based training: epochs x iterations per
            epoch).
        warmup_epochs (int, optional): Epochs with the classification loss
            only (epoch-based training). Exactly one of the two is given.
    """

    priority = 'NORMAL'

    def __init__(self,
                 warmup_iters: Optional[int] = None,
                 warmup_epochs: Optional[int] = None) -> None:
        if (warmup_iters is None) == (warmup_epochs is None):
            raise ValueError('give exactly one of warmup_iters and '
                             'warmup_epochs')
        value = warmup_iters if warmup_iters is not None else warmup_epochs
        if value < 0:
            raise ValueError(f'the warm-up must be >= 0, got {value}')
        self.warmup_iters = warmup_iters
        self.warmup_epochs = warmup_epochs

    @staticmethod
    def _switchable(runner) -> List[nn.Module]:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        modules = [
            m for m in model.modules() if hasattr(m, 'seg_loss_enabled')
        ]
        if not modules:
            raise TypeError('SegLossWarmupHook found no module with a '
                            'seg_loss_enabled attribute in '
                            f'{type(model).__name__}')
        return modules

    def enabled_at(self, iteration: int, epoch: int) -> bool:
        """Whether the segmentation loss is on at this point of training."""
        if self.warmup_iters is not None:
            return iteration >= self.warmup_iters
        return epoch >= self.warmup_epochs

    def _apply(self, runner) -> None:
        enabled = self.enabled_at(runner.iter, runner.epoch)
        for module in self._switchable(runner):
            module.seg_loss_enabled = enabled
        runner.message_hub.update_scalar('train/seg_loss_on', float(enabled))

    def before_train(self, runner) -> None:
        self._apply(runner)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._apply(runner)
