"""The single-stage WSSS configs (Araslanov & Roth, CVPR 2020) train through
the MMSeg runner on generated data with the segmentation loss switched on
during the run (warm-up 1 of 2 iterations), then evaluate."""
import glob

import pytest
from config_utils import tiny_config
from mmengine.runner import Runner

import mmseg_weak  # noqa: F401

CONFIGS = sorted(glob.glob('configs/single_stage/sswss_*.py'))


def test_configs_exist():
    assert any('synthvoc' in c for c in CONFIGS)
    assert any('r101' in c for c in CONFIGS) and any('r50' in c
                                                     for c in CONFIGS)


@pytest.mark.parametrize('config', [c for c in CONFIGS if 'synthvoc' in c])
def test_warmup_then_segmentation_loss(config, voc_root, tmp_path):
    cfg = tiny_config(config, voc_root, str(tmp_path), size=48, iters=2)
    hooks = [h for h in cfg.custom_hooks if h.type == 'SegLossWarmupHook']
    assert len(hooks) == 1
    hooks[0].warmup_iters = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    assert hub.get_scalar('train/seg_loss_on').current() == 1
    history = hub.get_scalar('train/decode.loss_seg')
    assert len(history.data[0]) == 1  # logged only once enabled
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100


def test_voc_schedule_is_the_papers():
    from mmengine.config import Config
    cfg = Config.fromfile(
        'configs/single_stage/'
        'sswss_deeplabv3plus-sg_r101-d8_4xb4-13k_voc12aug-321x321.py')
    per_iter = cfg.train_dataloader.batch_size * 4
    epochs = cfg.train_cfg.max_iters * per_iter / 10582
    assert 20 <= epochs < 20.1
    warmup = cfg.custom_hooks[0].warmup_iters * per_iter / 10582
    assert 5 <= warmup < 5.1
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
    assert cfg.param_scheduler == []
    assert cfg.model.decode_head.mix_rate == 0.3
    assert cfg.model.decode_head.cls_score_thr == 0.1
