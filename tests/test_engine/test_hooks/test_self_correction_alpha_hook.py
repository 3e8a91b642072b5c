import math

import pytest
import torch
from config_utils import tiny_config
from mmengine.runner import Runner

from mmseg_weak.engine.hooks import exponential_alpha
from mmseg_weak.utils import register_checkpoint_safe_globals

LINSC = ('configs/self_correction/'
         'linsc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')


def test_schedule_endpoints_and_exponential_shape():
    assert exponential_alpha(0.0) == pytest.approx(30.0)
    assert exponential_alpha(1.0) == pytest.approx(0.5)
    assert exponential_alpha(2.0) == pytest.approx(0.5)  # clamped
    logs = [math.log(exponential_alpha(t / 10)) for t in range(11)]
    steps = [b - a for a, b in zip(logs, logs[1:])]
    assert steps == pytest.approx([math.log(0.5 / 30) / 10] * 10)
    assert exponential_alpha(0.5) == pytest.approx(math.sqrt(30 * 0.5))


def _runner(voc_root, work_dir, **overrides):
    cfg = tiny_config(LINSC, voc_root, work_dir, iters=4)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.checkpoint.save_optimizer = True  # resumed below
    cfg.train_cfg.val_interval = 100
    cfg.merge_from_dict(overrides)
    return Runner.from_cfg(cfg)


def test_alpha_follows_iterations_and_survives_resume(voc_root, tmp_path):
    wd = str(tmp_path)
    runner = _runner(voc_root, wd)
    runner.train()
    head = runner.model.decode_head
    # set before the 4th iteration (runner.iter = 3 of 4)
    assert float(head.alpha) == pytest.approx(exponential_alpha(3 / 4))
    ckpt = torch.load(f'{wd}/iter_2.pth', map_location='cpu',
                      weights_only=False)
    assert float(ckpt['state_dict']['decode_head.alpha']) == pytest.approx(
        exponential_alpha(1 / 4))
    register_checkpoint_safe_globals()  # as tools/train.py does
    resumed = _runner(voc_root, wd, resume=True, load_from=f'{wd}/iter_2.pth')
    resumed.load_or_resume()
    assert resumed.iter == 2
    assert float(resumed.model.decode_head.alpha) == pytest.approx(
        exponential_alpha(1 / 4))
    resumed.train()
    assert float(resumed.model.decode_head.alpha) == pytest.approx(
        exponential_alpha(3 / 4))
    scalars = resumed.message_hub.get_scalar('train/alpha')
    assert scalars.current() == pytest.approx(exponential_alpha(3 / 4))
