"""Mixed labeled / weak batches through mmdet's MultiSourceSampler."""
import itertools

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATA_SAMPLERS, DATASETS

import mmseg_weak  # noqa: F401

CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle')


def _concat(voc_root):
    common = dict(type='WeakVOCDataset', data_root=voc_root,
                  metainfo=dict(classes=CLASSES))
    return DATASETS.build(
        dict(type='ConcatDataset', datasets=[
            dict(common, ann_file='ImageSets/Segmentation/train.txt',
                 supervision='full'),
            dict(common, ann_file='ImageSets/Segmentation/splits/seed0/'
                 'aug_minus_train.txt', supervision='box'),
        ]))


@pytest.mark.parametrize('batch_size,ratio,expected', [(4, [1, 3], 1),
                                                       (6, [1, 1], 3)])
def test_sampler_keeps_the_ratio_in_every_batch(voc_root, batch_size, ratio,
                                                expected):
    init_default_scope('mmseg')
    dataset = _concat(voc_root)
    assert dataset.cumulative_sizes == [4, 12]
    sampler = DATA_SAMPLERS.build(
        dict(type='mmdet.MultiSourceSampler', batch_size=batch_size,
             source_ratio=ratio),
        default_args=dict(dataset=dataset, seed=0))
    indices = list(itertools.islice(iter(sampler), batch_size * 20))
    for b in range(20):
        batch = indices[b * batch_size:(b + 1) * batch_size]
        assert sum(i < 4 for i in batch) == expected
    # every labeled image is drawn
    assert set(i for i in indices if i < 4) == {0, 1, 2, 3}


def test_dataloader_batches_carry_their_supervision(voc_root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        'configs/baselines/'
        'boxfill_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py')
    for ds in cfg.train_dataloader.dataset.datasets:
        ds.data_root = voc_root
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    for batch, _ in zip(loader, range(3)):
        samples = batch['data_samples']
        assert [s.supervision
                for s in samples] == ['full', 'box', 'box', 'box']
        for s in samples:
            assert tuple(s.gt_sem_seg.shape) == tuple(batch['inputs'][
                samples.index(s)].shape[1:])
            assert ('gt_instances' in s) == (s.supervision == 'box')
