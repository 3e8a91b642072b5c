"""Fixtures of the tool tests: one tiny config of the box-fill baseline and
one run of our ``tools/train.py`` on it, shared by the launcher tests and the
MMSeg-tools tests (each tool process spends seconds importing the stack)."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from config_utils import tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = ('configs/baselines/'
          'boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')


@pytest.fixture(scope='session')
def tiny_cfg(voc_root, tmp_path_factory):
    """The box-fill baseline shrunk to 4 iterations of 1 + 1 images on the
    generated data, dumped to a file: (config path, its folder)."""
    tmp = tmp_path_factory.mktemp('launch')
    cfg = tiny_config(osp.join(ROOT, CONFIG), voc_root, str(tmp / 'wd'),
                      iters=4)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.sampler.batch_size = 2
    cfg.train_dataloader.sampler.source_ratio = [1, 1]
    path = str(tmp / 'tiny.py')
    cfg.dump(path)
    return path, tmp


@pytest.fixture(scope='session')
def trained_once(tiny_cfg):
    """``python tools/train.py <tiny config> --work-dir <wd>`` run once
    (single process, no launcher): (config path, work dir, its iteration-4
    checkpoint). Tests read it and write elsewhere."""
    cfg, tmp = tiny_cfg
    wd = str(tmp / 'single')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', cfg, '--work-dir', wd], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    ckpt = osp.join(wd, 'iter_4.pth')
    assert osp.exists(ckpt)
    return cfg, wd, ckpt
