"""Shared fixtures: a tiny generated VOC-format dataset."""
import os.path as osp

import pytest
import torch

torch.set_num_threads(2)

SYNTH_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat',
                 'bottle')


@pytest.fixture(scope='session')
def voc_root(tmp_path_factory) -> str:
    """A 16-image synthetic VOC2012 folder (12 trainaug, 4 of them train; 4
    val) plus the split ``splits/seed0/aug_minus_train.txt``."""
    from mmseg_weak.datasets.splits import write_splits
    from mmseg_weak.datasets.synthetic_voc import generate_synthetic_voc
    out = tmp_path_factory.mktemp('synthvoc')
    info = generate_synthetic_voc(
        str(out), num_aug=12, num_train=4, num_val=4, seed=3)
    root = info['data_root']
    seg = osp.join(root, 'ImageSets', 'Segmentation')
    write_splits(
        osp.join(seg, 'splits', 'seed0'),
        osp.join(seg, 'aug.txt'),
        labeled_files=[osp.join(seg, 'train.txt')])
    return root


@pytest.fixture
def synth_metainfo() -> dict:
    return dict(classes=SYNTH_CLASSES)
