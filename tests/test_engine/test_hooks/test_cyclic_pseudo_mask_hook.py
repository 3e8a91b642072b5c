"""CyclicPseudoMaskHook (Pseudo-mask Matters, Sec. 3.5): round logic, the
files a round writes (1 vs 2 processes), atomicity, resume; any weak model
and supervision; TTA merged exactly as ``tools/test.py --tta``; the
post-processing pipeline; round lengths from ``train_cfg.max_iters`` and the
per-round poly schedule (``RoundPolyLR``)."""
import json
import os
import os.path as osp
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from config_utils import tiny_config
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim.scheduler import PolyLR
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS, TRANSFORMS

from mmseg_weak.engine.hooks import CyclicPseudoMaskHook, RoundPolyLR
from mmseg_weak.engine.hooks import cyclic_pseudo_mask_hook as hook_module
from mmseg_weak.engine.hooks.round_poly_lr import (check_round_iters,
                                                   resolve_round_iters)
from mmseg_weak.models.losses import PUSLoss
from mmseg_weak.utils import register_checkpoint_safe_globals

register_checkpoint_safe_globals()  # --resume, as tools/train.py does

CONFIG = 'configs/pmm/pmm_pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py'
SSWSS = 'configs/single_stage/sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py'  # noqa: E501
BOXFILL = 'configs/baselines/boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'  # noqa: E501
NUM_CLASSES = 6

# ----------------------------------------------------------------------
# transforms used by the tests
# ----------------------------------------------------------------------
#: what the post_pipeline recorder saw, per image
RECORDED = []


@TRANSFORMS.register_module(force=True)
class _TestRecordPostInputs(BaseTransform):
    """Record the hook's post_pipeline results dict (copies)."""

    def transform(self, results):
        RECORDED.append({
            k: (v.copy() if isinstance(v, np.ndarray) else v)
            for k, v in results.items()
        })
        return results


@TRANSFORMS.register_module(force=True)
class _TestZeroClassProbs(BaseTransform):
    """Set the probability of one class id to zero (by its class id)."""

    def __init__(self, class_id):
        self.class_id = class_id

    def transform(self, results):
        probs = results['seg_probs'].copy()
        probs[results['seg_probs_classes'] == self.class_id] = 0
        results['seg_probs'] = probs
        return results


@TRANSFORMS.register_module(force=True)
class _TestWriteSegMap(BaseTransform):
    """Write a constant hard mask (the hook must take it as it is)."""

    def __init__(self, value):
        self.value = value

    def transform(self, results):
        results['gt_seg_map'] = np.full(results['ori_shape'], self.value,
                                        np.uint8)
        return results


@TRANSFORMS.register_module(force=True)
class _TestForceImageLabels(BaseTransform):
    """Give every image the image labels ``ids`` (no background)."""

    def __init__(self, ids, num_classes):
        self.ids, self.num_classes = list(ids), num_classes

    def transform(self, results):
        labels = np.zeros(self.num_classes, np.float32)
        labels[self.ids] = 1
        results['gt_img_labels'] = labels
        return results


def _plain_predict_pipeline(size=48, extra=()):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(size, size), keep_ratio=True),
        dict(type='LoadImageLabels', num_classes=NUM_CLASSES),
        *extra,
        dict(type='PackWeakSegInputs'),
    ]


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
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


def _read(path):
    return mmcv.imread(path, flag='unchanged', backend='pillow')


def _ids(voc_root, split='aug.txt'):
    return open(osp.join(voc_root, 'ImageSets/Segmentation',
                         split)).read().split()


def _predict_dataset(hook, runner, index=0):
    return DATASETS.build(hook._predict_dataset_cfgs(runner)[index])


def _softmax_argmax(model, dataset, index):
    """The model's own prediction of one image: (argmax of its softmax,
    its pred_sem_seg, the data sample)."""
    with torch.no_grad():
        sample = model.test_step(pseudo_collate([dataset[index]]))[0]
    probs = sample.seg_logits.data.softmax(dim=0)
    return (probs.argmax(0).numpy(), sample.pred_sem_seg.data[0].numpy(),
            sample)


