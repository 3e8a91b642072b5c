"""CyclicPseudoMaskHook (Pseudo-mask Matters, Sec. 3.5): round logic, the
files a round writes (1 vs 2 processes), atomicity, resume."""
import json
import os
import os.path as osp
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from conftest import tiny_config
from mmengine.runner import Runner

from mmseg_weak.engine.hooks import CyclicPseudoMaskHook
from mmseg_weak.engine.hooks import cyclic_pseudo_mask_hook as hook_module
from mmseg_weak.models.losses import PUSLoss
from mmseg_weak.utils import register_checkpoint_safe_globals

register_checkpoint_safe_globals()  # --resume, as tools/train.py does

CONFIG = 'configs/pmm/pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py'


def _cfg(voc_root, work_dir, iters=2, round_iter=1):
    cfg = tiny_config(CONFIG, voc_root, work_dir, size=48, iters=iters)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.custom_hooks[0].round_iters = [round_iter]
    cfg.param_scheduler = [
        dict(type='PolyLR', eta_min=0.0, power=1.0, begin=0, end=round_iter,
             by_epoch=False),
        dict(type='PolyLR', eta_min=0.0, power=1.0, begin=round_iter,
             end=iters, by_epoch=False)
    ][:1 + (iters > round_iter)]
    return cfg


def _hook(runner) -> CyclicPseudoMaskHook:
    return next(h for h in runner.hooks
                if isinstance(h, CyclicPseudoMaskHook))


def _pus_enabled(runner):
    return [m.enabled for m in runner.model.modules()
            if isinstance(m, PUSLoss)]


def test_arguments():
    with pytest.raises(ValueError, match='increasing'):
        CyclicPseudoMaskHook(round_iters=[5, 5], predict_pipeline=[{}])
    with pytest.raises(ValueError, match='positive'):
        CyclicPseudoMaskHook(round_iters=[], predict_pipeline=[{}])
    with pytest.raises(ValueError, match='predict_pipeline'):
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[])


def test_round_predicts_switches_data_disables_pus_and_restarts(
        voc_root, tmp_path):
    runner = Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=2))
    hook = _hook(runner)
    seen = {}
    original_end_round = hook.end_round
    original_before_iter = hook.before_train_iter

    def spy_end_round(runner_):
        seen['pus_before'] = _pus_enabled(runner_)
        seen['weights_trained'] = {
            k: v.clone() for k, v in runner_.model.state_dict().items()
        }
        original_end_round(runner_)
        seen['weights_at_round_end'] = {
            k: v.clone() for k, v in runner_.model.state_dict().items()
        }

    def spy_before_iter(runner_, batch_idx, data_batch=None):
        original_before_iter(runner_, batch_idx, data_batch)
        if runner_.iter == 1:  # the first iteration of round 1
            seen['lr'] = [
                g['lr'] for g in runner_.optim_wrapper.optimizer.param_groups
            ]
            seen['weights'] = {
                k: v.clone() for k, v in runner_.model.state_dict().items()
            }
            seen['opt_state'] = len(runner_.optim_wrapper.optimizer.state)

    hook.end_round = spy_end_round
    hook.before_train_iter = spy_before_iter
    runner.train()
    assert hook.round == 1 and not hook.restart_pending
    assert seen['pus_before'] == [True, True]
    assert _pus_enabled(runner) == [False, False]
    # the round's end keeps the trained weights (validated, checkpointed) ...
    for key, value in seen['weights_trained'].items():
        torch.testing.assert_close(seen['weights_at_round_end'][key], value)
    ckpt = torch.load(
        osp.join(str(tmp_path), 'iter_1.pth'), weights_only=False)
    assert ckpt['meta']['cyclic_pseudo_mask'] == dict(
        round=1, restart_pending=True)
    torch.testing.assert_close(
        ckpt['state_dict']['decode_head.conv_seg.weight'],
        seen['weights_trained']['decode_head.conv_seg.weight'])
    # ... the next round starts from the initial weights, a fresh optimizer
    # and the initial lr
    initial = torch.load(
        osp.join(str(tmp_path), 'pseudo_masks', 'initial_weights.pth'),
        weights_only=True)
    assert not torch.equal(initial['decode_head.conv_seg.weight'],
                           seen['weights_trained'][
                               'decode_head.conv_seg.weight'])
    for key, value in initial.items():
        torch.testing.assert_close(seen['weights'][key], value)
    assert seen['opt_state'] == 0
    assert seen['lr'] == [runner.cfg.optim_wrapper.optimizer.lr]
    # the round's folder: every training image, a manifest with the mIoU
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    ids = open(osp.join(voc_root, 'ImageSets/Segmentation/aug.txt')).read(
    ).split()
    files = sorted(f for f in os.listdir(round_dir) if f.endswith('.png'))
    assert files == sorted(i + '.png' for i in ids)
    manifest = json.load(open(osp.join(round_dir, 'manifest.json')))
    assert manifest['num_images'] == len(ids) and manifest['round'] == 1
    assert 0 <= manifest['mIoU'] <= 100
    assert not osp.exists(round_dir + '.tmp')
    # masks have the image size and valid class indices
    for name in files[:3]:
        mask = mmcv.imread(osp.join(round_dir, name), flag='unchanged',
                           backend='pillow')
        img = mmcv.imread(
            osp.join(voc_root, 'JPEGImages', name.replace('.png', '.jpg')))
        assert mask.shape == img.shape[:2]
        assert mask.max() < 6
    # the training data now reads the new masks
    dataset = runner.train_loop.dataloader.dataset
    assert dataset.data_prefix['pseudo_path'] == round_dir
    assert all(
        dataset.get_data_info(i)['seg_map_path'].startswith(round_dir)
        for i in range(len(dataset)))
    hub = runner.message_hub
    assert hub.get_scalar('cyclic/round_1_pseudo_mIoU').current() == \
        pytest.approx(manifest['mIoU'])


