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
import numpy as np
import pytest
from conftest import tiny_config
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
