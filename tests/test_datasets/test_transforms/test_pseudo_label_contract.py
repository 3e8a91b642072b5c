"""The pseudo-label contract (mmseg_weak.utils.soft_maps): every soft map
carries the dataset class id of each channel, every CAM / PAMR / CRF / argmax
step reads and writes it, and a chain in a meaningless order fails naming the
transform and the image."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmseg.registry import TRANSFORMS

import mmseg_weak  # noqa: F401
from mmseg_weak.models.utils import pamr_refine
from mmseg_weak.models.utils.dense_crf import dense_crf
from mmseg_weak.models.utils.pseudo_gt import pseudo_gt_from_masks
from mmseg_weak.utils.cam_io import save_cams
from mmseg_weak.utils.soft_maps import (PseudoLabelError, hard_map_to_soft,
                                        labels_from_soft_map)

IMG_ID = '2012_000006'  # labelled {bird 3, bottle 5, bicycle 2}: not 1..K


def _labels_vec(ids, num_classes=6):
    vec = np.zeros(num_classes, np.float32)
    vec[list(ids)] = 1
    return vec


@pytest.fixture(scope='module')
def cams_of_two_classes(voc_root, tmp_path_factory):
    """CAMs for classes {3, 5} only (the image labels given to the chain),
    made from the ground truth so that the right answer is known."""
    from PIL import Image
    gt = np.array(Image.open(
        osp.join(voc_root, 'SegmentationClassAug', IMG_ID + '.png')))
    keys = [3, 5]
    cams = np.stack([(gt == c).astype(np.float32) * 4 + 0.5 for c in keys])
    out = tmp_path_factory.mktemp('contract_cams')
    save_cams(str(out / f'{IMG_ID}.npz'), cams, keys)
    return str(out), gt


def _info(voc_root):
    return dict(img_path=osp.join(voc_root, 'JPEGImages', IMG_ID + '.jpg'),
                img_id=IMG_ID, seg_fields=[])


def test_cam_pamr_chain_writes_dataset_class_ids(voc_root,
                                                 cams_of_two_classes):
    """The chain of the issue: image labels {3, 5} -> CAMs -> background ->
    PAMR pseudo labels gives class ids {0, 3, 5} (not channel indices)."""
    cam_dir, gt = cams_of_two_classes
    pipe = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadCAMs', cam_dir=cam_dir, num_classes=6,
             check_labels=False),
        dict(type='NormalizeCAMs'),
        dict(type='AddCAMBackground', alpha=1),
        dict(type='PAMRRefineMasks', mask_key='cam_scores', num_iter=3,
             seg_map_key='gt_seg_map'),
    ])
    results = dict(_info(voc_root), gt_img_labels=_labels_vec([0, 3, 5]))
    out = pipe(results)
    seg = out['gt_seg_map']
    assert out['cam_scores_classes'].tolist() == [0, 3, 5]
    assert set(np.unique(seg)) <= {0, 3, 5, 255}
    assert {3, 5} <= set(np.unique(seg))
    # by hand: PAMR on the 3 channels, pseudo-GT rules, channel -> class id
    image = torch.from_numpy(out['img'].transpose(2, 0, 1)).float()[None]
    refined = pamr_refine(image, torch.from_numpy(
        np.ascontiguousarray(out['cam_scores']))[None], 0)
    np.testing.assert_allclose(refined[0].numpy(), out['cam_scores'])
    label, _ = pseudo_gt_from_masks(refined, torch.ones(1, 3))
    label = label[0].numpy()
    expected = np.array([0, 3, 5, 255])[np.where(label == 255, 3, label)]
    np.testing.assert_array_equal(seg, expected)
    # the labels are right where the CAMs are confident
    for c in (3, 5):
        assert (seg[seg == c] == gt[seg == c]).mean() > 0.9


def test_image_labels_over_all_classes_pick_the_map_channels(
        voc_root, cams_of_two_classes):
    """gt_img_labels over the 6 dataset classes meet a 3-channel map: the
    labels of the map's classes are used (was: a shape error naming no
    image); a class absent from the labels is dropped."""
    cam_dir, _ = cams_of_two_classes
    pipe = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadCAMs', cam_dir=cam_dir, check_labels=False),
        dict(type='NormalizeCAMs'),
        dict(type='AddCAMBackground'),
        dict(type='PAMRRefineMasks', mask_key='cam_scores', num_iter=2,
             seg_map_key='gt_seg_map'),
    ])
    out = pipe(dict(_info(voc_root), gt_img_labels=_labels_vec([3])))
    assert set(np.unique(out['gt_seg_map'])) <= {0, 3, 255}
    assert 3 in np.unique(out['gt_seg_map'])


def test_argmax_and_crf_keep_class_ids(voc_root, cams_of_two_classes):
    cam_dir, _ = cams_of_two_classes
    pipe = Compose([
        dict(type='LoadImageFromFile'),
        dict(type='LoadCAMs', cam_dir=cam_dir, check_labels=False),
        dict(type='NormalizeCAMs'),
        dict(type='AddCAMBackground', alpha=2),
        dict(type='PAMRRefineMasks', mask_key='cam_scores', num_iter=2),
        dict(type='DenseCRFRefine', key='cam_scores', num_iter=3),
        dict(type='ArgmaxPseudoMask', use_crf=False),
    ])
    out = pipe(_info(voc_root))
    np.testing.assert_allclose(out['cam_scores'].sum(0), 1, atol=1e-5)
    assert set(np.unique(out['gt_seg_map'])) <= {0, 3, 5}
    assert out['gt_seg_map'].dtype == np.uint8


def test_dense_crf_refine_soft_map_equals_dense_crf():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (12, 16, 3)).astype(np.uint8)
    probs = rng.random((3, 12, 16)).astype(np.float32)
    t = TRANSFORMS.build(
        dict(type='DenseCRFRefine', key='p', seg_map_key='seg', num_iter=4,
             gaussian_compat=10))
    out = t(dict(img=img, p=probs.copy(), p_classes=np.array([0, 4, 9])))
    expected = dense_crf(probs, img, num_iter=4, gaussian_compat=10)
    np.testing.assert_allclose(out['p'], expected, atol=1e-6)
    np.testing.assert_array_equal(
        out['seg'], np.array([0, 4, 9])[expected.argmax(0)])
    assert out['p_classes'].tolist() == [0, 4, 9]
    assert 'seg' in out['seg_fields']


def test_dense_crf_refine_hard_map():
    img = np.zeros((10, 12, 3), np.uint8)
    img[:, 6:] = 255
    label = np.zeros((10, 12), np.uint8)
    label[:, 5:] = 7  # one column off the colour edge
    label[0, 0] = 255
    t = TRANSFORMS.build(dict(type='DenseCRFRefine', key='gt_seg_map',
                              confidence=0.6, gaussian_compat=0))
    out = t(dict(img=img, gt_seg_map=label.copy()))
    assert out['gt_seg_map_probs_classes'].tolist() == [0, 7]
    expected = dense_crf(hard_map_to_soft(label, [0, 7], 0.6), img,
                         gaussian_compat=0)
    np.testing.assert_allclose(out['gt_seg_map_probs'], expected, atol=1e-6)
    np.testing.assert_array_equal(out['gt_seg_map'],
                                  labels_from_soft_map(expected, [0, 7]))
    # the CRF moves the label onto the colour edge
    assert (out['gt_seg_map'][:, 5] == 0).all()
    assert (out['gt_seg_map'][:, 6:] == 7).all()
    # a single class: nothing to refine, the map is unchanged
    single = np.full((10, 12), 3, np.uint8)
    out = t(dict(img=img, gt_seg_map=single.copy()))
    np.testing.assert_array_equal(out['gt_seg_map'], single)


def test_hard_map_to_soft():
    soft = hard_map_to_soft(np.array([[0, 2, 255]]), [0, 2, 5], 0.8)
    np.testing.assert_allclose(soft[:, 0, 0], [0.8, 0.1, 0.1])
    np.testing.assert_allclose(soft[:, 0, 1], [0.1, 0.8, 0.1])
    np.testing.assert_allclose(soft[:, 0, 2], [1 / 3] * 3)


def test_box_masks_are_refined_by_pamr_and_crf():
    """Box masks are soft maps of the contract (channel c = class c)."""
    img = np.zeros((20, 20, 3), np.uint8)
    img[4:12, 4:12] = 200  # the object fills the top-left of its box
    results = dict(img=img, img_path='box.jpg',
                   gt_bboxes=np.array([[4, 4, 16, 16]], np.float32),
                   gt_bboxes_labels=np.array([2]))
    pipe = Compose([
        dict(type='RasterizeBoxMasks', num_classes=3),
        dict(type='DenseCRFRefine', key='gt_box_masks', out_key='box_crf',
             seg_map_key='gt_seg_map', confidence=0.6),
    ])
    out = pipe(results)
    assert out['gt_box_masks_classes'].tolist() == [0, 1, 2]
    seg = out['gt_seg_map']
    assert set(np.unique(seg)) <= {0, 2}
    assert (seg[5:11, 5:11] == 2).all() and (seg[:3] == 0).all()
    # the CRF narrows the box to the object
    assert (seg[13:16, 13:16] == 0).all()
    out = TRANSFORMS.build(
        dict(type='PAMRRefineMasks', mask_key='gt_box_masks', num_iter=2,
             seg_map_key='pamr_seg'))(dict(out))
    assert set(np.unique(out['pamr_seg'])) <= {0, 2, 255}


@pytest.mark.parametrize('case,match', [
    ('no_classes', "NormalizeCAMs: the soft map 'cams' has no 'cams_classes'"),
    ('background_twice', 'AddCAMBackground.*already has a background'),
    ('normalize_after_background', 'NormalizeCAMs.*already has a background'),
    ('unnormalised', 'CoVSmoothCAMs.*add NormalizeCAMs'),
    ('argmax_without_background', 'ArgmaxPseudoMask.*no background'),
    ('channels_vs_classes', 'PAMRRefineMasks.*2 channels but'),
    ('pamr_seg_map_bg_not_first', 'PAMRRefineMasks: the first channel'),
    ('crf_size', 'DenseCRFRefine: image size 8x6 differs'),
])
def test_meaningless_orders_name_transform_and_image(case, match):
    cams = np.random.default_rng(1).random((2, 6, 8)).astype(np.float32)
    base = dict(img_path='x/img.jpg', img=np.zeros((6, 8, 3), np.uint8),
                cams=cams, cams_classes=np.array([3, 5]))
    if case == 'no_classes':
        del base['cams_classes']
        steps = [dict(type='NormalizeCAMs')]
    elif case == 'background_twice':
        steps = [dict(type='AddCAMBackground'),
                 dict(type='AddCAMBackground', cam_key='cam_scores')]
    elif case == 'normalize_after_background':
        steps = [dict(type='AddCAMBackground'),
                 dict(type='NormalizeCAMs', cam_key='cam_scores')]
    elif case == 'unnormalised':
        base['cams'] = cams * 5
        steps = [dict(type='CoVSmoothCAMs')]
    elif case == 'argmax_without_background':
        steps = [dict(type='NormalizeCAMs'),
                 dict(type='ArgmaxPseudoMask', score_key='cams')]
    elif case == 'channels_vs_classes':
        base['cams_classes'] = np.array([0, 3, 5])
        steps = [dict(type='PAMRRefineMasks', mask_key='cams')]
    elif case == 'pamr_seg_map_bg_not_first':
        base['cams_classes'] = np.array([0, 5])[::-1].copy()
        steps = [dict(type='PAMRRefineMasks', mask_key='cams',
                      seg_map_key='gt_seg_map')]
    else:
        base['cams'] = cams[:, :4]
        base['cams_classes'] = np.array([0, 5])
        steps = [dict(type='DenseCRFRefine', key='cams')]
    with pytest.raises(PseudoLabelError, match=match) as err:
        Compose(steps)(base)
    assert 'x/img.jpg' in str(err.value)