# ----------------------------------------------------------------------
# arguments, round resolution, schedules
# ----------------------------------------------------------------------
def test_arguments():
    with pytest.raises(ValueError, match='increasing'):
        CyclicPseudoMaskHook(round_iters=[5, 5], predict_pipeline=[{}])
    with pytest.raises(ValueError, match='positive'):
        CyclicPseudoMaskHook(round_iters=[], predict_pipeline=[{}])
    with pytest.raises(ValueError, match='positive'):
        CyclicPseudoMaskHook(round_iters=[0], predict_pipeline=[{}])
    with pytest.raises(ValueError, match=r'fraction of max_iters in \(0, 1\]'):
        CyclicPseudoMaskHook(round_iters=[1.5], predict_pipeline=[{}])
    with pytest.raises(ValueError, match='predict_pipeline'):
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[])
    with pytest.raises(ValueError, match='ground-truth masks are never'):
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[{}],
                             supervisions=('box', 'full'))
    with pytest.raises(ValueError, match='unlabeled'):
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[{}],
                             supervisions='unlabeled')
    with pytest.raises(ValueError, match='TestTimeAug'):
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[{}],
                             tta=True)
    with pytest.raises(TypeError):  # crf= became post_pipeline=
        CyclicPseudoMaskHook(round_iters=[3], predict_pipeline=[{}],
                             crf=dict(type='DenseCRF'))
    hook = CyclicPseudoMaskHook(
        round_iters=0.5, predict_pipeline=[{}],
        supervisions=('image_label', 'box', 'pseudo_mask'))
    assert hook.round_iters == [0.5] and hook.iters is None


def test_round_resolution():
    assert resolve_round_iters([0.5], 40000) == [20000]
    assert resolve_round_iters([0.25, 0.5, 1.0], 2000) == [500, 1000, 2000]
    assert resolve_round_iters([100, 0.5], 2000) == [100, 1000]
    assert check_round_iters(7) == [7]
    with pytest.raises(ValueError, match=r'round_iters.*\[3\].*after '
                       r'train_cfg\.max_iters=2'):
        resolve_round_iters([1, 3], 2)
    with pytest.raises(ValueError, match='not increasing'):
        resolve_round_iters([0.5, 20], 40)
    with pytest.raises(ValueError, match='too short'):
        resolve_round_iters([0.1], 4)


