"""Shared fixtures: a tiny generated VOC-format dataset."""
import os.path as osp

import pytest
import torch

torch.set_num_threads(2)

SYNTH_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat',
                 'bottle')


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
    return dict(classes=SYNTH_CLASSES)


_TINY_SPLITS = dict(
    WeakVOCDataset=dict(
        full='ImageSets/Segmentation/train.txt',
        pseudo_mask='ImageSets/Segmentation/aug.txt',
        box='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt',
        unlabeled='ImageSets/Segmentation/splits/seed0/aug_minus_train.txt'),
    WeakCityscapesDataset=dict(
        full='train.txt', box='train.txt', unlabeled='train.txt'),
    SemiCityscapesDataset=dict(full='train.txt', unlabeled='train.txt'))


def _shrink_scales(node, size: int) -> None:
    """Make every crop / resize scale in a pipeline config tiny."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('crop_size', 'scale') and isinstance(value,
                                                            (tuple, list)):
                node[key] = (size, size)
            else:
                _shrink_scales(value, size)
    elif isinstance(node, list):
        for item in node:
            _shrink_scales(item, size)


def tiny_config(config: str, voc_root: str, work_dir: str, size: int = 48,
                iters: int = 2, val_images: int = 2,
                cityscapes_root: str = None):
    """Load ``config`` and shrink it to a few iterations on tiny crops of the
    generated dataset at ``voc_root`` (or ``cityscapes_root`` for Cityscapes
    datasets; single worker, no pretrained weights nor chained checkpoints,
    constant lr)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
        ds = loader.dataset
        for d in (ds.datasets if ds.type == 'ConcatDataset' else [ds]):
            city = 'Cityscapes' in d.type
            d.data_root = cityscapes_root if city else voc_root
            if d.get('ann_file') and not osp.exists(
                    osp.join(d.data_root, d.ann_file)):
                # real-size split lists (labeled_200.txt, ...) do not exist
                # for the tiny dataset: same supervision, its own lists
                d.ann_file = _TINY_SPLITS[d.type][d.get('supervision',
                                                        'full')]
            pseudo = d.get('data_prefix', {}).get('pseudo_path')
            if pseudo and not osp.isdir(osp.join(d.data_root, pseudo)):
                # pseudo-masks are made by a tool from CAMs: the generated
                # ground truth stands in for them here
                d.data_prefix.pseudo_path = 'SegmentationClassAug'
    cfg.val_dataloader.dataset.indices = val_images
    cfg.test_dataloader = cfg.val_dataloader
    _shrink_scales(cfg.train_dataloader, size)
    _shrink_scales(cfg.val_dataloader, size)
    if 'size' in cfg.model.get('data_preprocessor', {}):
        cfg.model.data_preprocessor.size = (size, size)
    cfg.model.pretrained = None
    cfg.load_from = None  # stage-chained configs load their predecessor
    if 'ancillary' in cfg.model:  # untrained ancillary model (logged)
        cfg.model.ancillary.checkpoint = None
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.checkpoint.save_optimizer = False  # disk: tests only
    cfg.param_scheduler = []
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CyclicPseudoMaskHook':  # a round ends mid-run
            hook.round_iters = [max(1, iters // 2)]
            _shrink_scales(hook, size)  # predict / train pipelines
    return cfg
