"""Tests of the CPU-aware distributed setup (mmseg_weak.utils.dist_utils)."""
import copy
import socket

import pytest
import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmseg_weak.utils import (cleanup_distributed, replace_sync_bn,
                              setup_cpu_distributed)

torch.set_num_threads(2)

MMSEG_MODEL_CFG = 'mmseg::_base_/models/deeplabv3plus_r50-d8.py'


@pytest.fixture
def mmseg_cfg(tmp_path) -> Config:
    """MMSeg's DeepLabV3+ R50 model config (SyncBN in three places).

    ``Config.fromfile`` does not take ``mmseg::`` names directly, so a child
    config inheriting from it is loaded.
    """
    path = tmp_path / 'cfg.py'
    path.write_text(f"_base_ = ['{MMSEG_MODEL_CFG}']\n")
    return Config.fromfile(str(path))


def _norm_types(node, found=None):
    """All ``type`` values of dicts that look like norm configs."""
    found = [] if found is None else found
    if isinstance(node, dict):
        if 'type' in node and 'requires_grad' in node:
            found.append(node['type'])
        for value in node.values():
            _norm_types(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _norm_types(value, found)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)

    def _fail(*args, **kwargs):
        raise AssertionError('torch.cuda.set_device must not be called')

    monkeypatch.setattr(torch.cuda, 'set_device', _fail)


def test_syncbn_replaced_in_mmseg_model_cfg(no_cuda, mmseg_cfg):
    cfg = mmseg_cfg
    before = _norm_types(cfg.model)
    # backbone, decode_head and auxiliary_head use SyncBN in this config
    assert before.count('SyncBN') >= 3
    cfg = setup_cpu_distributed(cfg, 'none')
    after = _norm_types(cfg.model)
    assert len(after) == len(before)
    assert set(after) == {'BN'}
    assert cfg.model.backbone.norm_cfg == dict(type='BN', requires_grad=True)
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
    assert cfg.model.auxiliary_head.norm_cfg.type == 'BN'
    assert 'SyncBN' not in str(cfg.model.to_dict())
    # launcher none: nothing distributed is set up
    assert cfg.get('model_wrapper_cfg') is None
    assert not torch_dist.is_initialized()


def test_replace_sync_bn_walks_lists_and_tuples():
    node = dict(
        type='Seg',
        heads=[
            dict(type='A', norm_cfg=dict(type='SyncBN', requires_grad=True)),
            dict(
                type='B',
                layers=(dict(
                    type='C',
                    norm_cfg=dict(
                        type='MMSyncBN', stats_mode='N', group=None)), ))
        ],
        norm_cfg=dict(type='GN', num_groups=4),
        other=dict(type=torch.nn.SyncBatchNorm))
    changed = replace_sync_bn(node, 'model')
    assert sorted(changed) == sorted([
        'model.heads[0].norm_cfg.type',
        'model.heads[1].layers[0].norm_cfg.type',
        'model.other.type'
    ])
    assert node['heads'][0]['norm_cfg'] == dict(type='BN', requires_grad=True)
    # MMSyncBN-only arguments are dropped (BatchNorm2d does not take them)
    assert node['heads'][1]['layers'][0]['norm_cfg'] == dict(type='BN')
    assert node['norm_cfg'] == dict(type='GN', num_groups=4)
    assert node['other'] == dict(type='BN')
    assert replace_sync_bn(node) == []


def test_nothing_changed_when_cuda_available(monkeypatch, mmseg_cfg):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = mmseg_cfg
    assert 'SyncBN' in cfg.pretty_text
    cfg.model_wrapper_cfg = dict(find_unused_parameters=True)
    cfg.env_cfg = dict(dist_cfg=dict(backend='nccl'))
    before = copy.deepcopy(cfg.to_dict())
    for launcher in ('none', 'pytorch'):
        out = setup_cpu_distributed(cfg, launcher)
        assert out is cfg
        assert cfg.to_dict() == before
    assert not torch_dist.is_initialized()


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.lin(torch.stack(inputs)).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - torch.stack(labels))**2).mean())
        return out


class _ToyDataset(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(
            inputs=torch.full((2, ), float(idx)),
            labels=torch.tensor(float(idx)))


def test_cpu_distributed_setup_and_ddp_training(no_cuda, monkeypatch,
                                                tmp_path):
    """launcher='pytorch' on CPU: gloo group (world size 1), CPU DDP wrapper
    built by the Runner from the rewritten config, and teardown."""
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    cfg = Config(
        dict(
            model=dict(
                type='Toy',
                backbone=dict(norm_cfg=dict(type='SyncBN',
                                            requires_grad=True))),
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)),
            model_wrapper_cfg=dict(
                find_unused_parameters=True, broadcast_buffers=True),
            sync_bn='torch'))
    assert not torch_dist.is_initialized()
    try:
        cfg = setup_cpu_distributed(cfg, 'pytorch')
        assert torch_dist.is_initialized()
        assert torch_dist.get_backend() == 'gloo'
        assert torch_dist.get_world_size() == 1
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.env_cfg.dist_cfg.timeout == 60
        assert cfg.model_wrapper_cfg == dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            find_unused_parameters=True,
            broadcast_buffers=True)
        assert cfg.model.backbone.norm_cfg.type == 'BN'
        assert cfg.get('sync_bn') is None

        runner = Runner(
            model=_ToyModel(),
            work_dir=str(tmp_path),
            experiment_name='test_cpu_ddp_runner',
            launcher='pytorch',
            env_cfg=cfg.env_cfg.to_dict(),
            cfg=dict(model_wrapper_cfg=cfg.model_wrapper_cfg.to_dict()),
            train_dataloader=dict(
                dataset=_ToyDataset(),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=2,
                num_workers=0),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            train_cfg=dict(by_epoch=False, max_iters=2),
            default_hooks=dict(checkpoint=None, logger=None))
        assert runner.distributed
        assert type(runner.model).__name__ == 'MMDistributedDataParallel'
        assert runner.model.device_ids is None
        before = runner.model.module.lin.weight.detach().clone()
        runner.train()
        assert not torch.equal(before, runner.model.module.lin.weight)
        del runner
        cleanup_distributed()
        assert not torch_dist.is_initialized()
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def test_launcher_pytorch_without_env_is_clear(no_cuda, monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    cfg = Config(dict(model=dict(type='Toy')))
    with pytest.raises(KeyError, match='torchrun'):
        setup_cpu_distributed(cfg, 'pytorch')
    assert not torch_dist.is_initialized()


def test_defaults_when_config_has_no_env_or_wrapper(no_cuda, monkeypatch):
    import mmseg_weak.utils.dist_utils as dist_utils
    calls = []
    monkeypatch.setattr(dist_utils, 'init_cpu_process_group',
                        lambda launcher, timeout=None: calls.append(
                            (launcher, timeout)))
    cfg = Config(dict(model=dict(type='Toy'), find_unused_parameters=True))
    setup_cpu_distributed(cfg, 'slurm')
    assert calls == [('slurm', None)]
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    # mmengine's default wrapper arguments, with device_ids=None for CPU
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=True)