def _lrs(make, total, reset_at=None, lr0=0.005):
    """The lr of every iteration of a run of ``total`` iterations (with the
    hook's reset to ``initial_lr`` before iteration ``reset_at``)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr0)
    schedulers = make(opt)
    lrs = []
    for it in range(total):
        if it == reset_at:
            for group in opt.param_groups:
                group['lr'] = group['initial_lr']
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def test_round_poly_lr_is_one_poly_per_round():
    """RoundPolyLR == the paper's one PolyLR per round (bitwise), with or
    without the hook's lr reset; a single PolyLR over the run after the reset
    anneals only the last round (verified here, as the docs say)."""
    T, r, eta, p, lr0 = 40, 20, 1e-4, 0.9, 0.005

    def two(o):
        return [PolyLR(o, eta_min=eta, power=p, begin=0, end=r,
                       by_epoch=False),
                PolyLR(o, eta_min=eta, power=p, begin=r, end=T,
                       by_epoch=False)]

    def rounds(o):
        return [RoundPolyLR(o, round_iters=[0.5], eta_min=eta, power=p,
                            end=T)]

    reference = _lrs(two, T, reset_at=r)
    assert _lrs(rounds, T, reset_at=r) == reference
    assert _lrs(rounds, T) == reference  # restarts without the hook too
    assert reference[r - 1] == pytest.approx(eta) and reference[r] == lr0
    single = _lrs(
        lambda o: [PolyLR(o, eta_min=eta, power=p, end=T, by_epoch=False)],
        T, reset_at=r)
    last_round = _lrs(
        lambda o: [PolyLR(o, eta_min=eta, power=p, begin=r, end=T,
                          by_epoch=False)],
        T, reset_at=r)
    np.testing.assert_allclose(single[r:], last_round[r:], rtol=1e-12)
    np.testing.assert_allclose(single[r:], reference[r:], rtol=1e-12)
    # ... but the first round stops half-way down
    assert single[r - 1] == pytest.approx(
        eta + (lr0 - eta) * ((T - r) / (T - 1))**p)
    assert single[r - 1] > 0.5 * lr0
    with pytest.raises(ValueError, match='finite end'):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
        RoundPolyLR(opt, round_iters=[0.5])


def test_paper_config_round_and_schedule_follow_max_iters():
    """configs/pmm/pspnet_voc.py: TTA x12 (6 scales x flip) + the dense CRF,
    no restriction; ``train_cfg.max_iters`` alone moves the round and the lr
    restart."""
    cfg = Config.fromfile('configs/pmm/pspnet_voc.py')
    hook_cfg = cfg.custom_hooks[0]
    assert hook_cfg.tta is True and hook_cfg.restrict_to_image_labels is False
    assert hook_cfg.supervisions == ('pseudo_mask', )
    tta = hook_cfg.predict_pipeline[1]
    assert tta.type == 'TestTimeAug'
    assert [t.scale for t in tta.transforms[0]] == [
        (int(2048 * r), int(512 * r))
        for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)
    ]
    assert [t.prob for t in tta.transforms[1]] == [0., 1.]
    assert [t.type for t in hook_cfg.post_pipeline] == ['DenseCRFRefine']
    assert cfg.tta_model.type == 'SegTTAModel'
    # the val TTA of tools/test.py --tta sees the same views
    assert cfg.tta_pipeline[1].transforms[:2] == tta.transforms[:2]
    for max_iters, expected in ((40000, 20000), (2000, 1000)):
        cfg.merge_from_dict({'train_cfg.max_iters': max_iters})
        assert resolve_round_iters(hook_cfg.round_iters,
                                   cfg.train_cfg.max_iters) == [expected]
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
        sched_cfg = dict(cfg.param_scheduler[0])
        sched_cfg.pop('type')
        scheduler = RoundPolyLR(opt, end=cfg.train_cfg.max_iters,
                                **sched_cfg)
        assert scheduler.restarts == [expected]
    hook = CyclicPseudoMaskHook(
        **{k: v for k, v in hook_cfg.items() if k != 'type'})
    assert hook.tta and len(hook.post_pipeline) == 1


def test_round_past_max_iters_is_a_clear_error(voc_root, tmp_path):
    cfg = _cfg(voc_root, str(tmp_path), iters=2)
    cfg.custom_hooks[0].round_iters = [3]
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError,
                       match=r'round_iters=\[3\].*after train_cfg\.'
                       r'max_iters=2'):
        runner.train()
    assert not osp.exists(osp.join(str(tmp_path), 'iter_1.pth'))


def test_fractional_rounds_and_schedule_from_max_iters(voc_root, tmp_path):
    """The synthvoc config's round_iters=[0.5] and RoundPolyLR follow
    ``--cfg-options train_cfg.max_iters=4``: the round ends at iteration 2
    and the lr restarts there."""
    cfg = tiny_config(CONFIG, voc_root, str(tmp_path), size=48, iters=2)
    original = Config.fromfile(CONFIG)
    cfg.custom_hooks[0].round_iters = original.custom_hooks[0].round_iters
    cfg.param_scheduler = original.param_scheduler
    cfg.param_scheduler[0].eta_min = 0.0
    cfg.param_scheduler[0].power = 1.0
    cfg.merge_from_dict({'train_cfg.max_iters': 4})  # the one key
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    lrs = []
    original_before_iter = hook.before_train_iter

    def spy(runner_, batch_idx, data_batch=None):
        original_before_iter(runner_, batch_idx, data_batch)
        lrs.append(runner_.optim_wrapper.optimizer.param_groups[0]['lr'])

    hook.before_train_iter = spy
    runner.train()
    assert hook.round_iters == [0.5] and hook.iters == [2] and hook.round == 1
    manifest = json.load(
        open(osp.join(str(tmp_path), 'pseudo_masks', 'round_1',
                      'manifest.json')))
    assert manifest['iteration'] == 2
    lr0 = cfg.optim_wrapper.optimizer.lr
    assert lrs == [lr0, 0.0, lr0, 0.0]  # poly (power 1) per round of 2


def test_round_poly_lr_must_match_the_rounds(voc_root, tmp_path):
    cfg = _cfg(voc_root, str(tmp_path), iters=4)
    cfg.custom_hooks[0].round_iters = [0.5]
    cfg.param_scheduler = [
        dict(type='RoundPolyLR', round_iters=[0.25], by_epoch=False)
    ]
    with pytest.raises(ValueError, match=r'RoundPolyLR restarts at \[1\]'):
        Runner.from_cfg(cfg).train()


def test_label_map_that_moves_class_ids_is_refused():
    with pytest.raises(ValueError, match='label_map'):
        CyclicPseudoMaskHook._check_label_map(
            SimpleNamespace(label_map={0: 0, 5: 1}), 12)
    CyclicPseudoMaskHook._check_label_map(  # identity on 0..5 is fine
        SimpleNamespace(label_map={i: (i if i < 6 else 255)
                                   for i in range(21)}), 6)


def test_infinite_iterator_cycles_and_reshuffles():
    from mmengine.dataset import DefaultSampler
    from torch.utils.data import DataLoader
    data = list(range(5))
    loader = DataLoader(data, batch_size=2,
                        sampler=DefaultSampler(data, shuffle=True, seed=0))
    iterator = hook_module._InfiniteIterator(loader)
    batches = [next(iterator).tolist() for _ in range(9)]  # 3 per pass
    passes = [sorted(sum(batches[i:i + 3], [])) for i in (0, 3, 6)]
    assert passes == [data] * 3
    assert iterator.epoch == 2 and loader.sampler.epoch == 2
    assert batches[:3] != batches[3:6]  # set_epoch: a new order


# ----------------------------------------------------------------------
# a round: prediction, publication, switching, restart (PMM config)
# ----------------------------------------------------------------------
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
    ids = _ids(voc_root)
    files = sorted(f for f in os.listdir(round_dir) if f.endswith('.png'))
    assert files == sorted(i + '.png' for i in ids)
    manifest = json.load(open(osp.join(round_dir, 'manifest.json')))
    assert manifest['num_images'] == len(ids) and manifest['round'] == 1
    assert manifest['iteration'] == 1
    assert 0 <= manifest['mIoU'] <= 100
    assert not osp.exists(round_dir + '.tmp')
    # masks have the image size and valid class indices
    for name in files[:3]:
        mask = _read(osp.join(round_dir, name))
        img = mmcv.imread(
            osp.join(voc_root, 'JPEGImages', name.replace('.png', '.jpg')))
        assert mask.shape == img.shape[:2]
        assert mask.max() < NUM_CLASSES
    # the training data now reads the new masks
    dataset = runner.train_loop.dataloader.dataset
    assert dataset.supervision == 'pseudo_mask'
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
    runner = Runner.from_cfg(_cfg(voc_root, str(tmp_path), iters=1))
    runner.train()
    ckpt = torch.load(
        osp.join(str(tmp_path), 'iter_1.pth'), weights_only=False)
    assert ckpt['meta']['cyclic_pseudo_mask']['round'] == 1
    hook = _hook(runner)
    hook.predict_round(runner, 2)  # with the current weights
    dataset = _predict_dataset(hook, runner)
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
        written = _read(
            osp.join(str(tmp_path), 'pseudo_masks', 'round_2', name))
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


# ----------------------------------------------------------------------
# any weak model, any supervision
# ----------------------------------------------------------------------
def test_single_stage_wsss_image_label_round(voc_root, tmp_path):
    """A SingleStageWSSS model trained on image labels hands its predictions
    to a round: the image-label dataset becomes a pseudo-mask dataset on the
    round's PNGs, which are that model's own argmax predictions."""
    cfg = tiny_config(SSWSS, voc_root, str(tmp_path), size=48, iters=1)
    assert cfg.model.type == 'SingleStageWSSS'
    assert cfg.train_dataloader.dataset.supervision == 'image_label'
    assert 'data_prefix' not in cfg.train_dataloader.dataset  # class default
    pseudo_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=NUM_CLASSES),
        dict(type='LoadImageLabels', num_classes=NUM_CLASSES),
        dict(type='RandomCrop', crop_size=(48, 48)),
        dict(type='PackWeakSegInputs'),
    ]
    cfg.custom_hooks.append(
        dict(type='CyclicPseudoMaskHook', round_iters=[1.0],
             supervisions=('image_label', ),
             predict_pipeline=_plain_predict_pipeline(),
             train_pipeline=pseudo_pipeline, restart=False,
             disable_pus=False))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = _hook(runner)
    assert hook.iters == [1] and hook.round == 1
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    ids = _ids(voc_root)
    assert sorted(f for f in os.listdir(round_dir) if f.endswith('.png')) \
        == sorted(i + '.png' for i in ids)
    # the training data: pseudo_mask on the round, with train_pipeline
    dataset = runner.train_loop.dataloader.dataset
    assert dataset.supervision == 'pseudo_mask'
    assert dataset.data_prefix['pseudo_path'] == round_dir
    assert dataset.data_prefix['img_path'] == osp.join(voc_root,
                                                       'JPEGImages')
    assert [t.__class__.__name__ for t in dataset.pipeline.transforms] == [
        t['type'] for t in pseudo_pipeline
    ]
    batch = next(runner.train_loop.dataloader_iterator)
    assert batch['data_samples'][0].supervision == 'pseudo_mask'
    assert (batch['data_samples'][0].gt_sem_seg.data < NUM_CLASSES).all()
    # the masks are the model's own predictions (the model at the round end)
    model = runner.model.eval()
    predict = _predict_dataset(hook, runner)
    agree = []
    for index in range(len(predict)):
        expected, pred_sem_seg, _ = _softmax_argmax(model, predict, index)
        written = _read(
            osp.join(round_dir, hook._img_id(predict, index) + '.png'))
        np.testing.assert_array_equal(written, expected)
        agree.append((written == pred_sem_seg).mean())
    assert min(agree) > 0.999  # up to float ties of the softmax


def test_box_dataset_relabelled_with_a_train_pipeline(voc_root, tmp_path):
    """Of a ConcatDataset (full + box, mmdet MultiSourceSampler) only the box
    dataset is relabelled; it becomes a pseudo-mask dataset without boxes on
    the given train_pipeline, and training goes on with it."""
    cfg = tiny_config(BOXFILL, voc_root, str(tmp_path), size=48, iters=2)
    pseudo_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=NUM_CLASSES),
        dict(type='RandomCrop', crop_size=(48, 48)),
        dict(type='PackWeakSegInputs'),
    ]
    cfg.custom_hooks = [
        dict(type='CyclicPseudoMaskHook', round_iters=[0.5],
             supervisions=('box', ),
             predict_pipeline=_plain_predict_pipeline(),
             train_pipeline=pseudo_pipeline, restart=True,
             disable_pus=False)
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()  # iteration 2 trains on the switched data
    hook = _hook(runner)
    assert hook.round == 1
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    box_ids = _ids(voc_root, 'splits/seed0/aug_minus_train.txt')
    assert sorted(f for f in os.listdir(round_dir) if f.endswith('.png')) \
        == sorted(i + '.png' for i in box_ids)
    concat = runner.train_loop.dataloader.dataset
    assert type(concat).__name__ == 'ConcatDataset'
    assert type(runner.train_loop.dataloader.sampler).__name__ == \
        'MultiSourceSampler'
    full, relabelled = concat.datasets
    assert full.supervision == 'full' and full.data_prefix.get(
        'pseudo_path') is None
    assert relabelled.supervision == 'pseudo_mask'
    assert relabelled.with_boxes is False
    assert relabelled.data_prefix['pseudo_path'] == round_dir
    assert relabelled.data_prefix['ann_path'] == osp.join(
        voc_root, 'Annotations')
    assert [t.__class__.__name__
            for t in relabelled.pipeline.transforms] == [
                t['type'] for t in pseudo_pipeline
            ]
    info = relabelled.get_data_info(0)
    assert 'instances' not in info
    sample = relabelled[0]['data_samples']
    assert sample.supervision == 'pseudo_mask'
    assert 'gt_instances' not in sample
    assert (sample.gt_sem_seg.data < NUM_CLASSES).all()


# ----------------------------------------------------------------------
# probabilities: TTA, restriction, post-processing
# ----------------------------------------------------------------------
def test_tta_merge_equals_seg_tta_model(voc_root, tmp_path):
    """tta=True: the argmax of the hook's merged probabilities (the written
    PNGs) is SegTTAModel's prediction (tools/test.py --tta: tta_model,
    tta_pipeline) pixel for pixel, over 3 scales x flip."""
    cfg = tiny_config(CONFIG, voc_root, str(tmp_path), size=48, iters=1)
    cfg.custom_hooks[0].update(
        tta=True, restrict_to_image_labels=False,
        predict_pipeline=cfg.predict_tta_pipeline)
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    torch.manual_seed(1)
    runner.model.init_weights()
    hook.predict_round(runner, 1)
    # tools/test.py --tta: the model wrapped in cfg.tta_model, the images
    # through cfg.tta_pipeline (which also loads the ground truth)
    tta_model = MODELS.build(dict(cfg.tta_model, module=cfg.model))
    assert type(tta_model).__name__ == 'SegTTAModel'
    tta_model.module.load_state_dict(runner.model.state_dict())
    tta_model.eval()
    dataset = DATASETS.build(
        dict(cfg.train_dataloader.dataset.to_dict(),
             supervision='full',
             data_prefix=dict(img_path='JPEGImages',
                              seg_map_path='SegmentationClassAug'),
             pipeline=cfg.tta_pipeline))
    views = len(dataset[0]['inputs'])
    assert views == 6  # 3 scales x 2 flips
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    classes, last_view_differs = set(), False
    for index in range(len(dataset)):
        with torch.no_grad():
            pred = tta_model.test_step(pseudo_collate([dataset[index]]))[0]
        expected = pred.pred_sem_seg.data.squeeze(0).numpy()
        name = dataset.get_data_info(index)['img_id'] + '.png'
        written = _read(osp.join(round_dir, name))
        np.testing.assert_array_equal(written, expected)
        classes |= set(np.unique(written).tolist())
        # the old bug: the LAST view's logits (left in the merged sample)
        last = pred.seg_logits.data.argmax(0).numpy()
        last_view_differs |= bool((last != expected).any())
    assert len(classes) > 1  # a non-trivial prediction
    assert last_view_differs


def test_restrict_to_image_labels_not_one_to_k(voc_root, tmp_path):
    """Image labels {3, 5}: the masks hold only 3, 5 and the background, as
    the argmax of the model's probabilities over those channels; the
    post_pipeline gets the contract's results dict."""
    cfg = tiny_config(CONFIG, voc_root, str(tmp_path), size=48, iters=1)
    force = dict(type='_TestForceImageLabels', ids=[3, 5],
                 num_classes=NUM_CLASSES)
    cfg.custom_hooks[0].update(
        restrict_to_image_labels=True,
        predict_pipeline=_plain_predict_pipeline(extra=[force]),
        post_pipeline=[dict(type='_TestRecordPostInputs')])
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    torch.manual_seed(2)
    runner.model.init_weights()
    RECORDED.clear()
    hook.predict_round(runner, 1)
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    dataset = _predict_dataset(hook, runner)
    model = runner.model.eval()
    values = set()
    for index in range(len(dataset)):
        _, _, sample = _softmax_argmax(model, dataset, index)
        probs = sample.seg_logits.data.softmax(0)[[0, 3, 5]]
        expected = np.array([0, 3, 5])[probs.argmax(0).numpy()]
        written = _read(
            osp.join(round_dir, hook._img_id(dataset, index) + '.png'))
        np.testing.assert_array_equal(written, expected)
        values |= set(np.unique(written).tolist())
    assert values <= {0, 3, 5} and len(values) > 1
    # the post_pipeline's input (results dict contract)
    assert len(RECORDED) == len(dataset)
    for results in RECORDED[:3]:
        info = next(
            dataset.get_data_info(i) for i in range(len(dataset))
            if dataset.get_data_info(i)['img_path'] == results['img_path'])
        img = mmcv.imread(info['img_path'])  # BGR uint8
        np.testing.assert_array_equal(results['img'], img)
        assert results['img_id'] == info['img_id']
        assert results['ori_shape'] == img.shape[:2]
        assert results['seg_probs'].dtype == np.float32
        assert results['seg_probs'].shape == (3, ) + img.shape[:2]
        np.testing.assert_allclose(results['seg_probs'].sum(0), 1, atol=1e-5)
        assert results['seg_probs_classes'].tolist() == [0, 3, 5]
        assert results['seg_probs_classes'].dtype == np.int64
        assert results['gt_img_labels'].tolist() == [0, 0, 0, 1, 0, 1]


