import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets import AnnotationError, WeakCityscapesDataset
from mmseg_weak.datasets.cityscapes_weak import TRAIN_ID_TO_OBJECT
from mmseg_weak.datasets.transforms import LoadBoxesFromInstanceMap


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


def test_boxes_from_instances_and_components(tmp_path):
    ids = np.full((10, 12), 7, np.uint16)  # road
    ids[1:4, 1:5] = 26000  # car #0
    ids[5:9, 2:4] = 26001  # car #1
    ids[0:6, 8] = 17  # a pole (no instance ids) ...
    ids[7:10, 10:12] = 17  # ... and a second, separate one
    ids[9, 0] = 11000  # an instance of a class without boxes (building)
    path = str(tmp_path / 'x_gtFine_instanceIds.png')
    cv2.imwrite(path, ids)
    res = LoadBoxesFromInstanceMap()(dict(instance_map_path=path))
    boxes = {tuple(b) + (int(lab), )
             for b, lab in zip(res['gt_bboxes'].tolist(),
                               res['gt_bboxes_labels'])}
    assert boxes == {(1, 1, 5, 4, 6), (2, 5, 4, 9, 6), (8, 0, 9, 6, 1),
                     (10, 7, 12, 10, 1)}
    # min_pixels drops small components
    res = LoadBoxesFromInstanceMap(min_pixels=7)(dict(instance_map_path=path))
    assert sorted(res['gt_bboxes_labels'].tolist()) == [6, 6]
    with pytest.raises(AnnotationError, match='has no object box'):
        cv2.imwrite(path, np.full((4, 4), 7, np.uint16))
        LoadBoxesFromInstanceMap()(dict(instance_map_path=path,
                                        supervision='box'))


def test_dataset_ids_label_map_and_boxes(cityscapes_root):
    ds = WeakCityscapesDataset(data_root=cityscapes_root, supervision='box',
                               with_boxes=True)
    assert len(ds) == 6
    listed = WeakCityscapesDataset(data_root=cityscapes_root,
                                   ann_file='train.txt', supervision='box')
    assert [listed.get_data_info(i)['img_id'] for i in range(6)] == \
        [ds.get_data_info(i)['img_id'] for i in range(6)]
    info = ds.get_data_info(0)
    assert 'seg_map_path' not in info
    assert info['instance_map_path'].endswith('_gtFine_instanceIds.png')
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadBoxesFromInstanceMap'),
        dict(type='PackWeakSegInputs')
    ])(info)
    assert len(res['data_samples'].gt_instances) > 0
    # masks: trainIds mapped to the 12 object classes
    full = WeakCityscapesDataset(data_root=cityscapes_root)
    info = full.get_data_info(0)
    raw = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=12)
    ])(info)
    expected = np.vectorize(lambda v: TRAIN_ID_TO_OBJECT.get(int(v), v))(raw)
    np.testing.assert_array_equal(res['gt_seg_map'], expected)
    assert set(np.unique(res['gt_seg_map'])) <= set(range(12))
    assert len(full.metainfo['palette']) == 12


def test_boxes_must_load_before_geometric_transforms(cityscapes_root):
    ds = WeakCityscapesDataset(data_root=cityscapes_root, supervision='box',
                               with_boxes=True)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='LoadBoxesFromInstanceMap'),
    ])
    with pytest.raises(AnnotationError, match='must come before'):
        pipeline(ds.get_data_info(0))


def test_missing_instance_map(cityscapes_root, tmp_path):
    import shutil
    root = str(tmp_path / 'cs')
    shutil.copytree(cityscapes_root, root)
    ds = WeakCityscapesDataset(data_root=root, supervision='box',
                               with_boxes=True)
    path = ds.get_data_info(0)['instance_map_path']
    import os
    os.remove(path)
    with pytest.raises(AnnotationError, match='instance-id map .* not found'):
        WeakCityscapesDataset(data_root=root, supervision='box',
                              with_boxes=True)
    assert not osp.exists(path)


def test_semi_dataset_keeps_the_19_classes(cityscapes_root):
    from mmseg.datasets import CityscapesDataset

    from mmseg_weak.datasets import SemiCityscapesDataset
    full = SemiCityscapesDataset(data_root=cityscapes_root)
    assert full.metainfo['classes'] == CityscapesDataset.METAINFO['classes']
    assert len(full.metainfo['palette']) == 19
    info = full.get_data_info(0)
    assert info['label_map'] is None
    raw = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert len(set(np.unique(raw)) - {255}) > 2  # a real test of "as is"
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=19)
    ])(info)
    np.testing.assert_array_equal(res['gt_seg_map'], raw)
    # unlabeled images carry no mask to train on (the GT stays for analysis)
    unl = SemiCityscapesDataset(data_root=cityscapes_root,
                                supervision='unlabeled')
    info = unl.get_data_info(0)
    assert 'seg_map_path' not in info and info['supervision'] == 'unlabeled'
    # a class subset remaps as in MMSeg
    sub = SemiCityscapesDataset(
        data_root=cityscapes_root, metainfo=dict(classes=('road', 'car')))
    assert sub.label_map[0] == 0 and sub.label_map[13] == 1
    assert sub.label_map[1] == 255
    for bad in (dict(supervision='box', with_boxes=True),
                dict(with_boxes=True)):
        with pytest.raises(ValueError, match='has no boxes'):
            SemiCityscapesDataset(data_root=cityscapes_root, **bad)
