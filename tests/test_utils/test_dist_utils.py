"""Tests of the CPU-aware distributed setup (mmseg_weak.utils.dist_utils)."""
import copy
import os
import socket
import sys

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
        assert cfg.custom_hooks == [dict(type='IterSyncBuffersHook')]

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


# ---------------------------------------------------------------------------
# IterSyncBuffersHook (added to CPU DDP runs)
# ---------------------------------------------------------------------------


def test_cpu_ddp_config_gets_the_sync_buffers_hook(no_cuda, monkeypatch):
    import mmseg_weak.utils.dist_utils as dist_utils
    monkeypatch.setattr(dist_utils, 'init_cpu_process_group',
                        lambda launcher, timeout=None: None)
    cfg = Config(dict(model=dict(type='Toy'),
                      custom_hooks=[dict(type='SegLossWarmupHook')]))
    setup_cpu_distributed(cfg, 'pytorch')
    assert [h['type'] for h in cfg.custom_hooks] == [
        'SegLossWarmupHook', 'IterSyncBuffersHook'
    ]
    # idempotent
    assert not dist_utils.add_sync_buffers_hook(cfg)
    assert len(cfg.custom_hooks) == 2
    # mmengine's SyncBuffersHook is replaced (it syncs after the checkpoint
    # of an iteration-based run is saved)
    cfg = Config(dict(model=dict(type='Toy'),
                      custom_hooks=[dict(type='SyncBuffersHook')]))
    setup_cpu_distributed(cfg, 'pytorch')
    assert [h['type'] for h in cfg.custom_hooks] == ['IterSyncBuffersHook']
    # not for single-process runs, not on GPU machines
    cfg = Config(dict(model=dict(type='Toy')))
    setup_cpu_distributed(cfg, 'none')
    assert 'custom_hooks' not in cfg


def test_iter_sync_buffers_hook_syncs_before_checkpoint_and_val(monkeypatch):
    """Averages after every train iteration (before CheckpointHook and the
    validation that may follow), not twice without training in between."""
    from mmengine.hooks import CheckpointHook
    from mmengine.runner.priority import get_priority

    import mmseg_weak.engine.hooks.iter_sync_buffers_hook as mod
    from mmseg_weak.engine.hooks import IterSyncBuffersHook
    calls = []
    monkeypatch.setattr(mod, 'all_reduce_params',
                        lambda params, op: calls.append((list(params), op)))
    model = nn.BatchNorm1d(3)

    class _Runner:
        pass

    runner = _Runner()
    runner.model = model
    hook = IterSyncBuffersHook()
    assert get_priority(hook.priority) < get_priority(CheckpointHook.priority)
    hook.distributed = True
    hook.before_val_epoch(runner)  # validation before any training
    assert len(calls) == 1
    assert calls[0][1] == 'mean'
    assert len(calls[0][0]) == 3  # running_mean, running_var, num_batches
    for _ in range(3):
        hook.before_train_iter(runner, 0)
        hook.after_train_iter(runner, 0)
    assert len(calls) == 4
    hook.before_val_epoch(runner)  # buffers unchanged since the last sync
    hook.after_train_epoch(runner)
    assert len(calls) == 4
    hook.distributed = False
    hook.before_train_iter(runner, 0)
    hook.after_train_iter(runner, 0)
    assert len(calls) == 4


# ---------------------------------------------------------------------------
# Ranks die with their torchrun agent
# ---------------------------------------------------------------------------

_CHILD = '''
import os, sys, time
parent = os.getppid()
from mmseg_weak.utils.dist_utils import exit_with_launcher
print("armed" if exit_with_launcher(parent) else "not armed", flush=True)
time.sleep(300)
'''

