"""WeakCOCODataset and the COCO 2014 pseudo-mask config, on a tiny COCO
folder converted by tools/dataset_converters/coco2014_to_voc.py."""
import glob
import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_weak.datasets import (COCO2014_UNUSED_IDS, AnnotationError,
                                 WeakCOCODataset, coco2014_classes)
from mmseg_weak.datasets.transforms import (LoadImageLabels,
                                            LoadVerifiedAnnotations)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'coco2014_to_voc.py')
CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                  'coco2014_pseudo.py')
CATEGORIES = [dict(id=1, name='person'), dict(id=18, name='dog'),
              dict(id=90, name='toothbrush')]


def _run_converter(argv):
    # one module object per session: worker processes unpickle its
    # functions by name, so replacing it would break other tests' pools
    module = sys.modules.get('coco2014_to_voc')
    if module is None:
        spec = importlib.util.spec_from_file_location('coco2014_to_voc',
                                                      TOOL)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    module.main(argv)


def _split(root, split, shapes, anns):
    """Images of ``shapes`` (random JPEGs) and their annotations."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, f'{split}2014'), exist_ok=True)
    images = []
    for i, (h, w) in enumerate(shapes, 1):
        name = f'COCO_{split}2014_{i:012d}.jpg'
        Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(
            osp.join(root, f'{split}2014', name))
        images.append(dict(id=i, file_name=name, height=h, width=w))
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    with open(osp.join(root, 'annotations', f'instances_{split}2014.json'),
              'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=CATEGORIES), f)


def _box(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('coco2014'))
    # train: image 1 person on dog, image 2 toothbrush, image 3 unannotated
    _split(root, 'train', [(24, 32), (20, 30), (16, 16)], [
        dict(id=1, image_id=1, category_id=1, iscrowd=0, area=48,
             segmentation=_box(4, 4, 12, 10)),
        dict(id=2, image_id=1, category_id=18, iscrowd=0, area=320,
             segmentation=_box(0, 0, 20, 16)),
        dict(id=3, image_id=2, category_id=90, iscrowd=0, area=100,
             segmentation=_box(10, 5, 20, 15)),
    ])
    _split(root, 'val', [(24, 32)], [
        dict(id=4, image_id=1, category_id=18, iscrowd=0, area=96,
             segmentation=_box(2, 2, 14, 10)),
    ])
    _run_converter([root, '--nproc', '1'])
    # pseudo-masks: "dog" on the left half, ignore on the last row
    pseudo = osp.join(root, 'voc_format', 'pseudo_masks')
    os.makedirs(pseudo)
    for stem, (h, w) in (('COCO_train2014_000000000001', (24, 32)),
                         ('COCO_train2014_000000000002', (20, 30))):
        mask = np.zeros((h, w), np.uint8)
        mask[:, :w // 2] = 18
        mask[-1] = 255
        Image.fromarray(mask).save(osp.join(pseudo, stem + '.png'))
    return root


def test_metainfo_91_classes():
    classes = coco2014_classes()
    assert len(classes) == 91 and classes[0] == 'background'
    assert classes[1] == 'person' and classes[18] == 'dog'
    assert classes[13] == 'stop sign' and classes[90] == 'toothbrush'
    assert [i for i, c in enumerate(classes) if c.startswith('unused')] == \
        list(COCO2014_UNUSED_IDS)
    assert WeakCOCODataset.METAINFO['classes'] == classes
    assert len(WeakCOCODataset.METAINFO['palette']) == 91


def test_full_supervision_loads_converted_masks(coco_root):
    ds = WeakCOCODataset(
        data_root=coco_root, ann_file='voc_format/val.txt',
        data_prefix=dict(img_path='val2014',
                         seg_map_path='voc_format/class_labels'))
    assert len(ds) == 1 and ds.metainfo['classes'][18] == 'dog'
    info = ds.get_data_info(0)
    assert info['img_path'].endswith(
        osp.join('val2014', 'COCO_val2014_000000000001.jpg'))
    results = LoadVerifiedAnnotations(num_classes=91)(
        dict(info, ori_shape=(24, 32)))
    expected = np.zeros((24, 32), np.uint8)
    expected[2:10, 2:14] = 18
    np.testing.assert_array_equal(results['gt_seg_map'], expected)


def test_image_labels_come_from_the_ground_truth_mask(coco_root):
    ds = WeakCOCODataset(data_root=coco_root,
                         ann_file='voc_format/train.txt',
                         supervision='image_label')
    assert len(ds) == 2  # the unannotated image is not listed
    load = LoadImageLabels(num_classes=91, source='gt_mask')
    labels = [np.flatnonzero(load(ds.get_data_info(i))['gt_img_labels'])
              for i in range(2)]
    assert labels[0].tolist() == [0, 1, 18]
    assert labels[1].tolist() == [0, 90]
    assert 'seg_map_path' not in ds.get_data_info(0)


def test_pseudo_mask_config(coco_root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.num_classes == 91 and cfg.crop_size == (512, 512)
    assert cfg.train_dataloader.batch_size == 2
    train = cfg.train_dataloader.dataset
    train.data_root = coco_root
    ds = DATASETS.build(train)
    assert isinstance(ds, WeakCOCODataset) and len(ds) == 2
    info = ds.get_data_info(0)
    assert info['supervision'] == 'pseudo_mask'
    assert info['seg_map_path'].endswith(
        osp.join('voc_format', 'pseudo_masks',
                 'COCO_train2014_000000000001.png'))
    assert info['gt_seg_map_path'].endswith(
        osp.join('voc_format', 'class_labels',
                 'COCO_train2014_000000000001.png'))
    sample = ds[0]['data_samples']
    assert sample.metainfo['supervision'] == 'pseudo_mask'
    values = set(sample.gt_sem_seg.data.unique().tolist())
    assert values <= {0, 18, 255} and 18 in values
    assert max(sample.gt_sem_seg.shape) <= 512

    val = cfg.val_dataloader.dataset
    val.data_root = coco_root
    sample = DATASETS.build(val)[0]['data_samples']
    assert sample.metainfo['supervision'] == 'full'
    assert set(sample.gt_sem_seg.data.unique().tolist()) == {0, 18}


def test_errors(coco_root):
    with pytest.raises(ValueError, match='no XML annotations'):
        WeakCOCODataset(data_root=coco_root, ann_file='voc_format/train.txt',
                        supervision='image_label', image_label_source='xml')
    with pytest.raises(ValueError, match='no boxes'):
        WeakCOCODataset(data_root=coco_root, ann_file='voc_format/train.txt',
                        with_boxes=True)
    with pytest.raises(AnnotationError, match='missing_pseudo.*not found'):
        WeakCOCODataset(
            data_root=coco_root, ann_file='voc_format/train.txt',
            supervision='pseudo_mask',
            data_prefix=dict(img_path='train2014',
                             pseudo_path='missing_pseudo'))
    with pytest.raises(AnnotationError, match='image listed in .* not found'):
        WeakCOCODataset(data_root=coco_root, ann_file='voc_format/val.txt')


@pytest.mark.parametrize('config', [
    c for c in sorted(
        glob.glob(osp.join(ROOT, 'configs', '**', '*coco2014*.py'),
                  recursive=True)) if '_base_' not in c
])
def test_coco_configs_train_and_evaluate(config, coco_root, tmp_path):
    """Every COCO config trains 2 iterations on the generated COCO folder
    (pseudo-masks of the fixture) and evaluates."""
    from config_utils import tiny_config
    from mmengine.runner import Runner
    cfg = tiny_config(config, coco_root, str(tmp_path), size=32)
    cfg.train_dataloader.dataset.data_prefix.pseudo_path = \
        'voc_format/pseudo_masks'
    cfg.train_dataloader.batch_size = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    assert 0 <= runner.val_loop.run()['mIoU'] <= 100
