"""The launchers, for real: train, resume, 2-process CPU DDP, test, benchmark.

Each step runs the tool in a subprocess exactly as a user would, on a tiny
version of the mixed (masks + boxes, MultiSourceSampler) demo config.
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from config_utils import tiny_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = ('configs/baselines/'
          'boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')


def _run(args, env=None, timeout=300):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               **(env or {}))
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def test_train_then_resume(trained_once, tmp_path):
    """``tools/train.py --resume`` continues a copy of the shared run's work
    dir at iteration 4."""
    cfg, wd, _ = trained_once
    resumed = str(tmp_path / 'resumed')
    shutil.copytree(wd, resumed)
    out = _run([
        sys.executable, 'tools/train.py', cfg, '--work-dir', resumed,
        '--resume', '--cfg-options', 'train_cfg.max_iters=6',
        'default_hooks.checkpoint.interval=2'
    ])
    assert 'resumed' in out.lower() and 'iter: 4' in out
    assert 'Iter(train) [6/6]' in out and 'Iter(train) [1/6]' not in out
    assert osp.exists(osp.join(resumed, 'iter_6.pth'))


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


# ---------------------------------------------------------------------------
# tools/dist_*.sh: usage, free port, dying with the launcher
# ---------------------------------------------------------------------------


def _launcher_env(**extra) -> dict:
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               **extra)
    if 'PORT' not in extra:
        env.pop('PORT', None)
    return env


@pytest.mark.parametrize('args', [
    ['tools/dist_train.sh'],
    ['tools/dist_train.sh', 'cfg.py'],
    ['tools/dist_train.sh', 'cfg.py', 'two'],
    ['tools/dist_test.sh', 'cfg.py', 'ckpt.pth'],
])
def test_launcher_usage(args):
    proc = subprocess.run(['bash'] + args, cwd=ROOT, env=_launcher_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith('usage: ') and args[0] in proc.stderr
    assert 'Traceback' not in proc.stderr and proc.stdout == ''


def test_two_launchers_without_port_at_once(tiny_cfg):
    """Without PORT each launcher picks (and prints) a free port: two runs
    started together both finish (one process each: torchrun's store still
    listens on the port)."""
    cfg, tmp = tiny_cfg
    procs, wds = [], []
    for k in range(2):
        wd = str(tmp / f'noport{k}')
        wds.append(wd)
        procs.append(subprocess.Popen(
            ['bash', 'tools/dist_train.sh', cfg, '1', '--work-dir', wd,
             '--cfg-options', 'train_cfg.max_iters=2',
             'train_cfg.val_interval=2',
             'default_hooks.checkpoint.interval=2'],
            cwd=ROOT, env=_launcher_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=600)[0] for p in procs]
    ports = []
    for proc, out, wd in zip(procs, outs, wds):
        assert proc.returncode == 0, out[-4000:]
        match = re.search(r'PORT not set, using free port (\d+)', out)
        assert match, out[:2000]
        ports.append(int(match.group(1)))
        assert osp.exists(osp.join(wd, 'iter_2.pth'))
    assert ports[0] != ports[1]


def _processes_with(text: str) -> list:
    """Live processes (pid, state, cmdline) whose command line holds
    ``text``."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode()
            with open(f'/proc/{pid}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != 'Z':
            found.append((int(pid), state, cmd))
    return found


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='/proc')
@pytest.mark.parametrize('target', ['group', 'launcher'])
def test_kill_9_of_the_launcher_stops_the_ranks(tiny_cfg, target):
    """torchrun starts the ranks in sessions of their own: before the fix
    they survived ``kill -9`` of the launcher's process group (and of the
    launcher alone, which left torchrun too) and kept training."""
    cfg, tmp = tiny_cfg
    wd = str(tmp / f'killed_{target}')
    log = str(tmp / f'killed_{target}.out')
    with open(log, 'w') as out:
        proc = subprocess.Popen(
            ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', wd,
             '--cfg-options', 'train_cfg.max_iters=100000',
             'train_cfg.val_interval=100000',
             'default_hooks.checkpoint.interval=100000'],
            cwd=ROOT, env=_launcher_env(), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 300
        while 'Iter(train)' not in open(log).read():
            assert proc.poll() is None, open(log).read()[-4000:]
            assert time.time() < deadline, open(log).read()[-4000:]
            time.sleep(0.5)
        # the agent (the launcher, exec'd) and 2 ranks
        assert len(_processes_with(wd)) >= 3, _processes_with(wd)
        if target == 'group':
            os.killpg(proc.pid, signal.SIGKILL)  # kill -9 -<pgid>
        else:
            os.kill(proc.pid, signal.SIGKILL)  # kill -9 <launcher pid>
        proc.wait(timeout=60)
        deadline = time.time() + 15
        while _processes_with(wd) and time.time() < deadline:
            time.sleep(0.2)
        assert _processes_with(wd) == []
    finally:
        for pid, _, _ in _processes_with(wd):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# 2-process CPU DDP: validation == tools/test.py on the checkpoint; short log
# ---------------------------------------------------------------------------