def test_predictions_are_the_models_with_image_labels(voc_root, tmp_path):
    """A written mask is the argmax of the model's prediction once the
    classes absent from the image labels are removed; checkpoints record the
    round."""
    from mmengine.dataset import pseudo_collate
    runner = Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=1))
    runner.train()
    ckpt = torch.load(
        osp.join(str(tmp_path), 'iter_1.pth'), weights_only=False)
    assert ckpt['meta']['cyclic_pseudo_mask']['round'] == 1
    hook = _hook(runner)
    hook.predict_round(runner, 2)  # with the current weights
    dataset = hook._predict_datasets(runner)[0]
    model = runner.model.eval()
    for index in (0, 5):
        with torch.no_grad():
            sample = model.test_step(pseudo_collate([dataset[index]]))[0]
        logits = sample.seg_logits.data
        labels = sample.gt_img_labels.bool().clone()
        labels[0] = True
        logits[~labels] = -float('inf')
        expected = logits.argmax(0).numpy()
        name = hook._img_id(dataset, index) + '.png'
        written = mmcv.imread(
            osp.join(str(tmp_path), 'pseudo_masks', 'round_2', name),
            flag='unchanged', backend='pillow')
        np.testing.assert_array_equal(written, expected)
        assert set(np.unique(written)) <= set(np.flatnonzero(labels.numpy()))


def test_interrupted_round_is_not_used(voc_root, tmp_path, monkeypatch):
    runner = Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=2))
    original_pseudo = runner.train_dataloader.dataset.data_prefix[
        'pseudo_path']
    calls = []
    write = hook_module.write_label_png

    def crash_after_three(path, label, palette):
        if len(calls) == 3:
            raise KeyboardInterrupt('simulated crash')
        calls.append(path)
        write(path, label, palette)

    monkeypatch.setattr(hook_module, 'write_label_png', crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    hook = _hook(runner)
    root = osp.join(str(tmp_path), 'pseudo_masks')
    assert hook.round == 0
    assert not osp.exists(osp.join(root, 'round_1'))
    assert len(os.listdir(osp.join(root, 'round_1.tmp'))) == 3
    assert runner.train_loop.dataloader.dataset.data_prefix[
        'pseudo_path'] == original_pseudo
    # the next attempt starts the round afresh and completes it
    monkeypatch.setattr(hook_module, 'write_label_png', write)
    hook.predict_round(runner, 1)
    assert not osp.exists(osp.join(root, 'round_1.tmp'))
    assert osp.isfile(osp.join(root, 'round_1', 'manifest.json'))


def test_resume_knows_the_round(voc_root, tmp_path):
    Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=2)).train()
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    cfg = _cfg(voc_root, str(tmp_path), iters=3)
    cfg.resume = True
    cfg.load_from = osp.join(str(tmp_path), 'iter_2.pth')
    runner = Runner.from_cfg(cfg)
    states = {}
    hook = _hook(runner)
    original = hook.before_train

    def spy(runner_):
        original(runner_)
        states['round'] = hook.round
        states['pseudo'] = runner_.train_loop.dataloader.dataset.data_prefix[
            'pseudo_path']
        states['pus'] = _pus_enabled(runner_)

    hook.before_train = spy
    runner.train()
    assert states == dict(round=1, pseudo=round_dir, pus=[False, False])
    assert hook.round == 1  # no second round was configured