def test_post_pipeline_edits_probabilities_or_writes_the_mask(
        voc_root, tmp_path):
    cfg = tiny_config(CONFIG, voc_root, str(tmp_path), size=48, iters=1)
    cfg.custom_hooks[0].update(
        restrict_to_image_labels=False,
        post_pipeline=[dict(type='_TestRecordPostInputs')])
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    torch.manual_seed(3)
    runner.model.init_weights()
    RECORDED.clear()
    hook.predict_round(runner, 1)
    root = osp.join(str(tmp_path), 'pseudo_masks')
    names = sorted(f for f in os.listdir(osp.join(root, 'round_1'))
                   if f.endswith('.png'))
    first = {n: _read(osp.join(root, 'round_1', n)) for n in names}
    # no edit: the argmax of the probabilities over all classes
    for results in RECORDED:
        assert results['seg_probs_classes'].tolist() == list(
            range(NUM_CLASSES))
        assert results['gt_img_labels'].shape == (NUM_CLASSES, )
        np.testing.assert_array_equal(
            first[results['img_id'] + '.png'],
            results['seg_probs'].argmax(0))
    counts = np.bincount(
        np.concatenate([m.ravel() for m in first.values()]),
        minlength=NUM_CLASSES)
    top = int(np.argmax(counts))
    assert counts[top] > 0
    # a transform removes the most frequent class: it is gone
    hook.post_pipeline = [dict(type='_TestZeroClassProbs', class_id=top)]
    hook._post = None
    hook.predict_round(runner, 2)
    for name in names:
        mask = _read(osp.join(root, 'round_2', name))
        assert not (mask == top).any()
        same = first[name] != top
        np.testing.assert_array_equal(mask[same], first[name][same])
    # a transform writing gt_seg_map decides the mask
    hook.post_pipeline = [dict(type='_TestWriteSegMap', value=4)]
    hook._post = None
    hook.predict_round(runner, 3)
    for name in names:
        assert (_read(osp.join(root, 'round_3', name)) == 4).all()
    hook.post_pipeline = [dict(type='_TestWriteSegMap', value=9)]
    hook._post = None
    with pytest.raises(ValueError, match=r'class ids \[9\]'):
        hook.predict_round(runner, 4)


