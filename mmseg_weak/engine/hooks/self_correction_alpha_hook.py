"""Exponential α schedule of linear self-correction (`Ibrahim et al., CVPR
2020 <https://arxiv.org/abs/1911.07450>`_, Sec. 4: α from 30 to 0.5)."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


def exponential_alpha(progress: float, start: float = 30.0,
                      end: float = 0.5) -> float:
    """``start · (end / start) ** progress`` for ``progress`` in [0, 1]."""
    progress = min(max(progress, 0.0), 1.0)
    return start * (end / start)**progress


@HOOKS.register_module()
class SelfCorrectionAlphaHook(Hook):
    """Sets ``decode_head.alpha`` before every training iteration to
    ``start · (end / start) ** (iter / max_iters)``.

    α is a function of the iteration, so it is the same after ``--resume``
    (and the head's ``alpha`` buffer is in the checkpoint too). The value is
    logged as ``alpha``.

    Args:
        start (float): α at the first iteration. Defaults to 30.
        end (float): α at the last iteration. Defaults to 0.5.
    """

    priority = 'NORMAL'

    def __init__(self, start: float = 30.0, end: float = 0.5) -> None:
        if start <= 0 or end <= 0:
            raise ValueError(f'alpha must stay positive, got {start}, {end}')
        self.start = start
        self.end = end

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = model.decode_head
        if not hasattr(head, 'alpha'):
            raise TypeError('SelfCorrectionAlphaHook needs a decode head with '
                            f'an alpha buffer, got {type(head).__name__}')
        alpha = exponential_alpha(runner.iter / max(runner.max_iters, 1),
                                  self.start, self.end)
        head.alpha.fill_(alpha)
        runner.message_hub.update_scalar('train/alpha', alpha)
