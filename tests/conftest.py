"""Shared fixtures: tiny generated VOC-format and Cityscapes datasets.

Config helpers (``tiny_config``, ``small_backbone``) are in
``config_utils.py``: ``from config_utils import tiny_config``."""
import os.path as osp

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(autouse=True, scope='session')
def _config_index_once():
    """Config.fromfile reads mmseg's metafiles once per session, not once
    per ``mmseg::`` base (see ``config_utils.cache_external_config_index``).
    """
    from config_utils import cache_external_config_index
    cache_external_config_index()


@pytest.fixture(autouse=True)
def _mmseg_default_scope():
    """Registries resolve in MMSeg's scope in every test, whatever scope an
    earlier test's Runner left as the current default."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')


@pytest.fixture(autouse=True)
def _forget_runner_visualizers():
    """A Runner looks its visualizer up by experiment name, a timestamp to the
    second: two runners built within one second would share the first one's
    (by then deleted, see ``tmp_path_retention_policy``) ``vis_data`` folder.
    Each test starts without the visualizers of earlier tests."""
    yield
    from mmengine.visualization import Visualizer

    def forget(cls):
        cls._instance_dict.clear()
        for sub in cls.__subclasses__():
            forget(sub)

    forget(Visualizer)


@pytest.fixture(scope='session')
def voc_root(tmp_path_factory) -> str:
    """A 16-image synthetic VOC2012 folder (12 trainaug, 4 of them train; 4
    val) plus the split ``splits/seed0/aug_minus_train.txt``."""
    from mmseg_weak.datasets.splits import write_splits
    from mmseg_weak.testing import generate_synthetic_voc
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


@pytest.fixture(scope='session')
def cityscapes_root(tmp_path_factory) -> str:
    """A tiny generated Cityscapes folder (6 train, 2 val images)."""
    from mmseg_weak.testing import generate_synthetic_cityscapes
    out = str(tmp_path_factory.mktemp('synthcityscapes'))
    generate_synthetic_cityscapes(out, num_train=6, num_val=2, seed=5)
    return out


@pytest.fixture
def synth_metainfo() -> dict:
    return dict(classes=('background', 'aeroplane', 'bicycle', 'bird',
                         'boat', 'bottle'))


@pytest.fixture
def two_torch_threads():
    """Two torch threads (so that batches use worker threads), restored
    after (other test modules set their own count at import)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)
