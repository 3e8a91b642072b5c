"""The recipes of configs/recipes/ (parts of different papers in one config)
train on generated data through the real MMSeg runner, past any warm-up, and
the mixed-in part acts: PUS switches (forced beta), the DC loss is non-zero
after the warm-up, every pseudo-mask class id is one of the image's labels,
the cyclic round's masks come from the trained model."""
import importlib.util
import os
import os.path as osp
import sys

import cv2
import mmcv
import numpy as np
import pytest
import torch
from config_utils import tiny_config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from PIL import Image

from mmseg_weak.datasets.voc_annotation import parse_voc_xml
from mmseg_weak.models.losses import PUSLoss
from mmseg_weak.utils.cam_io import save_cams

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RECIPES = osp.join(ROOT, 'configs', 'recipes')
CLASSES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle']


class _PUSProbe(Hook):
    """Records after each iteration whether any PUSLoss acted."""

    def __init__(self):
        self.active = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self.active.append(
            any(m.last_active for m in model.modules()
                if isinstance(m, PUSLoss)))


def _force_pus(node, beta=1e9):
    """Set ``beta`` of every PUSLoss config in ``node`` (so it switches)."""
    if isinstance(node, dict):
        if node.get('type') == 'PUSLoss':
            node['beta'] = beta
        for value in node.values():
            _force_pus(value, beta)
    elif isinstance(node, list):
        for item in node:
            _force_pus(item, beta)


def _runner(cfg, probe=None):
    runner = Runner.from_cfg(cfg)
    if probe is not None:
        runner.register_hook(probe)
    return runner


def _image_labels(voc_root, img_id):
    ann = parse_voc_xml(osp.join(voc_root, 'Annotations', img_id + '.xml'),
                        CLASSES)
    return {i['bbox_label'] for i in ann['instances']}


def test_recipe_a_self_correction_with_pus(voc_root, tmp_path):
    cfg = tiny_config(
        osp.join(RECIPES,
                 'linsc-pus_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'),
        voc_root, str(tmp_path), iters=3)
    _force_pus(cfg.model)
    probe = _PUSProbe()
    runner = _runner(cfg, probe)
    runner.train()
    assert any(probe.active), 'PUS never acted on the weak (box) term'
    assert np.isfinite(runner.message_hub.get_scalar(
        'train/decode.loss_weak').current())
    assert 0 <= runner.val_loop.run()['mIoU'] <= 100


def test_recipe_c_cac_on_pseudo_masks_with_pus(voc_root, tmp_path):
    cfg = tiny_config(
        osp.join(RECIPES, 'cac-pus_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-'
                 'ppmg-96x96.py'), voc_root, str(tmp_path), iters=3)
    cfg.model.warmup_iters = 1  # past the warm-up from the second iteration
    # an untrained model is never confident: let every pixel take part
    cfg.model.loss_dc.pos_thresh = 0.0
    _force_pus(cfg.model)
    labeled = cfg.train_dataloader.dataset.datasets[0]
    assert labeled.supervision == 'pseudo_mask'
    probe = _PUSProbe()
    runner = _runner(cfg, probe)
    runner.train()
    assert any(probe.active), 'PUS never acted on the pseudo-mask branch'
    dc = runner.message_hub.get_scalar('train/loss_dc').current()
    assert np.isfinite(dc) and dc > 0, 'no DC loss after the warm-up'


@pytest.fixture(scope='module')
def gt_cams(voc_root, tmp_path_factory):
    """Blurred ground-truth masks as raw CAMs of each image's XML classes."""
    out = tmp_path_factory.mktemp('recipe_cams')
    with open(osp.join(voc_root, 'ImageSets/Segmentation/aug.txt')) as f:
        ids = f.read().split()
    for n, img_id in enumerate(ids):
        gt = np.array(Image.open(
            osp.join(voc_root, 'SegmentationClassAug', img_id + '.png')))
        keys = sorted(_image_labels(voc_root, img_id))
        rng = np.random.default_rng(n)
        maps = [
            4 * cv2.GaussianBlur((gt == c).astype(np.float32), (0, 0), 3) *
            rng.uniform(0.6, 1.0, gt.shape) for c in keys
        ]
        save_cams(str(out / f'{img_id}.npz'),
                  np.array(maps).reshape(-1, *gt.shape), keys)
    return str(out), ids