def test_resume_from_a_round_end_checkpoint_restarts(voc_root, tmp_path):
    """A checkpoint saved at a round's last iteration holds the trained
    weights and a pending restart: resuming from it restarts."""
    Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=2)).train()
    initial = torch.load(
        osp.join(str(tmp_path), 'pseudo_masks', 'initial_weights.pth'),
        weights_only=True)
    cfg = _cfg(voc_root, str(tmp_path), iters=2)
    cfg.resume = True
    cfg.load_from = osp.join(str(tmp_path), 'iter_1.pth')
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    original = hook.before_train
    seen = {}

    def spy(runner_):
        original(runner_)
        seen['weights'] = {
            k: v.clone() for k, v in runner_.model.state_dict().items()
        }
        seen['pending'] = hook.restart_pending

    hook.before_train = spy
    runner.train()
    assert seen['pending'] is False and hook.round == 1
    for key, value in initial.items():
        torch.testing.assert_close(seen['weights'][key], value)


def test_resume_without_the_round_folder_is_an_error(voc_root, tmp_path):
    import shutil
    Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=2)).train()
    shutil.rmtree(osp.join(str(tmp_path), 'pseudo_masks', 'round_1'))
    cfg = _cfg(voc_root, str(tmp_path), iters=3)
    cfg.resume = True
    cfg.load_from = osp.join(str(tmp_path), 'iter_2.pth')
    with pytest.raises(FileNotFoundError, match='round_1'):
        Runner.from_cfg(cfg).train()


def _predict_worker(rank, world_size, port, cfg_dict, state, out_dir):
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmseg.registry import MODELS
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    if world_size > 1:
        dist.init_process_group('gloo', rank=rank, world_size=world_size)
    init_default_scope('mmseg')
    import mmseg_weak  # noqa: F401
    cfg = Config(cfg_dict)
    model = MODELS.build(cfg.model)
    model.load_state_dict(state)
    hook = CyclicPseudoMaskHook(
        round_iters=[1], predict_pipeline=cfg.custom_hooks[0].predict_pipeline,
        out_dir=out_dir, restrict_to_image_labels=True)
    runner = SimpleNamespace(cfg=cfg, work_dir=out_dir, model=model)
    stats = hook.predict_round(runner, 1)
    if rank == 0:
        with open(osp.join(out_dir, 'stats.json'), 'w') as f:
            json.dump(stats, f)
    if world_size > 1:
        dist.destroy_process_group()


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_write_what_one_process_writes(voc_root, tmp_path):
    import torch.multiprocessing as mp
    cfg = _cfg(voc_root, str(tmp_path / 'unused'))
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    state = MODELS.build(cfg.model).state_dict()
    outs = {}
    for world_size in (1, 2):
        out = str(tmp_path / f'world{world_size}')
        os.makedirs(out)
        mp.spawn(
            _predict_worker,
            args=(world_size, _free_port(), cfg.to_dict(), state, out),
            nprocs=world_size,
            join=True)
        outs[world_size] = out
    one = osp.join(outs[1], 'round_1')
    two = osp.join(outs[2], 'round_1')
    names = sorted(os.listdir(one))
    assert names == sorted(os.listdir(two))
    assert len([n for n in names if n.endswith('.png')]) == 12
    for name in names:
        if name.endswith('.png'):
            a = mmcv.imread(osp.join(one, name), flag='unchanged',
                            backend='pillow')
            b = mmcv.imread(osp.join(two, name), flag='unchanged',
                            backend='pillow')
            np.testing.assert_array_equal(a, b)
    s1 = json.load(open(osp.join(outs[1], 'stats.json')))
    s2 = json.load(open(osp.join(outs[2], 'stats.json')))
    assert s1['mIoU'] == pytest.approx(s2['mIoU'])
