"""Tier 2 of the config tests: ONE config per method and dataset trains
through the real MMSeg runner on generated data, past its warm-up, then
validates once; the method's own loss must have acted (finite, non-zero,
gradients reaching the module it trains). Large backbones (R-50 / R-101)
are replaced by a narrow ResNet-18 (``small_backbone_channels``: strides,
dilations and out_indices kept, heads adapted).

Tier 1 (test_configs_build.py) loads and builds EVERY config and its data;
more training of specific configs is in test_recipes.py (the recipes, the
linear self-correction), test_single_stage_configs.py (the synthvoc
single-stage config), tests/test_engine/test_hooks and
tests/test_models/test_segmentors.
"""
import math
import os.path as osp

import pytest
import torch
from config_utils import leaf_datasets, tiny_config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmseg_weak  # noqa: F401
from mmseg_weak.models.losses import PUSLoss

SC = 'configs/self_correction/'
#: the selection: name -> config
TRAINED = dict(
    baseline='configs/baselines/'
    'deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    boxfill='configs/baselines/'
    'boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sc_ancillary=SC +
    'ancillary_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sc_nosc=SC + 'nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sc_convsc_stage2=SC +
    'convsc-stage2_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sc_convsc_stage3=SC +
    'convsc-stage3_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    sc_nosc_cityscapes=SC +
    'nosc_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-512x1024.py',
    sswss='configs/single_stage/'
    'sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py',
    sswss_voc='configs/single_stage/'
    'sswss_deeplabv3plus-sg_r50-d8_4xb4-13k_voc12aug-321x321.py',
    cam_gap='configs/single_stage/cam-gap_r18-d8_2xb4-2k_synthvoc-96x96.py',
    pmm='configs/pmm/pmm_pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py',
    pmm_voc='configs/pmm/pspnet_voc.py',
    cac='configs/cac/cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py',
    cac_weak='configs/cac/'
    'cac-weak_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-cam-96x96.py',
    cac_cityscapes='configs/cac/'
    'cac_deeplabv3plus_r50-d8_4xb2-92k_cityscapes-1-8-720x720.py',
)
#: base width of the ResNet-18 replacing the large backbones
SMALL = 16


def test_selection_covers_every_method():
    assert all(osp.isfile(c) for c in TRAINED.values())
    folders = {c.split('/')[1] for c in TRAINED.values()}
    assert folders >= {'baselines', 'self_correction', 'single_stage', 'pmm',
                       'cac'}


# ---------------------------------------------------------------- helpers
def _cfg(name, voc_root, cityscapes_root, work_dir, iters):
    return tiny_config(TRAINED[name], voc_root, str(work_dir), iters=iters,
                       cityscapes_root=cityscapes_root,
                       small_backbone_channels=SMALL, serialize_data=False)


def _model(runner):
    return runner.model.module if is_model_wrapper(
        runner.model) else runner.model


def _train(cfg, *hooks):
    """Train ``cfg`` (validating once, at the end) and check the run's
    checkpoint and mIoU; returns the runner."""
    runner = Runner.from_cfg(cfg)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    iters = cfg.train_cfg.max_iters
    assert osp.exists(osp.join(cfg.work_dir, f'iter_{iters}.pth'))
    miou = runner.message_hub.get_scalar('val/mIoU').current()
    assert 0 <= miou <= 100
    return runner


def _logged(runner, key):
    """Last logged value of ``train/<key>``: finite and non-zero."""
    value = runner.message_hub.get_scalar(f'train/{key}').current()
    assert math.isfinite(value) and value != 0, f'{key} = {value}'
    return value


