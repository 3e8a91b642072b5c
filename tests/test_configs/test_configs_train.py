"""Every config trains a few iterations on generated data through the real
MMSeg runner and then evaluates (shrunk: small crops, 2 iterations)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

CONFIGS = sorted(
    p for p in glob.glob('configs/**/*.py', recursive=True)
    if '/_base_/' not in p)


def _shrink(node, size: int):
    """Make every crop / resize scale in the pipelines tiny."""
    if isinstance(node, (dict, ConfigDict)):
        for key, value in node.items():
            if key in ('crop_size', 'scale') and isinstance(value, (tuple,
                                                                    list)):
                node[key] = (size, size)
            else:
                _shrink(value, size)
    elif isinstance(node, list):
        for item in node:
            _shrink(item, size)


def _datasets(loader_cfg):
    ds = loader_cfg.dataset
    return ds.datasets if ds.type == 'ConcatDataset' else [ds]


def test_configs_found():
    assert len(CONFIGS) >= 4


@pytest.mark.parametrize('config', CONFIGS)
def test_config_trains_and_evaluates(config, voc_root, tmp_path):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
        for ds in _datasets(loader):
            ds.data_root = voc_root
    cfg.val_dataloader.dataset.indices = 2
    cfg.test_dataloader = cfg.val_dataloader
    _shrink(cfg.train_dataloader, 48)
    _shrink(cfg.val_dataloader, 48)
    if 'size' in cfg.model.get('data_preprocessor', {}):
        cfg.model.data_preprocessor.size = (48, 48)
    cfg.model.pretrained = None
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 2
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100
