"""Boxes stay aligned with the image and masks under flip / resize / crop."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets import WeakVOCDataset
from mmseg_weak.utils import boxes_to_seg_map

AUG_MINUS_TRAIN = 'ImageSets/Segmentation/splits/seed0/aug_minus_train.txt'


@pytest.fixture(scope='module')
def box_dataset(voc_root):
    init_default_scope('mmseg')
    return WeakVOCDataset(
        data_root=voc_root,
        metainfo=dict(classes=('background', 'aeroplane', 'bicycle', 'bird',
                               'boat', 'bottle')),
        ann_file=AUG_MINUS_TRAIN,
        supervision='box')


def _run(dataset, idx, geometric, seed=0, box=None):
    """Fill the boxes (or only box number ``box``) as a map, then apply
    ``geometric`` with a fixed seed; return the results."""
    np.random.seed(seed)
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadBoxAnnotations'),
        dict(type='BoxesToSegMap'),
        *geometric,
    ])
    info = dataset.get_data_info(idx)
    if box is not None:
        info['instances'] = info['instances'][box:box + 1]
    return pipeline(info)


def _agreement(results):
    """Fraction of pixels where the transformed map equals the map drawn from
    the transformed boxes."""
    redrawn = boxes_to_seg_map(results['gt_bboxes'],
                               results['gt_bboxes_labels'],
                               results['img'].shape[:2])
    assert redrawn.shape == results['gt_seg_map'].shape
    return (redrawn == results['gt_seg_map']).mean()


def _per_box(dataset, geometric, seeds=(0, )):
    """Run each box alone (so overlap order plays no part); yield results."""
    for idx in range(len(dataset)):
        for box in range(len(dataset.get_data_info(idx)['instances'])):
            for seed in seeds:
                yield _run(dataset, idx, geometric, seed, box)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_is_exact(box_dataset, direction):
    for idx in range(len(box_dataset)):
        res = _run(box_dataset, idx,
                   [dict(type='RandomFlip', prob=1.0, direction=direction)])
        assert res['flip'] and _agreement(res) == 1.0


def test_crop_is_exact_and_drops_boxes_outside(box_dataset):
    dropped = 0
    crop = [dict(type='BoxAwareRandomCrop', crop_size=(40, 40))]
    for res in _per_box(box_dataset, crop, seeds=range(3)):
        assert res['img'].shape[:2] == (40, 40)
        assert _agreement(res) == 1.0
        boxes = res['gt_bboxes']
        assert (boxes >= 0).all() and (boxes <= 40).all()
        assert (boxes[:, 2] > boxes[:, 0]).all()
        assert len(boxes) == len(res['gt_bboxes_labels'])
        dropped += len(boxes) == 0
    assert dropped > 0  # some crops cut their box away entirely


def test_resize_keeps_alignment_up_to_border_rounding(box_dataset):
    resize = [
        dict(type='RandomResize', scale=(160, 160), ratio_range=(0.5, 1.5),
             keep_ratio=True)
    ]
    for res in _per_box(box_dataset, resize, seeds=(1, 2)):
        assert _agreement(res) > 0.97


def test_full_train_pipeline_alignment(box_dataset):
    pipeline = [
        dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5),
             keep_ratio=True),
        dict(type='BoxAwareRandomCrop', crop_size=(64, 64)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RasterizeBoxMasks', num_classes=6),
    ]
    for res in _per_box(box_dataset, pipeline, seeds=(3, 4)):
        assert _agreement(res) > 0.97
        masks = res['gt_box_masks']
        assert masks.shape == (6, ) + res['img'].shape[:2]
        # background channel is exactly "not inside any box"
        assert (masks[0] == (masks[1:].max(0) == 0)).all()


def test_rasterize_takes_num_classes_from_the_dataset(box_dataset):
    from mmseg_weak.datasets import AnnotationError
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadBoxAnnotations'),
        dict(type='RasterizeBoxMasks'),
    ]
    info = box_dataset.get_data_info(0)
    assert info['num_classes'] == 6
    res = Compose(pipeline)(dict(info))
    assert res['gt_box_masks'].shape[0] == 6
    assert res['gt_box_masks_classes'].tolist() == list(range(6))
    pipeline[-1] = dict(type='RasterizeBoxMasks', num_classes=8)
    with pytest.raises(AnnotationError,
                       match=rf"{info['img_path']}: RasterizeBoxMasks\("
                       r'num_classes=8\) disagrees with the dataset'):
        Compose(pipeline)(dict(info))
    pipeline[-1] = dict(type='RasterizeBoxMasks')
    bare = {k: v for k, v in info.items() if k != 'num_classes'}
    with pytest.raises(AnnotationError, match='no class count'):
        Compose(pipeline)(bare)
