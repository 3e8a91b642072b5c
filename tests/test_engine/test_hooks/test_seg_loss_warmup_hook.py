"""SegLossWarmupHook: classification-only warm-up, then the segmentation
loss; the switch happens at the right iteration, also after resume."""
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

import mmseg_weak  # noqa: F401
from mmseg_weak.engine.hooks import SegLossWarmupHook
from mmseg_weak.utils import register_checkpoint_safe_globals

torch.set_num_threads(1)
register_checkpoint_safe_globals()  # torch 2.13 weights-only resume


class _Head(nn.Module):

    def __init__(self):
        super().__init__()
        self.seg_loss_enabled = True


class _ToyModel(BaseModel):
    """Records ``decode_head.seg_loss_enabled`` at every training step."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.decode_head = _Head()
        self.history = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        if mode == 'loss':
            self.history.append(self.decode_head.seg_loss_enabled)
            return dict(loss=(self.weight * x).mean())
        return [self.weight * x]


def _runner(work_dir, max_iters, warmup, resume=False):
    return Runner(
        model=_ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=[torch.ones(1)] * 8,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate'),
            batch_size=1,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', by_epoch=False, interval=1),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='SegLossWarmupHook', warmup_iters=warmup)],
        resume=resume,
        default_scope='mmseg')


def test_switch_iteration_and_resume(tmp_path):
    runner = _runner(tmp_path, max_iters=3, warmup=2)
    runner.train()
    # iterations 0 and 1: classification only; from iteration 2 on: both
    assert runner.model.history == [False, False, True]
    assert runner.message_hub.get_scalar('train/seg_loss_on').current() == 1

    # resume from iter_1.pth (1 iteration done): iteration 1 is still warm-up
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    runner = _runner(tmp_path, max_iters=4, warmup=2, resume=True)
    runner.train()
    assert runner.model.history == [False, True, True]

    # resume after the switch: on from the first resumed iteration, although
    # the freshly built head starts with the flag off
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_3.pth'))
    runner = _runner(tmp_path, max_iters=5, warmup=2, resume=True)
    runner.model.decode_head.seg_loss_enabled = False
    runner.train()
    assert runner.model.history == [True, True]


def test_epoch_based_switch_and_arguments():
    hook = SegLossWarmupHook(warmup_epochs=5)
    assert not hook.enabled_at(iteration=10_000, epoch=4)
    assert hook.enabled_at(iteration=0, epoch=5)
    assert SegLossWarmupHook(warmup_iters=0).enabled_at(0, 0)
    with pytest.raises(ValueError):
        SegLossWarmupHook()
    with pytest.raises(ValueError):
        SegLossWarmupHook(warmup_iters=1, warmup_epochs=1)