# Saves every rank's buffers after the validation (test-only helper module,
# imported through custom_imports like any plugin).
_DUMP_HOOK = """
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class DumpBuffersHook(Hook):
    priority = 'LOWEST'

    def after_val_epoch(self, runner, metrics=None):
        model = getattr(runner.model, 'module', runner.model)
        torch.save({k: v.clone() for k, v in model.named_buffers()},
                   osp.join(runner.work_dir, f'buffers_rank{get_rank()}.pth'))
"""


@pytest.fixture(scope='module')
def ddp_train_and_test(voc_root, tmp_path_factory):
    """``tools/dist_train.sh <cfg> 2`` (SyncBN model: BN on CPU; 20
    iterations, one validation) then ``tools/test.py`` on its checkpoint, as
    a user runs them. The config inherits from the real config file, so
    that ``mmseg::`` bases are resolved (pkg_resources) as in real runs."""
    tmp = tmp_path_factory.mktemp('ddp_sync')
    (tmp / 'buffer_dump_hook.py').write_text(_DUMP_HOOK)
    cfg = tiny_config(osp.join(ROOT, CONFIG), voc_root, str(tmp / 'wd'),
                      iters=20, val_images=4)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.sampler.batch_size = 2
    cfg.train_dataloader.sampler.source_ratio = [1, 1]
    cfg.default_hooks.logger.interval = 10
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        cfg.model[key].norm_cfg = dict(type='SyncBN', requires_grad=True)
    cfg.randomness = dict(seed=0)
    cfg.custom_imports.imports = ['mmseg_weak', 'buffer_dump_hook']
    cfg.custom_hooks = [dict(type='DumpBuffersHook')]
    flat = str(tmp / 'flat.py')
    cfg.dump(flat)
    path = str(tmp / 'ddp_sync.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.join(ROOT, CONFIG)!r}]\n' + open(flat).read())
    env = _launcher_env(PYTHONPATH=str(tmp))
    wd = str(tmp / 'wd')
    train = subprocess.run(
        ['bash', 'tools/dist_train.sh', path, '2', '--work-dir', wd],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    train_out = train.stdout + train.stderr
    assert train.returncode == 0, train_out[-4000:]
    ckpt = osp.join(wd, 'iter_20.pth')
    test_wd = str(tmp / 'test')
    test = subprocess.run(
        [sys.executable, 'tools/test.py', path, ckpt, '--work-dir', test_wd],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    test_out = test.stdout + test.stderr
    assert test.returncode == 0, test_out[-4000:]
    return dict(wd=wd, test_wd=test_wd, ckpt=ckpt, train_out=train_out,
                test_out=test_out)


def test_cpu_ddp_validation_equals_test_of_checkpoint(ddp_train_and_test):
    """With BN (SyncBN on CPU) each rank kept its own running statistics:
    the last validation used each rank's, the checkpoint held rank 0's, and
    tools/test.py on it gave another mIoU. IterSyncBuffersHook averages
    them before validation and checkpointing."""
    import torch
    run = ddp_train_and_test
    assert 'IterSyncBuffersHook' in run['train_out']
    # the last validation of the training (json log) ...
    scalars = glob.glob(osp.join(run['wd'], '*', 'vis_data', 'scalars.json'))
    assert len(scalars) == 1
    val = [json.loads(line) for line in open(scalars[0])
           if '"mIoU"' in line][-1]
    assert val['step'] == 20
    # ... equals tools/test.py on the saved checkpoint, to the last digit
    test = json.load(open(osp.join(run['test_wd'], 'metrics.json')))
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert round(val[key], 2) == round(test[key], 2), (key, val, test)
    # and for a reason: all ranks validated with the checkpoint's buffers
    ckpt = torch.load(run['ckpt'], map_location='cpu')['state_dict']
    ranks = [
        torch.load(osp.join(run['wd'], f'buffers_rank{r}.pth'))
        for r in (0, 1)
    ]
    keys = [k for k in ranks[0] if k in ckpt]
    assert len(keys) > 50 and any('running_var' in k for k in keys)
    for key in keys:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        assert torch.equal(ranks[0][key], ckpt[key]), key


def test_train_and_test_logs_are_short(ddp_train_and_test):
    """A tiny 2-process train (one validation) + test prints < 600 lines:
    the config once (compact), no known third-party deprecation warnings,
    our CPU-switch lines kept."""
    run = ddp_train_and_test
    out = run['train_out'] + run['test_out']
    lines = out.splitlines()
    assert len(lines) < 600, len(lines)
    # the config dump appears once: its header and its lines
    assert len(re.findall(r' - Config \(', out)) == 1
    assert 'Config:\n' not in out
    assert len(re.findall(r'^train_cfg = ', out, flags=re.M)) == 1
    assert 'not printed again' in run['test_out']
    for noise in ('pkg_resources is deprecated', '``build_loss`` would be',
                  '`broadcast_buffers` is deprecated',
                  '`torch.distributed.reduce_op` is deprecated',
                  'Hooks will be executed'):
        assert noise not in out, noise
    assert 'CPU run: model.backbone.norm_cfg.type SyncBN -> BN' in out
    assert 'Distributed training: True' in out
    # the log files keep mmengine's full text
    log = glob.glob(osp.join(run['wd'], '*', '*.log'))[0]
    text = open(log).read()
    assert 'Config:\n' in text and 'Hooks will be executed' in text
