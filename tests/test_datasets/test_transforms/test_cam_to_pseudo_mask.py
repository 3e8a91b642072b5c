"""LoadCAMs and the CAM -> pseudo-mask transforms of Pseudo-mask Matters
(Li et al., ICCV 2021): registered, each step on hand-checkable arrays, the
whole chain in an MMSeg pipeline (== the shared functions), clear errors."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmseg.registry import TRANSFORMS

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets.voc_annotation import parse_voc_xml
from mmseg_weak.models.utils.cam_pseudo_masks import (BASELINE_CRF_CFG,
                                                      PPMG_CRF_CFG,
                                                      pseudo_mask_from_cams)
from mmseg_weak.utils.cam_io import CAMFileError, save_cams
from mmseg_weak.utils.soft_maps import PseudoLabelError

CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle')
NAMES = ('LoadCAMs', 'NormalizeCAMs', 'AddCAMBackground', 'CoVSmoothCAMs',
         'ProportionalPseudoMask', 'ArgmaxPseudoMask')


def blurred_gt_cams(root: str, img_id: str, sigma: float = 4.0):
    """CAMs of the image's XML classes: the blurred GT masks, scaled by 3
    (raw, unnormalised) with some noise."""
    from PIL import Image
    gt = np.array(Image.open(
        osp.join(root, 'SegmentationClassAug', img_id + '.png')))
    ann = parse_voc_xml(osp.join(root, 'Annotations', img_id + '.xml'),
                        CLASSES)
    keys = sorted({i['bbox_label'] for i in ann['instances']})
    rng = np.random.default_rng(len(img_id) + int(img_id[-3:]))
    cams = []
    for c in keys:
        blur = cv2.GaussianBlur((gt == c).astype(np.float32), (0, 0), sigma)
        cams.append(3 * blur * rng.uniform(0.7, 1.0, gt.shape))
    return np.array(cams, np.float32).reshape(-1, *gt.shape), keys


@pytest.fixture(scope='module')
def cam_dir(voc_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('cams')
    for img_id in ('2012_000004', '2012_000006'):
        cams, keys = blurred_gt_cams(voc_root, img_id)
        save_cams(str(out / f'{img_id}.npz'), cams, keys)
    return str(out)


@pytest.mark.parametrize('name', NAMES)
def test_registered(name):
    cls = TRANSFORMS.get(name)
    assert cls is not None and cls.__module__.startswith('mmseg_weak.')
    assert name in repr(TRANSFORMS.build(
        dict(type=name, cam_dir='x') if name == 'LoadCAMs' else dict(
            type=name)))


def test_normalize_and_background_steps():
    results = dict(cams=np.array([[[2., 4.], [6., 10.]]]),
                   cams_classes=np.array([7]))
    results = TRANSFORMS.build(dict(type='NormalizeCAMs', eps=0))(results)
    assert results['cams_classes'].tolist() == [7]
    np.testing.assert_allclose(results['cams'][0], [[0, .25], [.5, 1]])
    results = TRANSFORMS.build(dict(type='AddCAMBackground', alpha=2))(
        results)
    np.testing.assert_allclose(results['cam_scores'][0],
                               [[1, .5625], [.25, 0]])
    np.testing.assert_allclose(results['cam_scores'][1], results['cams'][0])
    assert results['cam_scores_classes'].tolist() == [0, 7]


def test_cov_smooth_step_keeps_unsmoothed():
    cams = np.array([[[0.0, 0.04], [0.2, 0.6]]], np.float32)
    results = TRANSFORMS.build(dict(type='CoVSmoothCAMs'))(
        dict(cams=cams, cams_classes=np.array([3])))
    assert results['cams_smoothed_classes'].tolist() == [3]
    np.testing.assert_allclose(results['cam_cov'], [0.5], rtol=1e-6)
    np.testing.assert_allclose(results['cams_smoothed'][0],
                               [[0, 0], [0.2**0.85, 0.6**0.85]], rtol=1e-6)
    assert results['cams'] is cams


def test_argmax_step_without_crf_ties_to_background():
    results = dict(
        cam_scores=np.array([[[0.5, 0.5, 0.1]], [[0.5, 0.2, 0.3]],
                             [[0.1, 0.6, 0.3]]]),
        cam_scores_classes=np.array([0, 2, 5]))
    results = TRANSFORMS.build(dict(type='ArgmaxPseudoMask',
                                    use_crf=False))(results)
    assert results['gt_seg_map'].tolist() == [[0, 5, 2]]
    assert results['gt_seg_map'].dtype == np.uint8
    assert results['seg_fields'] == ['gt_seg_map']


def test_ppmg_step_hand_checked():
    # 0 CRF iterations: fg where s > (1 - s)^alpha = 1 - s (alpha = 1)
    results = dict(
        img=np.zeros((1, 3, 3), np.uint8),
        cams=np.array([[[0.45, 0.8, 0.2]], [[0.3, 0.6, 0.55]]], np.float32),
        cams_smoothed=np.array([[[0.6, 0.9, 0.2]], [[0.3, 0.7, 0.6]]],
                               np.float32),
        cams_classes=np.array([1, 2]),
        cams_smoothed_classes=np.array([1, 2]))
    t = TRANSFORMS.build(
        dict(type='ProportionalPseudoMask', alpha=1, crf_cfg=dict(num_iter=0)))
    assert t(dict(results))['gt_seg_map'].tolist() == [[1, 1, 2]]
    del results['cams_smoothed']  # PPMG without CVS
    assert t(results)['gt_seg_map'].tolist() == [[0, 1, 2]]


def _load_pipeline(cam_dir, **kwargs):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadCAMs', cam_dir=cam_dir, num_classes=6, **kwargs)
    ]


def test_pipeline_equals_shared_functions(voc_root, cam_dir):
    img_id = '2012_000006'
    info = dict(img_path=osp.join(voc_root, 'JPEGImages', img_id + '.jpg'),
                img_id=img_id, seg_fields=[])
    ppmg_pipe = Compose(_load_pipeline(cam_dir) + [
        dict(type='NormalizeCAMs'),
        dict(type='CoVSmoothCAMs'),
        dict(type='ProportionalPseudoMask', crf_backend='pydensecrf'),
    ])
    base_pipe = Compose(_load_pipeline(cam_dir) + [
        dict(type='NormalizeCAMs'),
        dict(type='AddCAMBackground', alpha=4),
        dict(type='ArgmaxPseudoMask', crf_backend='pydensecrf'),
    ])
    out = ppmg_pipe(dict(info))
    cams, keys = out['cams'], out['cams_classes']
    assert keys.tolist() == [2, 3, 5]
    image = cv2.cvtColor(out['img'], cv2.COLOR_BGR2RGB)
    raw = np.load(osp.join(cam_dir, img_id + '.npz'))['cam']
    expected = pseudo_mask_from_cams(
        raw, keys, image, 'ppmg',
        crf_cfg=dict(PPMG_CRF_CFG, backend='pydensecrf'))
    np.testing.assert_array_equal(out['gt_seg_map'], expected)
    assert set(np.unique(expected)) == {0, 2, 3, 5}
    assert cams.max() <= 1  # normalised in place
    base = base_pipe(dict(info))['gt_seg_map']
    np.testing.assert_array_equal(
        base,
        pseudo_mask_from_cams(
            raw, keys, image, 'argmax-crf', alpha=4,
            crf_cfg=dict(BASELINE_CRF_CFG, backend='pydensecrf')))


def test_in_dataset_with_xml_labels_and_packing(voc_root, cam_dir):
    from mmseg.registry import DATASETS
    ds = DATASETS.build(
        dict(
            type='WeakVOCDataset',
            data_root=voc_root,
            metainfo=dict(classes=CLASSES),
            ann_file='ImageSets/Segmentation/aug.txt',
            supervision='image_label',
            indices=[3],  # 2012_000006
            serialize_data=False,
            pipeline=[]))
    assert ds.data_list[0]['img_id'] == '2012_000006'
    assert ds.data_list[0]['img_labels'] == [0, 2, 3, 5]  # from the XML
    ds.pipeline = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadImageLabels', num_classes=6),
        dict(type='LoadCAMs', cam_dir=cam_dir, num_classes=6),
        dict(type='NormalizeCAMs'),
        dict(type='CoVSmoothCAMs'),
        dict(type='ProportionalPseudoMask'),
        dict(type='RandomFlip', prob=1.0),
        dict(type='PackWeakSegInputs'),
    ])
    sample = ds[0]['data_samples']
    seg = sample.gt_sem_seg.data[0].numpy()
    assert set(np.unique(seg)) <= {0, 2, 3, 5} and len(np.unique(seg)) > 2
    # the flip moved the pseudo-mask with the image
    unflipped = ds.pipeline.transforms[:6]
    direct = Compose(unflipped)(ds.get_data_info(0))['gt_seg_map']
    np.testing.assert_array_equal(seg, direct[:, ::-1])
    # labels that disagree with the CAM file: error naming the file
    ds.data_list[0]['img_labels'] = [0, 2, 3]
    with pytest.raises(CAMFileError, match=r'2012_000006\.npz.*\[5\]'):
        ds[0]


@pytest.mark.parametrize('case, match', [
    ('missing', 'CAM file not found'),
    ('size', 'differs from the image size'),
    ('nan', 'NaN'),
    ('label', 'not labelled with'),
    ('after_resize', 'before the geometric transforms'),
])
def test_load_cams_errors(voc_root, tmp_path, case, match):
    img_id = '2012_000006'
    cams, keys = blurred_gt_cams(voc_root, img_id)
    if case == 'size':
        cams = cams[:, 1:]
    elif case == 'nan':
        cams[0, 3, 3] = np.nan
    if case != 'missing':
        np.savez(str(tmp_path / f'{img_id}.npz'), keys=keys, cam=cams)
    pipe = _load_pipeline(str(tmp_path))
    if case == 'after_resize':
        pipe.insert(1, dict(type='Resize', scale=(50, 50)))
    results = dict(img_path=osp.join(voc_root, 'JPEGImages', img_id + '.jpg'),
                   img_id=img_id)
    if case == 'label':
        results['gt_img_labels'] = np.array([1, 0, 1, 1, 0, 0], np.float32)
    with pytest.raises(CAMFileError, match=match) as err:
        Compose(pipe)(results)
    assert str(tmp_path / img_id) in str(err.value)


def test_missing_inputs_are_named():
    with pytest.raises(PseudoLabelError, match='a.jpg: NormalizeCAMs.*'
                       'add LoadCAMs'):
        TRANSFORMS.build(dict(type='NormalizeCAMs'))(dict(img_path='a.jpg'))
    t = TRANSFORMS.build(dict(type='ProportionalPseudoMask'))
    with pytest.raises(PseudoLabelError, match='differs from the CAM size'):
        t(dict(img=np.zeros((4, 4, 3), np.uint8),
               cams=np.zeros((1, 3, 4), np.float32),
               cams_classes=np.array([1])))
