"""A VOC-format dataset of one's own, given by its folder and class list only.

The dataset here is the generated one rewritten to two of its classes with
other ids (bird 3 -> 1, boat 4 -> 2; aeroplane, bicycle and bottle become
background and leave the XMLs; images without a bird or a boat leave the
lists). One method of each paper then trains through the real MMSeg Runner
from its unmodified config, given only ``data_root`` and ``classes`` through
``set_dataset`` (what ``tools/train.py --data-root --classes`` runs) after
the test-only shrinking of ``tiny_config`` (tests/config_utils.py);
``tools/train.py`` and ``tools/test.py`` themselves run once in a
subprocess.
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from config_utils import tiny_config
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from mmseg_weak.datasets import AnnotationError, WeakVOCDataset
from mmseg_weak.datasets.splits import write_splits
from mmseg_weak.testing import generate_synthetic_voc
from mmseg_weak.utils import set_dataset
from mmseg_weak.utils.label_png import voc_palette, write_label_png

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ('background', 'bird', 'boat')
#: generated (VOC) id -> id of the own dataset; other classes -> background
OWN_ID = {3: 1, 4: 2}
SEG = 'ImageSets/Segmentation'

#: one method per paper (+ the baseline) on the generated-data configs
CONFIGS = dict(
    self_correction='configs/self_correction/'
    'nosc_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py',
    single_stage='configs/single_stage/'
    'sswss_deeplabv3plus-sg_r18-d8_2xb4-2k_synthvoc-96x96.py',
    pmm='configs/pmm/pmm_pspnet_r18-d8_2xb4-2k_synthvoc-pseudo-96x96.py',
    cac='configs/cac/cac_deeplabv3plus_r18-d8_2xb4-1k_synthvoc-1-8-96x96.py')
BASELINE = 'configs/baselines/deeplabv3plus_r18-d8_2xb4-1k_synthvoc-96x96.py'


def _rewrite_xml(path: str) -> int:
    """Drop the objects of other classes; return how many are kept."""
    tree = ET.parse(path)
    root = tree.getroot()
    kept = 0
    for obj in root.findall('object'):
        if obj.find('name').text in CLASSES[1:]:
            kept += 1
        else:
            root.remove(obj)
    tree.write(path)
    return kept


def _rewrite_mask(path: str) -> None:
    lut = np.zeros(256, np.uint8)
    lut[255] = 255
    for old, new in OWN_ID.items():
        lut[old] = new
    label = lut[np.array(Image.open(path))]
    write_label_png(path, label, voc_palette(256))


@pytest.fixture(scope='module')
def own_root(tmp_path_factory) -> str:
    """The generated dataset rewritten to ('background', 'bird', 'boat')
    with ids 0, 1, 2, its split lists and a pseudo-mask folder (the ground
    truth copied, standing in for PPMG pseudo-masks)."""
    out = str(tmp_path_factory.mktemp('own_voc'))
    info = generate_synthetic_voc(
        out, num_aug=16, num_train=6, num_val=6, seed=3)
    root = info['data_root']
    keep = {
        i for i in info['aug'] + info['val']
        if _rewrite_xml(osp.join(root, 'Annotations', i + '.xml'))
    }
    for folder in ('SegmentationClass', 'SegmentationClassAug'):
        for path in glob.glob(osp.join(root, folder, '*.png')):
            _rewrite_mask(path)
    for name in ('aug', 'train', 'val', 'trainval'):
        ids = [i for i in info[name] if i in keep]
        with open(osp.join(root, SEG, name + '.txt'), 'w') as f:
            f.write(''.join(i + '\n' for i in ids))
    seg = osp.join(root, SEG)
    write_splits(osp.join(seg, 'splits', 'seed0'), osp.join(seg, 'aug.txt'),
                 sizes=['1/8'], labeled_files=[osp.join(seg, 'train.txt')])
    shutil.copytree(
        osp.join(root, 'SegmentationClassAug'),
        osp.join(root, 'PseudoMasks', 'ppmg'))
    return root


def _lines(root: str, name: str) -> list:
    with open(osp.join(root, SEG, name + '.txt')) as f:
        return f.read().split()


def test_own_dataset_fixture(own_root):
    assert len(_lines(own_root, 'aug')) == 10
    assert len(_lines(own_root, 'train')) == 4
    assert len(_lines(own_root, 'val')) == 5
    values = set()
    for path in glob.glob(osp.join(own_root, 'SegmentationClassAug',
                                   '*.png')):
        values |= set(np.unique(np.array(Image.open(path))).tolist())
    assert values == {0, 1, 2}


def test_dataset_reads_own_ids(own_root):
    """Mask values and XML names are the ids of the classes as listed:
    nothing is remapped to VOC's ids; the data infos carry num_classes."""
    ds = WeakVOCDataset(
        data_root=own_root, ann_file=f'{SEG}/aug.txt', supervision='full',
        with_boxes=True, own_classes=True, metainfo=dict(classes=CLASSES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadVerifiedAnnotations'),
            dict(type='LoadBoxAnnotations'),
            dict(type='LoadImageLabels'),
            dict(type='RasterizeBoxMasks'),
        ])
    assert ds.label_map is None and ds.num_classes == 3
    assert ds.metainfo['palette'] == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    seen = set()
    for i in range(len(ds)):
        res = ds[i]
        assert res['num_classes'] == 3
        values = set(np.unique(res['gt_seg_map']).tolist())
        assert values <= {0, 1, 2}
        seen |= values
        labels = set(res['gt_bboxes_labels'].tolist())
        assert labels <= {1, 2} and labels
        # the image labels (XML) name exactly the classes in the mask
        assert set(np.flatnonzero(res['gt_img_labels'])) == values
        assert res['gt_box_masks'].shape[0] == 3
    assert seen == {0, 1, 2}
    # MMSeg's default (VOC ids by name) would read bird (1) as aeroplane
    # and drop it to 255: that is what own_classes avoids
    voc = WeakVOCDataset(data_root=own_root, ann_file=f'{SEG}/aug.txt',
                         metainfo=dict(classes=CLASSES))
    assert voc.label_map[1] == 255 and voc.label_map[3] == 1
    # names outside VOC are fine with own_classes, a palette is made
    ds = WeakVOCDataset(
        data_root=own_root, ann_file=f'{SEG}/aug.txt', own_classes=True,
        metainfo=dict(classes=('background', 'thing', 'stuff', 'other')))
    assert len(ds.metainfo['palette']) == 4
    with pytest.raises(ValueError, match='not a subset'):
        WeakVOCDataset(data_root=own_root, ann_file=f'{SEG}/aug.txt',
                       metainfo=dict(classes=('background', 'thing')))


