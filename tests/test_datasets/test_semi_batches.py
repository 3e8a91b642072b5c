"""Mixed labeled / unlabeled batches of the semi-supervised synthvoc base
config through the DataLoader and mmdet's MultiBranchDataPreprocessor."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import MODELS

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets.splits import write_splits

CONFIG = 'configs/_base_/datasets/synthetic_voc_semi.py'


@pytest.fixture(scope='module')
def semi_loader(voc_root):
    init_default_scope('mmseg')
    seg = osp.join(voc_root, 'ImageSets', 'Segmentation')
    # the config's split names (make_splits.py --sizes 1/8), same ids for
    # the same seed whoever writes them
    write_splits(osp.join(seg, 'splits', 'seed0'), osp.join(seg, 'aug.txt'),
                 sizes=['1/8'])
    cfg = Config.fromfile(CONFIG)
    loader_cfg = cfg.train_dataloader
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader_cfg.batch_size = loader_cfg.sampler.batch_size = 4  # 2 + 2
    for ds in loader_cfg.dataset.datasets:
        ds.data_root = voc_root
    return Runner.build_dataloader(loader_cfg, seed=0)


def _preprocessor():
    return MODELS.build(
        dict(
            type='mmdet.MultiBranchDataPreprocessor',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True,
                pad_val=0,
                seg_pad_val=255,
                size=(96, 96))))


def _source_origin(sample, width=96):
    """Top-left pixel of the overlap in the resized image: window origin +
    the box un-flipped."""
    x1, y1, x2, _ = sample.overlap_box
    if sample.flip:
        x1 = width - x2
    return sample.crop_window[0] + x1, sample.crop_window[1] + y1


def test_batches_split_into_sup_and_two_views(semi_loader, voc_root):
    labeled = open(osp.join(voc_root, 'ImageSets', 'Segmentation', 'splits',
                            'seed0', 'labeled_1-8.txt')).read().split()
    assert len(labeled) == 2  # 1/8 of 12 trainaug images
    preprocessor = _preprocessor()
    for data, _ in zip(semi_loader, range(3)):
        # collated: one list per branch, None where a sample lacks it
        assert set(data['inputs']) == {'sup', 'view1', 'view2'}
        out = preprocessor(data, training=True)
        inputs, samples = out['inputs'], out['data_samples']
        assert inputs['sup'].shape == (2, 3, 96, 96)
        assert inputs['view1'].shape == inputs['view2'].shape == (2, 3, 96,
                                                                  96)
        for s in samples['sup']:
            assert s.supervision == 'full'
            assert osp.basename(s.img_path)[:-4] in labeled
            assert s.gt_sem_seg.data.shape == (1, 96, 96)
            assert (s.gt_sem_seg.data != 255).any()
            assert 'overlap_box' not in s
        for s1, s2 in zip(samples['view1'], samples['view2']):
            # the i-th view1 and view2 are the two crops of one image
            assert s1.img_path == s2.img_path
            assert osp.basename(s1.img_path)[:-4] not in labeled
            for s in (s1, s2):
                assert s.supervision == 'unlabeled'
                assert (s.gt_sem_seg.data == 255).all()
                assert isinstance(s.flip, bool)
                assert all(v % 8 == 0 for v in s.overlap_box)
                assert 0.1 <= s.crop_pair_iou <= 1.0
            x1, y1, x2, y2 = s1.overlap_box
            u1, v1, u2, v2 = s2.overlap_box
            assert (x2 - x1, y2 - y1) == (u2 - u1, v2 - v1) and x2 > x1
            # both boxes start at the same pixel of the resized image
            assert _source_origin(s1) == _source_origin(s2)
        # normalised RGB images
        assert inputs['view1'].dtype == torch.float32
        assert abs(float(inputs['view1'].mean())) < 3


def test_view_pixels_agree_on_the_overlap(semi_loader):
    """With the per-view photometric transforms switched off, the two
    packed views hold identical pixels on their (un-flipped) overlaps."""
    dataset = semi_loader.dataset.datasets[1]
    branches = dataset.pipeline.transforms[-1].branch_pipelines
    saved = {}
    for name, pipe in branches.items():
        saved[name] = pipe.transforms
        pipe.transforms = [pipe.transforms[0], pipe.transforms[-1]]
    try:
        for idx in range(4):
            np.random.seed(idx)
            item = dataset[idx]
            crops = []
            for view in ('view1', 'view2'):
                img = item['inputs'][view]
                sample = item['data_samples'][view]
                x1, y1, x2, y2 = sample.overlap_box
                crop = img[:, y1:y2, x1:x2]
                if sample.flip:
                    crop = crop.flip(-1)
                crops.append(crop)
            assert crops[0].numel() > 0
            assert torch.equal(crops[0], crops[1])
    finally:
        for name, pipe in branches.items():
            pipe.transforms = saved[name]


@pytest.mark.parametrize('config,city', [
    ('configs/_base_/datasets/voc12aug_semi.py', False),
    ('configs/_base_/datasets/cityscapes_semi.py', True),
])
def test_real_data_semi_configs_build(config, city, semi_loader, voc_root,
                                      cityscapes_root):
    """VOC / Cityscapes semi configs on the tiny generated folders (crops
    shrunk to 32): a labeled item has only 'sup', an unlabeled one only the
    two views, with overlap metadata on the stride-8 grid (``semi_loader``
    wrote the VOC 1/8 lists)."""
    from mmseg.registry import DATASETS
    root = cityscapes_root if city else voc_root
    if city:
        write_splits(osp.join(root, 'splits', 'seed0'),
                     osp.join(root, 'train.txt'), sizes=['1/8'])
    cfg = Config.fromfile(config)
    assert cfg.train_dataloader.batch_size == 16
    for ds_cfg, supervision in zip(cfg.train_dataloader.dataset.datasets,
                                   ('full', 'unlabeled')):
        assert ds_cfg.supervision == supervision
        ds_cfg.data_root = root
        for t in ds_cfg.pipeline:
            if 'crop_size' in t:
                t.crop_size = (32, 32)
            if 'scale' in t:
                t.scale = (64, 48)
        item = DATASETS.build(ds_cfg)[0]
        present = {k for k, v in item['inputs'].items() if v is not None}
        if supervision == 'full':
            assert present == {'sup'}
        else:
            assert present == {'view1', 'view2'}
            for view in ('view1', 'view2'):
                sample = item['data_samples'][view]
                assert item['inputs'][view].shape == (3, 32, 32)
                assert sample.supervision == 'unlabeled'
                assert all(v % 8 == 0 for v in sample.overlap_box)
