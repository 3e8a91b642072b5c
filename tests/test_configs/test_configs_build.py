"""Tier 1 of the config tests: EVERY config loads and builds, cheaply (no
training; tier 2, test_configs_train.py, trains one config per method and
dataset).

For each config (the same glob as the training tier had: configs/**/*.py
without configs/_base_ and configs/recipes/pseudo_masks):

- the model is built at its real size (R-101 / R-50 included) with
  ``MODELS.build``, pretrained weights off, on the ``meta`` device (every
  constructor runs, no weight is allocated nor initialised), and one image
  runs through it in ``tensor`` mode (the shapes propagate: every head's
  channels must match what feeds it); the optimizer wrapper and the
  config's lr schedulers are built on its parameters;
- its train / val / test datasets are built on the generated data (pointed
  there by ``tiny_config``), the pipeline of each (leaf) dataset runs on its
  first sample, one training batch goes through the sampler, the collate
  function and the data preprocessor; the val / test evaluators and a
  ``tta_pipeline`` are built;
- every custom hook is built; for ``CyclicPseudoMaskHook`` its
  ``predict_pipeline`` (and ``train_pipeline``) runs on the first image of
  each dataset it relabels and its ``post_pipeline`` on a soft map.
"""
import copy
import glob

import mmcv
import numpy as np
import pytest
import torch
from config_utils import (header_comment, leaf_datasets, shrink_scales,
                          tiny_config)
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner

import mmseg_weak  # noqa: F401

CONFIGS = sorted(
    p for p in glob.glob('configs/**/*.py', recursive=True)
    if '/_base_/' not in p and '/pseudo_masks/' not in p)

SIZE = 48


def test_configs_found():
    assert len(CONFIGS) >= 90
    # the whole training tier's selection is in the glob
    from test_configs_train import TRAINED
    assert set(TRAINED.values()) <= set(CONFIGS)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_has_a_header_comment(path):
    """Every config opens with a ``#`` comment that says what it is (the
    paper or the baseline it trains), as MMSeg's and MMDet's configs do."""
    assert len(header_comment(path).split()) >= 5, path


def _to_meta(module, args):
    """Forward pre-hook: tensors made on the CPU inside the model (box
    masks, ...) meet the meta weights on the meta device."""
    return tuple(
        a.to('meta') if isinstance(a, torch.Tensor) and a.device.type != 'meta'
        else a for a in args)


def _meta_model(model_cfg):
    from mmseg.registry import MODELS
    with torch.device('meta'):
        model = MODELS.build(copy.deepcopy(model_cfg))
    for module in model.modules():
        module.register_forward_pre_hook(_to_meta)
    return model.eval()


def _check_sample(sample, where):
    assert isinstance(sample, dict) and {'inputs', 'data_samples'} <= set(
        sample), f'{where}: the pipeline gave {type(sample).__name__} ' \
        f'{sorted(sample) if isinstance(sample, dict) else ""}'


def _first_samples(loader_cfg, where):
    """Build each leaf dataset of a dataloader config, run its pipeline on
    its first sample; returns the samples."""
    from mmseg.registry import DATASETS
    samples = []
    for i, ds_cfg in enumerate(leaf_datasets(loader_cfg.dataset)):
        dataset = DATASETS.build(copy.deepcopy(ds_cfg))
        assert len(dataset) > 0, f'{where}[{i}]: empty'
        sample = dataset[0]
        _check_sample(sample, f'{where}[{i}]')
        samples.append(sample)
    return samples