def _backward(runner, key, trained, frozen=()):
    """One more batch of the run's dataloader through ``model.loss``; the
    backward of ``key`` ALONE must give finite, non-zero gradients to some
    parameters of every module of ``trained`` (attribute paths) and none
    to ``frozen`` ones."""
    model = _model(runner)
    model.train()
    batch = next(iter(runner.train_loop.dataloader))
    data = model.data_preprocessor(batch, True)
    model.zero_grad(set_to_none=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    loss = losses[key]
    assert torch.isfinite(loss) and loss.item() > 0, f'{key} = {loss}'
    loss.backward()
    for path in trained:
        module = model.get_submodule(path)
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        assert grads, f'{key} does not reach {path}'
        assert all(torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads), \
            f'{key}: zero gradients in {path}'
    for module in frozen:
        assert all(p.grad is None for p in module.parameters())
    model.zero_grad(set_to_none=True)
    return losses


class _WeightAtStart(Hook):
    """Keeps a copy of one weight when training starts (after
    ``load_from``)."""

    def __init__(self, key):
        self.key = key
        self.value = None

    def before_train(self, runner):
        self.value = _model(runner).state_dict()[self.key].clone()


class _PUSProbe(Hook):
    """Records after each iteration whether any PUSLoss acted."""

    def __init__(self):
        self.active = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.active.append(
            any(m.last_active for m in _model(runner).modules()
                if isinstance(m, PUSLoss)))


def _force_pus(node):
    """A huge PUS ``beta``: the loss switches at every iteration (an
    untrained model's loss never reaches the paper's threshold)."""
    if isinstance(node, dict):
        if node.get('type') == 'PUSLoss':
            node['beta'] = 1e9
        for value in node.values():
            _force_pus(value)
    elif isinstance(node, list):
        for item in node:
            _force_pus(item)


# -------------------------------------------------------------- baselines
def test_baseline(voc_root, cityscapes_root, tmp_path):
    runner = _train(_cfg('baseline', voc_root, cityscapes_root, tmp_path, 2))
    _logged(runner, 'decode.loss_ce')
    _backward(runner, 'decode.loss_ce', ['decode_head.conv_seg', 'backbone'])


def test_boxfill(voc_root, cityscapes_root, tmp_path):
    runner = _train(_cfg('boxfill', voc_root, cityscapes_root, tmp_path, 2))
    _logged(runner, 'decode.loss_ce')
    batch = next(iter(runner.train_loop.dataloader))
    boxes = [s for s in batch['data_samples']
             if s.metainfo['supervision'] == 'box']
    assert boxes, 'no box-only image in the batch'
    # the boxes filled as masks: labels beyond the background
    assert any((s.gt_sem_seg.data > 0).any() for s in boxes)
    _backward(runner, 'decode.loss_ce', ['decode_head.conv_seg'])


# -------------------------------------------------------- self-correction
@pytest.fixture(scope='module')
def sc_ancillary(voc_root, cityscapes_root, tmp_path_factory):
    """The ancillary model trained 2 iterations: its runner (its checkpoint
    is the ancillary of the self-correction runs below)."""
    work_dir = tmp_path_factory.mktemp('sc_ancillary')
    return _train(
        _cfg('sc_ancillary', voc_root, cityscapes_root, work_dir, 2))


def test_sc_ancillary(sc_ancillary):
    _logged(sc_ancillary, 'decode.loss_ce')
    # the box encoder gates the features: the loss trains it
    _backward(sc_ancillary, 'decode.loss_ce', ['box_encoder', 'backbone'])


def _with_ancillary(cfg, runner):
    cfg.model.ancillary.checkpoint = osp.join(runner.work_dir, 'iter_2.pth')
    return cfg


def test_sc_nosc(sc_ancillary, voc_root, cityscapes_root, tmp_path):
    cfg = _with_ancillary(
        _cfg('sc_nosc', voc_root, cityscapes_root, tmp_path, 2),
        sc_ancillary)
    runner = _train(cfg)
    model = _model(runner)
    assert model.ancillary_loaded
    anc = torch.load(cfg.model.ancillary.checkpoint, map_location='cpu')
    key = 'decode_head.conv_seg.weight'
    assert torch.equal(model.ancillary.state_dict()[key],
                       anc['state_dict'][key]), 'ancillary weights not loaded'
    _logged(runner, 'decode.loss_weak')
    # the soft targets of the frozen ancillary train the primary model only
    _backward(runner, 'decode.loss_weak',
              ['decode_head.primary.conv_seg', 'backbone'],
              frozen=[model.ancillary])


@pytest.fixture(scope='module')
def sc_convsc_stage2(sc_ancillary, voc_root, cityscapes_root,
                     tmp_path_factory):
    """Stage 2 with the trained ancillary model as its stage-1 ancillary
    (the same architecture, trained on half of F in the real run)."""
    work_dir = tmp_path_factory.mktemp('sc_convsc_stage2')
    cfg = _with_ancillary(
        _cfg('sc_convsc_stage2', voc_root, cityscapes_root, work_dir, 2),
        sc_ancillary)
    return _train(cfg)


def test_sc_convsc_stage2(sc_convsc_stage2):
    _logged(sc_convsc_stage2, 'decode.loss_correction')
    _backward(sc_convsc_stage2, 'decode.loss_correction',
              ['decode_head.correction'])


def test_sc_convsc_stage3(sc_ancillary, sc_convsc_stage2, voc_root,
                          cityscapes_root, tmp_path):
    cfg = _with_ancillary(
        _cfg('sc_convsc_stage3', voc_root, cityscapes_root, tmp_path, 2),
        sc_ancillary)
    stage2 = osp.join(sc_convsc_stage2.work_dir, 'iter_2.pth')
    cfg.load_from = stage2  # fine-tunes stage 2 (primary + correction)
    key = 'decode_head.correction.0.weight'
    start = _WeightAtStart(key)
    runner = _train(cfg, start)
    weights = torch.load(stage2, map_location='cpu')['state_dict']
    assert torch.equal(start.value, weights[key]), 'stage 2 not loaded'
    model = _model(runner)
    _logged(runner, 'decode.loss_weak')
    _logged(runner, 'decode.loss_correction')
    _backward(runner, 'decode.loss_weak', ['decode_head.primary.conv_seg'],
              frozen=[model.ancillary])
    _backward(runner, 'decode.loss_correction', ['decode_head.correction'])


def test_sc_nosc_cityscapes(voc_root, cityscapes_root, tmp_path):
    """R-101 config with the small backbone, its R-101 ancillary shrunk the
    same way (untrained: the checkpoint path is tested on synthvoc)."""
    cfg = _cfg('sc_nosc_cityscapes', voc_root, cityscapes_root, tmp_path, 2)
    assert cfg.model.backbone.depth == 18
    assert cfg.model.ancillary.config.backbone.depth == 18
    runner = _train(cfg)
    _logged(runner, 'decode.loss_weak')
    _backward(runner, 'decode.loss_weak', ['decode_head.primary.conv_seg'],
              frozen=[_model(runner).ancillary])


# ----------------------------------------------------------- single-stage
@pytest.mark.parametrize('name', ['sswss', 'sswss_voc'])
def test_sswss_past_the_warmup(name, voc_root, cityscapes_root, tmp_path):
    """The segmentation loss switched on after 1 iteration of 3: the
    synthvoc config, and the paper's R-50 VOC config with the small
    backbone (ResNet, not V1c: strides 1-2-2-1)."""
    cfg = _cfg(name, voc_root, cityscapes_root, tmp_path, 3)
    hooks = [h for h in cfg.custom_hooks if h.type == 'SegLossWarmupHook']
    assert len(hooks) == 1
    hooks[0].warmup_iters = 1
    # an untrained model's masks are flat: below the pseudo-label floor
    # (min_cutoff 0.2) and confident for several classes at once, so every
    # image would be discarded (loss 0); keep each class's peak pixels
    cfg.model.decode_head.pseudo_gt_cfg = dict(
        fg_cutoff=0.99, bg_cutoff=0.99, min_cutoff=0.0)
    # seeded: an untrained model can still discard every image of a batch
    # (loss 0 at that iteration), which depends on the initial weights
    cfg.randomness = dict(seed=0)
    runner = _train(cfg)
    assert runner.message_hub.get_scalar('train/seg_loss_on').current() == 1
    seg = runner.message_hub.get_scalar('train/decode.loss_seg')
    assert len(seg.data[0]) == 2  # logged once enabled: iterations 2 and 3
    assert all(math.isfinite(v) for v in seg.data[0])
    assert max(seg.data[0]) > 0, seg.data[0]
    _logged(runner, 'decode.pseudo_valid')
    _logged(runner, 'decode.loss_cls')
    _backward(runner, 'decode.loss_seg', ['decode_head', 'backbone'])


def test_cam_gap(voc_root, cityscapes_root, tmp_path):
    runner = _train(_cfg('cam_gap', voc_root, cityscapes_root, tmp_path, 2))
    _logged(runner, 'decode.loss_cls')
    _backward(runner, 'decode.loss_cls', ['decode_head', 'backbone'])


# ---------------------------------------------------- Pseudo-mask Matters
@pytest.mark.parametrize('name', ['pmm', 'pmm_voc'])
def test_pmm_with_its_cyclic_round(name, voc_root, cityscapes_root,
                                   tmp_path):
    """PSPNet + PUS for 2 iterations, the cyclic round (predict the
    training set, switch to its masks, restart without PUS), 2 more;
    pspnet_voc.py (the README's command) with the small backbone, its TTA x12
    and dense CRF."""
    cfg = _cfg(name, voc_root, cityscapes_root, tmp_path, 4)
    _force_pus(cfg.model)
    hook = [h for h in cfg.custom_hooks if h.type == 'CyclicPseudoMaskHook']
    assert len(hook) == 1 and hook[0].round_iters == [2]
    probe = _PUSProbe()
    runner = _train(cfg, probe)
    assert probe.active == [True, True, False, False]
    round_dir = osp.join(cfg.work_dir, 'pseudo_masks', 'round_1')
    ds_cfg = leaf_datasets(cfg.train_dataloader.dataset)[0]
    with open(osp.join(voc_root, ds_cfg.ann_file)) as f:
        ids = f.read().split()
    assert all(osp.isfile(osp.join(round_dir, i + '.png')) for i in ids)
    dataset = runner.train_loop.dataloader.dataset
    assert dataset.supervision == 'pseudo_mask'
    assert dataset.get_data_info(0)['seg_map_path'].startswith(round_dir)
    _logged(runner, 'decode.loss_ce')
    _backward(runner, 'decode.loss_ce', ['decode_head', 'backbone'])


# ------------------------------------------------ context-aware consistency
@pytest.mark.parametrize('name', ['cac', 'cac_weak', 'cac_cityscapes'])
def test_cac_past_the_warmup(name, voc_root, cityscapes_root, tmp_path):
    cfg = _cfg(name, voc_root, cityscapes_root, tmp_path, 3)
    cfg.model.warmup_iters = 1  # the unlabeled losses from iteration 2 on
    # an untrained model is never confident: let every pixel take part
    cfg.model.loss_dc.pos_thresh = 0.0
    runner = _train(cfg)
    dc = runner.message_hub.get_scalar('train/loss_dc')
    assert dc.data[0][0] == 0  # the warm-up iteration
    _logged(runner, 'loss_dc')
    _backward(runner, 'loss_dc', ['projector', 'backbone'])
    if 'weak_head' in cfg.model:
        _logged(runner, 'weak.loss_weak')
        _backward(runner, 'weak.loss_weak', ['weak_head'])