def _load_tool(name):
    if name in sys.modules:  # one module object per tool: pool workers
        return sys.modules[name]  # unpickle its classes by name
    spec = importlib.util.spec_from_file_location(
        name, osp.join(ROOT, 'tools', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_recipe_d_cam_pamr_crf_masks_train_pspnet(voc_root, gt_cams,
                                                  tmp_path):
    cam_dir, ids = gt_cams
    masks = tmp_path / 'cam_pamr_crf'
    gpm = _load_tool('generate_pseudo_masks')
    gpm.main([
        '--pipeline',
        osp.join(RECIPES, 'pseudo_masks', 'cam_pamr_crf.py'), '--img-dir',
        osp.join(voc_root, 'JPEGImages'), '--cam-dir', cam_dir, '--out-dir',
        str(masks), '--ids',
        osp.join(voc_root, 'ImageSets/Segmentation/aug.txt'), '--classes',
        *CLASSES, '--ann-dir',
        osp.join(voc_root, 'Annotations')
    ])
    for img_id in ids:
        mask = np.array(Image.open(masks / f'{img_id}.png'))
        assert set(np.unique(mask)) <= {0} | _image_labels(voc_root, img_id)
    cfg = tiny_config(
        osp.join(RECIPES,
                 'pspnet_r18-d8_2xb4-1k_synthvoc-cam-pamr-crf-96x96.py'),
        voc_root, str(tmp_path / 'work'), iters=2)
    # (tiny_config points a missing pseudo-mask folder at the ground truth)
    ds = cfg.train_dataloader.dataset
    ds.data_prefix.pseudo_path = str(masks)  # absolute: joined as is
    runner = _runner(cfg)
    runner.train()
    # the training set reads the pipeline's masks
    dataset = runner.train_dataloader.dataset
    assert dataset.get_data_info(0)['seg_map_path'].startswith(str(masks))
    assert os.listdir(masks)


def _hook_cfg(cfg):
    return next(h for h in cfg.custom_hooks
                if h.type == 'CyclicPseudoMaskHook')


def _check_round_masks(round_dir, voc_root, ids):
    """Every mask of the round exists and holds only the image's labels."""
    for img_id in ids:
        mask = np.array(Image.open(osp.join(round_dir, img_id + '.png')))
        assert set(np.unique(mask)) <= {0} | _image_labels(voc_root, img_id)


def test_recipe_b_single_stage_round_then_pspnet_pus(voc_root, tmp_path):
    from mmcv.transforms import Compose
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS
    cfg = tiny_config(
        osp.join(RECIPES, 'sswss-round_deeplabv3plus-sg_r18-d8_2xb4-2k_'
                 'synthvoc-96x96.py'), voc_root, str(tmp_path / 'b1'),
        iters=3)
    hooks = {h.type: h for h in cfg.custom_hooks}
    hooks['SegLossWarmupHook'].warmup_iters = 1  # the seg loss acts too
    hooks['CyclicPseudoMaskHook'].round_iters = [1.0]  # at the end
    runner = _runner(cfg)
    runner.train()
    round_dir = osp.join(str(tmp_path / 'b1'), 'pseudo_masks', 'round_1')
    ds_cfg = cfg.train_dataloader.dataset
    with open(osp.join(voc_root, ds_cfg.ann_file)) as f:
        ids = f.read().split()
    _check_round_masks(round_dir, voc_root, ids)
    # the round's masks are the trained model's: predict one image again
    hook = _hook_cfg(cfg)
    dataset = DATASETS.build(dict(ds_cfg, pipeline=hook.predict_pipeline))
    model = runner.model.eval()
    with torch.no_grad():
        sample = model.test_step(pseudo_collate([dataset[0]]))[0]
    probs = torch.softmax(sample.seg_logits.data, 0).numpy()
    labels = sample.gt_img_labels.numpy() > 0
    labels[0] = True
    keep = np.flatnonzero(labels)
    kept = probs[keep] / probs[keep].sum(0, keepdims=True)
    info = dataset.get_data_info(0)
    post = Compose(hook.post_pipeline)(
        dict(img=mmcv.imread(osp.join(info['img_path'])),
             seg_probs=kept, seg_probs_classes=keep))
    expected = keep[post['seg_probs'].argmax(0)]
    got = np.array(Image.open(osp.join(round_dir, info['img_id'] + '.png')))
    assert (got == expected).mean() > 0.999
    # step 2: PSPNet + PUS on that round
    cfg2 = tiny_config(
        osp.join(RECIPES,
                 'pspnet-pus_r18-d8_2xb4-1k_synthvoc-sswss-round-96x96.py'),
        voc_root, str(tmp_path / 'b2'), iters=2)
    cfg2.train_dataloader.dataset.data_prefix.pseudo_path = round_dir
    _force_pus(cfg2.model)
    probe = _PUSProbe()
    runner2 = _runner(cfg2, probe)
    runner2.train()
    assert any(probe.active)
    info = runner2.train_dataloader.dataset.get_data_info(0)
    assert info['seg_map_path'].startswith(round_dir)


def test_recipe_e_box_crf_pus_and_cyclic_round(voc_root, tmp_path):
    cfg = tiny_config(
        osp.join(RECIPES, 'pspnet-pus_r18-d8_2xb4-2k_synthvoc-boxcrf-round-'
                 '96x96.py'), voc_root, str(tmp_path), iters=4)
    assert _hook_cfg(cfg).round_iters == [2]
    _force_pus(cfg.model)
    probe = _PUSProbe()
    runner = _runner(cfg, probe)
    ds = runner.train_dataloader.dataset
    assert ds.supervision == 'box'
    # the box -> CRF pipeline makes masks of the box classes only
    sample = ds[0]['data_samples']
    img_id = ds.get_data_info(0)['img_id']
    assert set(sample.gt_sem_seg.data.unique().tolist()) <= {
        0, 255} | _image_labels(voc_root, img_id)
    runner.train()
    # PUS acted in round 0 and is off in the cyclic round
    assert probe.active[:2] == [True, True]
    assert probe.active[2:] == [False, False]
    round_dir = osp.join(str(tmp_path), 'pseudo_masks', 'round_1')
    with open(osp.join(voc_root, cfg.train_dataloader.dataset.ann_file)) as f:
        ids = f.read().split()
    _check_round_masks(round_dir, voc_root, ids)
    # after the round the images train on the round's masks
    ds = runner.train_loop.dataloader.dataset
    assert ds.supervision == 'pseudo_mask'
    assert ds.get_data_info(0)['seg_map_path'].startswith(round_dir)