def _check_cyclic_hook(hook_cfg, dataset_cfg, where):
    """Predict / train / post pipelines of a CyclicPseudoMaskHook config."""
    from mmseg.registry import DATASETS
    relabelled = [
        d for d in leaf_datasets(dataset_cfg)
        if d.get('supervision') in hook_cfg.supervisions
    ]
    assert relabelled, f'{where}: no training dataset of supervision ' \
        f'{hook_cfg.supervisions} to relabel'
    for ds_cfg in relabelled:
        pred = DATASETS.build(
            dict(copy.deepcopy(ds_cfg), pipeline=hook_cfg.predict_pipeline,
                 indices=None))
        sample = pred[0]
        if hook_cfg.get('tta'):  # one entry per view
            assert isinstance(sample['inputs'], list) and len(
                sample['inputs']) > 1, f'{where}: TTA gave one view'
        else:
            _check_sample(sample, f'{where}.predict_pipeline')
        data_samples = sample['data_samples']
        first = data_samples[0] if isinstance(data_samples,
                                              list) else data_samples
        assert 'gt_img_labels' in first, \
            f'{where}.predict_pipeline: no image labels'
        if hook_cfg.get('train_pipeline'):
            # after a round: the round's masks (here the ground truth)
            after = copy.deepcopy(ds_cfg)
            after.pop('with_boxes', None)
            after.update(
                supervision='pseudo_mask',
                pipeline=hook_cfg.train_pipeline,
                data_prefix=dict(after.get('data_prefix', {}),
                                 pseudo_path='SegmentationClassAug'))
            _check_sample(DATASETS.build(after)[0],
                          f'{where}.train_pipeline')
    if hook_cfg.get('post_pipeline'):
        info = pred.get_data_info(0)
        img = mmcv.imread(info['img_path'])
        classes = np.array([0, 1])
        probs = np.random.default_rng(0).uniform(
            0.1, 1, (2, ) + img.shape[:2]).astype(np.float32)
        out = Compose(hook_cfg.post_pipeline)(
            dict(img=img, img_path=info['img_path'],
                 seg_probs=probs / probs.sum(0), seg_probs_classes=classes,
                 ori_shape=img.shape[:2]))
        assert out is not None and (
            'gt_seg_map' in out or out['seg_probs'].shape[1:] == img.shape[:2])


@pytest.mark.parametrize(
    'config', CONFIGS, ids=[c[len('configs/'):-len('.py')] for c in CONFIGS])
def test_config_builds(config, voc_root, cityscapes_root, tmp_path):
    from mmseg.registry import HOOKS, METRICS, MODELS, PARAM_SCHEDULERS
    original = Config.fromfile(config, format_python_code=False)
    schedulers = copy.deepcopy(original.get('param_scheduler') or [])
    coco = 'COCO' in original.train_dataloader.dataset.type
    if coco:  # the generated COCO folder is test_coco_weak.py's fixture
        cfg = original
        cfg.model.pretrained = None
    else:
        cfg = tiny_config(original, voc_root, str(tmp_path), size=SIZE,
                          cityscapes_root=cityscapes_root, own_test=True,
                          serialize_data=False)

    # ------------------------------------------------------------ model
    model = _meta_model(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    for sched in schedulers:
        sched = dict(sched, optimizer=optim_wrapper)
        if not sched.get('by_epoch', True):
            sched.setdefault('end', cfg.train_cfg.max_iters)
        PARAM_SCHEDULERS.build(sched)
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(copy.deepcopy(hook))
    if coco:
        # the datasets: test_coco_weak.py builds and trains on them
        with torch.no_grad():
            out = model(torch.zeros(1, 3, SIZE, SIZE, device='meta'),
                        mode='tensor')
        assert out.dim() == 4 and out.shape[0] == 1
        return

    # ------------------------------------------------------------ data
    train = _first_samples(cfg.train_dataloader, 'train_dataloader')
    val = _first_samples(cfg.val_dataloader, 'val_dataloader')
    if cfg.test_dataloader.dataset != cfg.val_dataloader.dataset:
        _first_samples(cfg.test_dataloader, 'test_dataloader')
    assert train and val
    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(key)
        for metric in (evaluator if isinstance(evaluator, list) else
                       [evaluator]):
            if metric is not None:
                METRICS.build(copy.deepcopy(metric))
    if cfg.get('tta_pipeline'):
        from mmseg.registry import DATASETS
        tta = copy.deepcopy(cfg.tta_pipeline)
        shrink_scales(tta, SIZE)
        ds = DATASETS.build(
            dict(copy.deepcopy(leaf_datasets(cfg.val_dataloader.dataset)[0]),
                 pipeline=tta))
        assert len(ds[0]['inputs']) > 1, 'tta_pipeline gave one view'
    preprocessor = MODELS.build(cfg.model.data_preprocessor) \
        if 'data_preprocessor' in cfg.model else None
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader))
    batch = next(iter(loader))
    if preprocessor is not None:
        batch = preprocessor(batch, True)
    assert batch['inputs'] is not None
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CyclicPseudoMaskHook':
            _check_cyclic_hook(hook, cfg.train_dataloader.dataset,
                               'CyclicPseudoMaskHook')

    # -------------------------------------- one image through the model
    data = pseudo_collate(val[:1])
    data = preprocessor(data, False) if preprocessor is not None else data
    with torch.no_grad():
        out = model(data['inputs'].to('meta'), data['data_samples'],
                    mode='tensor')
    out = out[0] if isinstance(out, (list, tuple)) else out
    assert out.dim() == 4 and out.shape[0] == 1, tuple(out.shape)
