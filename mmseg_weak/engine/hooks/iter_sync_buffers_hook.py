"""Keep model buffers (BN running statistics) identical on all ranks.

Why
---
With plain ``BN`` (our CPU DDP path turns ``SyncBN`` into ``BN``; many
configs use ``BN`` anyway) every rank updates its own running mean/variance
from its own images, and ``MMDistributedDataParallel`` is built with
``broadcast_buffers=False``. Validation then runs each rank's shard of the
val set with that rank's statistics, while ``CheckpointHook`` saves rank 0's:
the mIoU logged at the last iteration and ``tools/test.py`` on the saved
checkpoint disagree.

mmengine's :class:`~mmengine.hooks.SyncBuffersHook` averages the buffers in
``after_train_epoch`` and, if that did not run, in ``before_val_epoch``. In an
:class:`~mmengine.runner.IterBasedTrainLoop` ``after_train_epoch`` fires only
once, after the last validation, and ``before_val_epoch`` comes *after*
``CheckpointHook.after_train_iter`` has saved the checkpoint of that
iteration: the checkpoint still holds rank 0's statistics.

:class:`IterSyncBuffersHook` averages the buffers after every training
iteration, before the hooks that may use or save them (priority
``'ABOVE_NORMAL'``: before ``CheckpointHook``, ``CyclicPseudoMaskHook`` and
the validation that follows the iteration). Running statistics are
exponential (or cumulative) moving averages of per-batch statistics, i.e.
linear in them, so averaging after every iteration yields the same
statistics as averaging once right before they are used, without having to
predict when a checkpoint, a validation or a pseudo-mask round happens. The
cost is one all-reduce of the buffers per iteration (a few KB to a few MB;
the gradients' all-reduce is orders of magnitude larger).
"""
from mmengine.dist import all_reduce_params
from mmengine.hooks import SyncBuffersHook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class IterSyncBuffersHook(SyncBuffersHook):
    """:class:`~mmengine.hooks.SyncBuffersHook` that also works with
    iteration-based training: buffers are averaged over the ranks after each
    training iteration, so validation, checkpoints and every hook see the
    same buffers on all ranks.

    Nothing happens in a non-distributed run. Also averages before a
    validation / at the end of an epoch when no training iteration ran since
    the last average (e.g. validation before training), never twice in a row
    (with a world size that is not a power of two, averaging equal values
    can change their last bit).

    Usage (:func:`mmseg_weak.utils.setup_cpu_distributed` adds it to CPU
    DDP runs)::

        custom_hooks = [dict(type='IterSyncBuffersHook')]
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self) -> None:
        super().__init__()
        # buffers unchanged since the last all-reduce
        self.synced = False

    def _sync(self, runner) -> None:
        if self.distributed and not self.synced:
            all_reduce_params(runner.model.buffers(), op='mean')
        self.synced = True

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self.synced = False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._sync(runner)

    def after_train_epoch(self, runner) -> None:
        self._sync(runner)

    def before_val_epoch(self, runner) -> None:
        self._sync(runner)