def test_cityscapes_fixed_classes_refuse_own_classes(cityscapes_root):
    from mmseg_weak.datasets import WeakCityscapesDataset
    with pytest.raises(ValueError, match='own_classes=True'):
        WeakCityscapesDataset(data_root=cityscapes_root, own_classes=True)


def test_set_dataset_walks_the_config(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS['self_correction']))
    # a RepeatDataset around the val set and a list of auxiliary heads
    cfg.val_dataloader.dataset = dict(
        type='RepeatDataset', times=2, dataset=cfg.val_dataloader.dataset)
    cfg.model.auxiliary_head = [cfg.model.auxiliary_head,
                                dict(cfg.model.auxiliary_head)]
    lines = set_dataset(cfg, '/data/own', CLASSES)
    datasets = list(cfg.train_dataloader.dataset.datasets) + [
        cfg.val_dataloader.dataset.dataset, cfg.test_dataloader.dataset
    ]
    for d in datasets:
        assert d.data_root == '/data/own' and d.own_classes
        assert tuple(d.metainfo.classes) == CLASSES
        assert len(d.metainfo.palette) == 3
    assert cfg.model.decode_head.primary.num_classes == 3
    assert [h.num_classes for h in cfg.model.auxiliary_head] == [3, 3]
    # the ancillary config path became its model with 3 classes
    anc = cfg.model.ancillary.config
    assert isinstance(anc, dict) and anc.type == 'BoxConditionedEncoderDecoder'
    assert anc.decode_head.num_classes == 3
    assert cfg.num_classes == 3 and cfg.data_root == '/data/own'
    assert any('ancillary.checkpoint' in line and 'trained on these 3'
               in line for line in lines)
    assert any(line.startswith('model.decode_head.primary.num_classes')
               for line in lines)
    # data root only: classes and class counts stay
    cfg = Config.fromfile(osp.join(ROOT, BASELINE))
    set_dataset(cfg, data_root='/data/other')
    assert cfg.train_dataloader.dataset.data_root == '/data/other'
    assert cfg.model.decode_head.num_classes == 6
    assert 'own_classes' not in cfg.train_dataloader.dataset


