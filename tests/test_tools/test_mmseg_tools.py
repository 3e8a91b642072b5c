"""MMSeg's own tools (shipped in the mmseg package) on our checkpoints.

``import mmseg_weak`` -- done by the config's ``custom_imports`` -- must be
enough for ``mmseg/.mim/tools/test.py`` and ``benchmark.py`` to load our
checkpoints under torch >= 2.6 (``weights_only=True`` by default), without
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``.
"""
import os
import os.path as osp
import subprocess
import sys

import mmseg
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')


def _env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
    }
    env.update(OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    return env


def _run(args, timeout=300):
    proc = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(trained_once, tmp_path_factory):
    """A config, the checkpoint our tools/train.py wrote for it and a
    folder for the tools' work dirs."""
    cfg, _, ckpt = trained_once
    assert 'mmseg_weak' in Config.fromfile(cfg).custom_imports.imports
    return cfg, ckpt, tmp_path_factory.mktemp('mmseg_tools')


def test_torch_alone_refuses_the_checkpoint(trained):
    """The premise: without mmseg_weak the weights-only load fails."""
    _, ckpt, _ = trained
    rc, out = _run([
        sys.executable, '-c',
        f'import torch; torch.load({ckpt!r}, map_location="cpu")'
    ])
    assert rc != 0 and 'Weights only load failed' in out


def test_mmseg_test_py_loads_our_checkpoint(trained):
    cfg, ckpt, tmp = trained
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in _env()
    rc, out = _run([
        sys.executable,
        osp.join(MMSEG_TOOLS, 'test.py'), cfg, ckpt, '--work-dir',
        str(tmp / 'mmseg_test')
    ])
    assert rc == 0, out[-4000:]
    assert 'UnpicklingError' not in out
    assert 'Load checkpoint from' in out
    assert 'Iter(test)' in out and 'mIoU:' in out


def test_mmseg_benchmark_loads_our_checkpoint(trained):
    cfg, ckpt, tmp = trained
    rc, out = _run([
        sys.executable,
        osp.join(MMSEG_TOOLS, 'analysis_tools', 'benchmark.py'), cfg, ckpt,
        '--work-dir',
        str(tmp / 'mmseg_bench')
    ])
    assert rc == 0, out[-4000:]
    assert 'UnpicklingError' not in out and 'Average fps' in out
