"""Tests of weights-only checkpoint loading (mmseg_weak.utils.checkpoint)."""
import io
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch.utils.data import Dataset

import mmseg_weak.utils.checkpoint as ckpt_utils
from mmseg_weak.utils import (checkpoint_safe_globals,
                              register_checkpoint_safe_globals)

torch.set_num_threads(2)


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1)
        self.bn = nn.BatchNorm1d(1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.bn(self.lin(torch.stack(inputs))).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - torch.stack(labels))**2).mean())
        return out


class _ToyDataset(Dataset):
    metainfo = dict(classes=('a', 'b'), palette=[[1, 2, 3], [4, 5, 6]])

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return dict(
            inputs=torch.full((2, ), float(idx)),
            labels=torch.tensor(float(idx)))


class _Local:
    """An arbitrary class that must never be loadable weights-only."""

    def __init__(self):
        self.value = 1


class _GetattrPayload:
    """Pickles as ``getattr(obj, name)`` (like HistoryBuffer.min)."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory) -> str:
    """A real mmengine checkpoint (optimizer with momentum, two parameter
    schedulers, message hub with logged scalars and dataset meta)."""
    work_dir = tmp_path_factory.mktemp('ckpt_runner')
    runner = Runner(
        model=_ToyModel(),
        work_dir=str(work_dir),
        experiment_name='test_checkpoint_runner',
        train_dataloader=dict(
            dataset=_ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                 end=1),
            dict(type='PolyLR', by_epoch=False, begin=1, end=2)
        ],
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0))
    runner.train()
    return str(work_dir / 'iter_2.pth')


@pytest.fixture
def clean_allow_list(monkeypatch):
    """Run with an empty user allow-list; restore the previous one after."""
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    monkeypatch.setattr(ckpt_utils, '_REGISTERED', False)
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(saved)


def _dumps(obj) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


def test_checkpoint_needs_the_allow_list(mmengine_checkpoint,
                                         clean_allow_list):
    with pytest.raises(pickle.UnpicklingError):
        torch.load(mmengine_checkpoint, weights_only=True)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
        mmengine_checkpoint)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
    register_checkpoint_safe_globals()
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        mmengine_checkpoint) == []


def test_mmengine_checkpoint_loads_weights_only(mmengine_checkpoint,
                                                clean_allow_list):
    register_checkpoint_safe_globals()
    ckpt = torch.load(mmengine_checkpoint, weights_only=True)
    assert set(ckpt) >= {
        'meta', 'state_dict', 'message_hub', 'optimizer', 'param_schedulers'
    }
    # trusted reference: the same file loaded without restrictions
    ref = torch.load(mmengine_checkpoint, weights_only=False)
    for key, value in ref['state_dict'].items():
        assert torch.equal(ckpt['state_dict'][key], value)
    assert (ckpt['optimizer']['state'].keys() ==
            ref['optimizer']['state'].keys())
    assert ckpt['param_schedulers'] == ref['param_schedulers']
    assert ckpt['meta']['dataset_meta'] == _ToyDataset.metainfo

    hub = ckpt['message_hub']
    buf = hub['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    ref_buf = ref['message_hub']['log_scalars']['train/loss']
    np.testing.assert_array_equal(buf.data[0], ref_buf.data[0])
    assert buf.data[0].dtype == np.float64
    assert buf.mean() == pytest.approx(ref_buf.mean())
    assert buf.statistics('current') == ref_buf.statistics('current')
    assert isinstance(hub['runtime_info']['eta'], np.floating)

    # mmengine's own loader (torch.load with the weights_only default)
    assert _load_checkpoint(mmengine_checkpoint, map_location='cpu')['meta'][
        'iter'] == 2


def test_register_is_idempotent(clean_allow_list):
    first = register_checkpoint_safe_globals()
    n_allowed = len(torch.serialization.get_safe_globals())
    assert n_allowed == len(first) == len(checkpoint_safe_globals())
    register_checkpoint_safe_globals()
    assert len(torch.serialization.get_safe_globals()) == n_allowed


def test_arbitrary_objects_still_rejected(clean_allow_list):
    register_checkpoint_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match='_Local'):
        torch.load(_dumps({'x': _Local()}), weights_only=True)
    # the getattr stand-in only resolves HistoryBuffer statistics ...
    loaded = torch.load(
        _dumps(_GetattrPayload(HistoryBuffer, 'min')), weights_only=True)
    assert loaded is HistoryBuffer.min
    # ... nothing else, on allowed classes ...
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        torch.load(
            _dumps(_GetattrPayload(HistoryBuffer, '__init__')),
            weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        torch.load(
            _dumps(_GetattrPayload(np.ndarray, 'tofile')), weights_only=True)
    # ... nor on classes that are not allowed
    with pytest.raises(pickle.UnpicklingError):
        torch.load(
            _dumps(_GetattrPayload(_Local, '__init__')), weights_only=True)
    # numpy object arrays stay forbidden
    with pytest.raises(pickle.UnpicklingError):
        torch.load(
            _dumps(np.array([1, 'a'], dtype=object)), weights_only=True)
    # numeric numpy data is fine
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = torch.load(
        _dumps({
            'a': arr,
            's': np.float32(1.5),
            'b': np.bool_(True)
        }),
        weights_only=True)
    np.testing.assert_array_equal(out['a'], arr)
    assert out['a'].dtype == np.int32
    assert out['s'] == np.float32(1.5) and out['b']


def test_numpy1_names_are_accepted(clean_allow_list):
    """Checkpoints written with numpy 1.x name ``numpy.core.multiarray``."""
    buf = io.BytesIO()
    torch.save({'a': np.arange(3.0), 'eta': np.float64(2.0)},
               buf,
               _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    assert b'numpy._core.multiarray\n' in data
    data = data.replace(b'numpy._core.multiarray\n',
                        b'numpy.core.multiarray\n')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(data), weights_only=True)
    register_checkpoint_safe_globals()
    out = torch.load(io.BytesIO(data), weights_only=True)
    np.testing.assert_array_equal(out['a'], np.arange(3.0))
    assert out['eta'] == 2.0


def test_import_mmseg_weak_registers_the_allow_list(mmengine_checkpoint):
    """``custom_imports=dict(imports=['mmseg_weak'])`` is enough: importing
    the package (in a fresh interpreter) registers exactly
    :func:`checkpoint_safe_globals` and an mmengine checkpoint loads with
    torch's weights-only default."""
    import os
    import subprocess
    import sys
    code = (
        'import torch\n'
        'def key(g):\n'
        '    if isinstance(g, tuple):\n'
        '        return g[1]\n'
        '    return f"{g.__module__}.{g.__qualname__}"\n'
        'import mmseg_weak\n'
        'from mmseg_weak.utils import checkpoint_safe_globals\n'
        'got = {key(g) for g in torch.serialization.get_safe_globals()}\n'
        'want = {key(g) for g in checkpoint_safe_globals()}\n'
        'assert want <= got, want - got\n'
        '# the rest is what torch registers itself\n'
        'others = got - want\n'
        'assert all(k.startswith("torch.") for k in others), others\n'
        f'ckpt = torch.load({mmengine_checkpoint!r}, map_location="cpu")\n'
        'print("loaded", ckpt["meta"]["iter"])\n')
    env = {
        k: v
        for k, v in os.environ.items()
        if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
    }
    proc = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'loaded 2' in proc.stdout
