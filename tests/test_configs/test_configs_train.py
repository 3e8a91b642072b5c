"""Every config trains a few iterations on generated data through the real
MMSeg runner and then evaluates (shrunk: small crops, 2 iterations)."""
import glob
import os.path as osp

import pytest
from conftest import tiny_config
from mmengine.runner import Runner

CONFIGS = sorted(
    p for p in glob.glob('configs/**/*.py', recursive=True)
    if '/_base_/' not in p and '/pseudo_masks/' not in p)


def test_configs_found():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize('config', CONFIGS)
def test_config_trains_and_evaluates(config, voc_root, cityscapes_root,
                                     tmp_path):
    if 'coco2014' in config:
        pytest.skip('COCO configs train on a generated COCO folder in '
                    'tests/test_datasets/test_coco_weak.py')
    runner = Runner.from_cfg(
        tiny_config(config, voc_root, str(tmp_path),
                    cityscapes_root=cityscapes_root))
    runner.train()
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100
