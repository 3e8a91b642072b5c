"""The launchers, for real: train, resume, 2-process CPU DDP, test, benchmark.

Each step runs the tool in a subprocess exactly as a user would, on a tiny
version of the mixed (masks + boxes, MultiSourceSampler) demo config.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/baselines/boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'


def _run(args, env=None, timeout=300):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               **(env or {}))
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.fixture(scope='module')
def tiny_cfg(voc_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('launch')
    cfg = tiny_config(osp.join(ROOT, CONFIG), voc_root, str(tmp / 'wd'),
                      iters=4)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.sampler.batch_size = 2
    cfg.train_dataloader.sampler.source_ratio = [1, 1]
    path = str(tmp / 'tiny.py')
    cfg.dump(path)
    return path, tmp


def test_train_then_resume(tiny_cfg):
    cfg, tmp = tiny_cfg
    wd = str(tmp / 'single')
    _run([sys.executable, 'tools/train.py', cfg, '--work-dir', wd])
    assert osp.exists(osp.join(wd, 'iter_4.pth'))
    out = _run([
        sys.executable, 'tools/train.py', cfg, '--work-dir', wd, '--resume',
        '--cfg-options', 'train_cfg.max_iters=6',
        'default_hooks.checkpoint.interval=2'
    ])
    assert 'resumed' in out.lower() and 'iter: 4' in out
    assert 'Iter(train) [6/6]' in out and 'Iter(train) [1/6]' not in out
    assert osp.exists(osp.join(wd, 'iter_6.pth'))


def test_dist_train_two_processes_then_test(tiny_cfg):
    cfg, tmp = tiny_cfg
    wd = str(tmp / 'dist')
    out = _run(['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', wd],
               env=dict(PORT='29631'))
    # mmengine's env log: 2 ranks under the pytorch launcher (gloo on CPU)
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert osp.exists(osp.join(wd, 'iter_4.pth'))
    ckpt = open(osp.join(wd, 'last_checkpoint')).read().strip()
    test_wd = str(tmp / 'test')
    out = _run([
        sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', test_wd,
        '--show-dir', 'vis', '--cfg-options',
        'default_hooks.visualization.interval=1'
    ])
    metrics = json.load(open(osp.join(test_wd, 'metrics.json')))
    assert 0 <= metrics['mIoU'] <= 100 and 'aAcc' in metrics
    pngs = [f for _, _, fs in os.walk(test_wd) for f in fs
            if f.endswith('.png')]
    assert len(pngs) >= 2  # prediction overlays of the 2 val images
    out = _run(['bash', 'tools/dist_test.sh', cfg, ckpt, '2', '--work-dir',
                str(tmp / 'dist_test')], env=dict(PORT='29632'))
    dist_metrics = json.load(open(osp.join(tmp / 'dist_test',
                                           'metrics.json')))
    assert dist_metrics['mIoU'] == pytest.approx(metrics['mIoU'])


def test_benchmark(tiny_cfg):
    cfg, tmp = tiny_cfg
    out = _run([
        sys.executable, 'tools/analysis_tools/benchmark.py', cfg,
        '--num-iters', '6', '--num-warmup', '1', '--log-interval', '3',
        '--work-dir', str(tmp / 'bench')
    ])
    assert 'fps' in out.lower()