def test_dense_crf_post_pipeline(voc_root, tmp_path):
    """post_pipeline=[DenseCRFRefine] refines the (merged) probabilities on
    the image; the mask is the argmax of the refined probabilities."""
    import mmseg_weak.datasets.transforms  # noqa: F401
    if TRANSFORMS.get('DenseCRFRefine') is None:
        pytest.skip('DenseCRFRefine is not registered yet')
    from mmseg_weak.utils.soft_maps import labels_from_soft_map
    crf = dict(type='DenseCRFRefine', key='seg_probs', num_iter=3,
               gaussian_sxy=1, gaussian_compat=3, bilateral_sxy=67,
               bilateral_srgb=3, bilateral_compat=4)
    cfg = tiny_config(CONFIG, voc_root, str(tmp_path), size=48, iters=1)
    cfg.custom_hooks[0].update(
        restrict_to_image_labels=False,
        post_pipeline=[dict(type='_TestRecordPostInputs'), crf])
    runner = Runner.from_cfg(cfg)
    hook = _hook(runner)
    torch.manual_seed(4)
    runner.model.init_weights()
    RECORDED.clear()
    hook.predict_round(runner, 1)
    refine = TRANSFORMS.build(crf)
    changed = 0
    for results in RECORDED[:4]:
        refined = refine(dict(results))
        expected = labels_from_soft_map(refined['seg_probs'],
                                        refined['seg_probs_classes'])
        written = _read(
            osp.join(str(tmp_path), 'pseudo_masks', 'round_1',
                     results['img_id'] + '.png'))
        np.testing.assert_array_equal(written, expected)
        changed += int((written != results['seg_probs'].argmax(0)).sum())
    assert changed > 0  # the CRF did something


# ----------------------------------------------------------------------
# DDP
# ----------------------------------------------------------------------
def _predict_worker(rank, world_size, port, cfg_dict, state, out_dir):
    import torch.distributed as dist
    from mmengine.registry import init_default_scope

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
    runner = SimpleNamespace(
        cfg=cfg, work_dir=out_dir, model=model, seed=0,
        build_dataloader=Runner.build_dataloader)
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
            np.testing.assert_array_equal(
                _read(osp.join(one, name)), _read(osp.join(two, name)))
    s1 = json.load(open(osp.join(outs[1], 'stats.json')))
    s2 = json.load(open(osp.join(outs[2], 'stats.json')))
    assert s1['mIoU'] == pytest.approx(s2['mIoU'])
