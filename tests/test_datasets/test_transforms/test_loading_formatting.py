import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from PIL import Image

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets import AnnotationError, WeakVOCDataset
from mmseg_weak.datasets.transforms import (LoadImageLabels,
                                            LoadVerifiedAnnotations,
                                            PackWeakSegInputs)

CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmseg')


def _info(voc_root, **kwargs):
    kwargs.setdefault('ann_file', 'ImageSets/Segmentation/aug.txt')
    ds = WeakVOCDataset(data_root=voc_root, metainfo=dict(classes=CLASSES),
                        **kwargs)
    return ds.get_data_info(0)


def test_image_labels_from_xml_match_mask(voc_root):
    info = _info(voc_root, supervision='full', with_boxes=True)
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=6),
        dict(type='LoadImageLabels', num_classes=6, source='seg_map'),
    ])(dict(info))
    from_mask = res['gt_img_labels']
    res = LoadImageLabels(num_classes=6)(dict(info))
    np.testing.assert_array_equal(res['gt_img_labels'], from_mask)
    assert res['gt_img_labels'].dtype == np.float32
    assert res['gt_img_labels'].sum() >= 2


def test_image_labels_from_gt_mask_do_not_expose_the_mask(voc_root):
    info = _info(voc_root, supervision='image_label',
                 image_label_source='gt_mask')
    res = LoadImageLabels(num_classes=6, source='gt_mask')(dict(info))
    assert 'gt_seg_map' not in res
    seg = np.array(Image.open(info['gt_seg_map_path']))
    expected = np.zeros(6, np.float32)
    expected[np.unique(seg)] = 1
    np.testing.assert_array_equal(res['gt_img_labels'], expected)
    with pytest.raises(AnnotationError, match=r'outside \[0, 3\)'):
        LoadImageLabels(num_classes=3, source='gt_mask')(dict(info))


def test_verified_annotations_errors(voc_root, tmp_path):
    info = _info(voc_root, supervision='box',
                 ann_file='ImageSets/Segmentation/splits/seed0/'
                 'aug_minus_train.txt')
    pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations', num_classes=6),
    ])
    with pytest.raises(AnnotationError, match="'box' provides no mask"):
        pipeline(dict(info))
    # a pseudo-mask of the wrong size
    bad = tmp_path / 'small.png'
    Image.fromarray(np.zeros((5, 7), np.uint8)).save(bad)
    with pytest.raises(AnnotationError, match=r'small.png: mask size 7x5'):
        pipeline(dict(info, seg_map_path=str(bad)))
    # label values beyond the classes
    img = np.array(Image.open(info['img_path']))
    # (VOC ids 6..20 map to 255 through mmseg's label_map of this 6-class
    # subset, so use an id beyond VOC's 21 classes)
    values = np.full(img.shape[:2], 30, np.uint8)
    Image.fromarray(values).save(bad)
    with pytest.raises(AnnotationError, match=r'values \[30\]'):
        pipeline(dict(info, seg_map_path=str(bad)))
    assert 'num_classes=6' in repr(LoadVerifiedAnnotations(num_classes=6))


def test_pack_weak_sample(voc_root):
    info = _info(voc_root, supervision='box',
                 ann_file='ImageSets/Segmentation/splits/seed0/'
                 'aug_minus_train.txt')
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadBoxAnnotations'),
        dict(type='LoadImageLabels', num_classes=6),
        dict(type='RasterizeBoxMasks', num_classes=6),
        dict(type='PackWeakSegInputs'),
    ])(dict(info))
    sample = res['data_samples']
    h, w = res['inputs'].shape[1:]
    assert sample.supervision == 'box' and sample.img_id == info['img_id']
    # no mask for a box-only image: an all-ignore placeholder
    assert sample.gt_sem_seg.data.shape == (1, h, w)
    assert (sample.gt_sem_seg.data == 255).all()
    assert sample.gt_instances.bboxes.shape == (len(info['instances']), 4)
    assert sample.gt_instances.labels.dtype == torch.int64
    assert torch.equal(sample.gt_img_labels.nonzero().flatten(),
                       torch.tensor(info['img_labels']))
    assert sample.gt_box_masks.data.shape == (6, h, w)


def test_pack_keeps_a_loaded_mask_and_defaults_to_full():
    img = np.zeros((4, 5, 3), np.uint8)
    seg = np.arange(20, dtype=np.uint8).reshape(4, 5) % 3
    sample = PackWeakSegInputs()(dict(img=img, gt_seg_map=seg))['data_samples']
    assert sample.supervision == 'full'
    assert torch.equal(sample.gt_sem_seg.data[0], torch.from_numpy(seg).long())
    assert 'gt_instances' not in sample


def test_num_classes_from_the_dataset(voc_root):
    """num_classes=None takes the data info's (the dataset's class count);
    an explicit one must agree with it."""
    info = _info(voc_root, supervision='full', with_boxes=True)
    assert info['num_classes'] == 6
    res = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations'),
        dict(type='LoadImageLabels', source='seg_map'),
    ])(dict(info))
    assert res['gt_img_labels'].shape == (6, )
    assert LoadImageLabels()(dict(info))['gt_img_labels'].shape == (6, )
    assert 'num_classes=None' in repr(LoadImageLabels())
    # the value check uses the dataset's count
    loaded = Compose([dict(type='LoadImageFromFile'),
                      dict(type='LoadVerifiedAnnotations')])(dict(info))
    top = int(loaded['gt_seg_map'][loaded['gt_seg_map'] != 255].max())
    with pytest.raises(AnnotationError, match=rf'outside \[0, {top}\)'):
        Compose([dict(type='LoadImageFromFile'),
                 dict(type='LoadVerifiedAnnotations')])(
                     dict(info, num_classes=top))
    # an explicit count that disagrees: an error naming the image
    img = info['img_path']
    with pytest.raises(AnnotationError,
                       match=rf'{img}: LoadImageLabels\(num_classes=7\) '
                       'disagrees with the dataset, which has 6 classes'):
        LoadImageLabels(num_classes=7)(dict(info))
    with pytest.raises(AnnotationError,
                       match=rf'{img}: LoadVerifiedAnnotations\('
                       r'num_classes=7\) disagrees'):
        Compose([dict(type='LoadImageFromFile'),
                 dict(type='LoadVerifiedAnnotations', num_classes=7)])(
                     dict(info))
    # too small: the value error says both counts
    with pytest.raises(AnnotationError,
                       match=r'outside \[0, 2\).*\(LoadImageLabels\('
                       r'num_classes=2\) but the dataset has 6 classes\)'):
        LoadImageLabels(num_classes=2)(dict(info))
    # no count anywhere: LoadImageLabels cannot build its vector
    bare = {k: v for k, v in info.items() if k != 'num_classes'}
    with pytest.raises(AnnotationError, match='LoadImageLabels has no class '
                       'count'):
        LoadImageLabels()(bare)
    # LoadVerifiedAnnotations without a count skips the value check
    assert 'gt_seg_map' in Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadVerifiedAnnotations')
    ])(bare)