_AGENT = '''
import os, subprocess, sys, time
env = dict(os.environ, TORCHELASTIC_RUN_ID="test")
env.pop("MMSEG_WEAK_TORCHRUN_PID", None)
# like torchrun: the rank in a session of its own
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env,
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(300)
'''


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='prctl')
def test_rank_dies_with_its_agent():
    import signal
    import subprocess
    import time
    agent = subprocess.Popen([sys.executable, '-c', _AGENT, _CHILD],
                             stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    child = None
    try:
        child = int(agent.stdout.readline())
        assert agent.stdout.readline().strip() == 'armed'
        assert _alive(child)
        os.kill(agent.pid, signal.SIGKILL)  # like kill -9 <torchrun>
        agent.wait()
        deadline = time.time() + 10
        while _alive(child) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        for pid in (agent.pid, child):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_rank_exits_when_agent_already_gone():
    """The agent died before the signal was armed: the rank stops."""
    import subprocess
    env = dict(os.environ, TORCHELASTIC_RUN_ID='test',
               MMSEG_WEAK_TORCHRUN_PID='1')  # not our parent
    proc = subprocess.run([
        sys.executable, '-c',
        'from mmseg_weak.utils.dist_utils import exit_with_launcher\n'
        'exit_with_launcher()\nprint("still running")'
    ], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert 'still running' not in proc.stdout
    assert 'torchrun agent (pid 1)' in proc.stderr


def test_exit_with_launcher_only_under_torchrun(monkeypatch):
    from mmseg_weak.utils.dist_utils import exit_with_launcher
    monkeypatch.delenv('TORCHELASTIC_RUN_ID', raising=False)
    assert exit_with_launcher() is False


# ---------------------------------------------------------------------------
# Console of the launchers
# ---------------------------------------------------------------------------


def test_quiet_runner_console(tmp_path, capsys, monkeypatch):
    """Compact config, one-line hook list, no torch build flags on the
    console; mmengine's full text in the log file."""
    from mmseg_weak.utils.dist_utils import (compact_config_text,
                                             quiet_runner_console)

    # restore Runner.build_logger after the test
    monkeypatch.setattr(Runner, 'build_logger', Runner.build_logger)
    quiet_runner_console(show_config=True)
    quiet_runner_console(show_config=True)  # wraps once
    assert not getattr(Runner.build_logger.__wrapped__, '_mmseg_weak_quiet',
                       False)
    cfg = Config(dict(a=dict(b=[1, 2, 3], c=(4, 5)), crop_size=(8, 8)))
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(tmp_path),
        experiment_name='test_quiet_console',
        cfg=cfg,
        default_hooks=dict(checkpoint=None))
    out = capsys.readouterr().out
    log = open(runner.logger.log_file).read()
    assert 'Config (' in out and compact_config_text(cfg) in out
    assert "a = {'b': [1, 2, 3], 'c': (4, 5)}" in out
    assert 'Hooks will be executed' not in out
    assert 'Hooks (' in out and 'RuntimeInfoHook (VERY_HIGH)' in out
    assert '  - ' not in out and 'GPU number' in out
    # the log file is mmengine's
    assert 'Config:\n' in log and 'Hooks will be executed' in log
    assert '  - ' in log and 'Config (' not in log
    del runner

    quiet_runner_console(show_config=False)
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(tmp_path / 'b'),
        experiment_name='test_quiet_console_b',
        cfg=cfg,
        default_hooks=dict(checkpoint=None))
    out = capsys.readouterr().out
    assert 'not printed again' in out and "'b': [1, 2, 3]" not in out
    del runner


def test_compact_config_text_is_python():
    from mmseg_weak.utils.dist_utils import compact_config_text
    cfg = Config(dict(z=1, model=dict(type='M', sizes=[(1, 2)] * 30,
                                      name='x' * 100)))
    text = compact_config_text(cfg)
    ns = {}
    exec(text, ns)  # noqa: S102
    assert ns['model'] == cfg.model.to_dict() and ns['z'] == 1
    assert text.index('model =') < text.index('z =')
    assert len(text.splitlines()) < 10