@pytest.mark.parametrize('classes,match', [
    (('bird', 'boat'), "start with 'background'"),
    (('background', ), 'at least one class'),
    (('background', 'bird', 'bird'), 'listed twice'),
    ('background bird', 'list of names'),
])
def test_set_dataset_checks_classes(classes, match):
    cfg = Config.fromfile(osp.join(ROOT, BASELINE))
    with pytest.raises(ValueError, match=match):
        set_dataset(cfg, '/data/own', classes)


def test_set_dataset_refuses_fixed_class_datasets():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/self_correction/'
                 'nosc_deeplabv3plus_r101-d8_4xb4-30k_cityscapes-f914-'
                 '512x1024.py'))
    with pytest.raises(ValueError, match='WeakCityscapesDataset'):
        set_dataset(cfg, '/data/own', CLASSES)


def _own_config(config: str, own_root: str, work_dir: str) -> Config:
    """The unmodified config, shrunk for the test (tiny_config), then given
    only the data root and the classes."""
    cfg = tiny_config(osp.join(ROOT, config), own_root, work_dir)
    set_dataset(cfg, own_root, CLASSES)
    return cfg


@pytest.mark.parametrize('method', sorted(CONFIGS))
def test_method_trains_on_own_dataset(method, own_root, tmp_path,
                                      monkeypatch):
    monkeypatch.chdir(ROOT)  # the ancillary config path is relative
    cfg = _own_config(CONFIGS[method], own_root, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.num_classes == 3 and model.decode_head.num_classes == 3
    # every classifier layer (decode and auxiliary heads) has 3 outputs;
    # single-stage's nGWP head scores the 2 foreground classes (its
    # background channel is a constant)
    outputs = 2 if method == 'single_stage' else 3
    convs = [m for name, m in model.named_modules()
             if name.endswith('conv_seg')]
    assert convs and all(m.out_channels == outputs for m in convs)
    if method == 'self_correction':
        assert model.ancillary.num_classes == 3
    runner.train()
    assert osp.exists(osp.join(str(tmp_path), 'iter_2.pth'))
    dataset = runner.train_dataloader.dataset
    for d in getattr(dataset, 'datasets', [dataset]):
        assert d.metainfo['classes'] == CLASSES and d.label_map is None
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100
    assert runner.val_evaluator.dataset_meta['classes'] == CLASSES


def test_tools_train_and_test_with_data_root_and_classes(
        voc_root, own_root, tmp_path):
    """``tools/train.py CONFIG --data-root DIR --classes ...`` (then
    ``tools/test.py``) on a config of the generated 6-class data (shrunk and
    dumped, as the launcher tests do)."""
    cfg = tiny_config(osp.join(ROOT, BASELINE), voc_root, str(tmp_path))
    cfg.train_dataloader.batch_size = 2
    path = str(tmp_path / 'tiny.py')
    cfg.dump(path)
    wd = str(tmp_path / 'wd')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', path, '--work-dir', wd,
         '--data-root', own_root, '--classes', *CLASSES,
         '--cfg-options', 'train_cfg.max_iters=2'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f'--data-root {own_root}, --classes background bird boat' in out
    assert 'model.decode_head.num_classes (DepthwiseSeparableASPPHead): ' \
        '6 -> 3' in out
    assert osp.exists(osp.join(wd, 'iter_2.pth'))
    # the validation ran over the 3 classes
    assert re.search(r'\|\s+bird\s+\|', out) and 'mIoU' in out
    assert 'aeroplane' not in out
    dumped = Config.fromfile(osp.join(wd, 'tiny.py'))
    assert tuple(dumped.train_dataloader.dataset.metainfo.classes) == CLASSES
    # tools/test.py takes the same two options
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', path,
         osp.join(wd, 'iter_2.pth'), '--work-dir', osp.join(wd, 'test'),
         '--data-root', own_root, '--classes', *CLASSES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert re.search(r'\|\s+boat\s+\|', out)
    with open(osp.join(wd, 'test', 'metrics.json')) as f:
        assert 0 <= json.load(f)['mIoU'] <= 100


def test_explicit_num_classes_must_agree(own_root):
    ds = WeakVOCDataset(data_root=own_root, ann_file=f'{SEG}/val.txt',
                        own_classes=True, metainfo=dict(classes=CLASSES),
                        pipeline=[dict(type='LoadImageFromFile'),
                                  dict(type='LoadVerifiedAnnotations',
                                       num_classes=6)])
    img_id = ds.get_data_info(0)['img_id']
    with pytest.raises(AnnotationError,
                       match=rf'{img_id}.jpg: LoadVerifiedAnnotations\('
                       r'num_classes=6\) disagrees with the dataset, which '
                       r'has 3 classes'):
        ds[0]
