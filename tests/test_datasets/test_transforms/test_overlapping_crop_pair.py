"""OverlappingCropPair / SelectCropView (Lai et al., CVPR 2021, Sec. 4.1)
and the per-view photometric transforms RandomHue / RandomGaussianBlur."""
import colorsys
import itertools

import numpy as np
import pytest
from mmcv.transforms import Compose

import mmseg_weak  # noqa: F401
from mmseg_weak.datasets.transforms import (OverlappingCropPair,
                                            RandomGaussianBlur, RandomHue,
                                            SelectCropView)
from mmseg_weak.datasets.transforms.overlapping_crop_pair import window_iou
from mmseg_weak.datasets.transforms.random_hue import shift_hue


def _id_image(h, w):
    """uint8 BGR image whose pixel (y, x) encodes the id ``y * w + x + 1``
    (0 is left for padding)."""
    ids = np.arange(1, h * w + 1, dtype=np.int64).reshape(h, w)
    return np.stack([ids & 255, (ids >> 8) & 255, ids >> 16],
                    axis=-1).astype(np.uint8)


def _ids(img):
    img = img.astype(np.int64)
    return img[..., 0] | (img[..., 1] << 8) | (img[..., 2] << 16)


def _views(img, flips, seed=0, **pair_kwargs):
    """Run the pair + both views (with forced flips) on ``img``."""
    np.random.seed(seed)
    results = OverlappingCropPair(**pair_kwargs)(dict(img=img,
                                                      img_path='a.jpg'))
    views = [
        SelectCropView(index=i, flip_prob=float(f))(dict(results))
        for i, f in enumerate(flips)
    ]
    return results, views


@pytest.mark.parametrize('img_hw,crop,stride,iou_range', [
    ((60, 90), 32, 8, (0.1, 1.0)),
    ((41, 77), (24, 40), 8, (0.3, 0.7)),
    ((100, 64), 16, 4, (0.1, 0.5)),
    ((48, 48), 48, 8, (0.1, 1.0)),  # image == crop: only identical windows
])
def test_pairs_meet_iou_range_and_stride(img_hw, crop, stride, iou_range):
    h, w = img_hw
    transform = OverlappingCropPair(crop, iou_range=iou_range, stride=stride)
    ch, cw = transform.crop_size
    np.random.seed(0)
    offsets = set()
    for _ in range(300):
        out = transform(dict(img=np.zeros((h, w, 3), np.uint8)))
        win = out['crop_pair_windows']
        assert (win[:, 2] - win[:, 0] == cw).all()
        assert (win[:, 3] - win[:, 1] == ch).all()
        assert (win[:, :2] >= 0).all()
        assert (win[:, 2] <= max(w, cw)).all()
        assert (win[:, 3] <= max(h, ch)).all()
        dx, dy = win[1, :2] - win[0, :2]
        assert dx % stride == 0 and dy % stride == 0
        iou = window_iou(win[0], win[1])
        assert out['crop_pair_iou'] == pytest.approx(iou)
        if out['crop_pair_fallback']:
            assert (win[0] == win[1]).all()
        else:
            assert iou_range[0] <= iou <= iou_range[1]
        offsets.add((int(dx), int(dy)))
        # overlap in each window = intersection, sizes cut to the stride
        ov = out['crop_pair_overlaps']
        ix = min(win[0, 2], win[1, 2]) - max(win[0, 0], win[1, 0])
        iy = min(win[0, 3], win[1, 3]) - max(win[0, 1], win[1, 1])
        for i in range(2):
            assert (ov[i] % stride == 0).all()
            assert ov[i, 2] - ov[i, 0] == ix // stride * stride
            assert ov[i, 3] - ov[i, 1] == iy // stride * stride
    if (h, w) == (ch, cw):
        assert offsets == {(0, 0)}
    else:  # the windows really move relative to each other
        assert len(offsets) >= 5


def test_fallback_rate_is_low_for_the_paper_setting():
    """The paper's IoU range on a VOC-sized image practically never falls
    back (a broken sampler would)."""
    transform = OverlappingCropPair(320, iou_range=(0.1, 1.0), stride=8)
    np.random.seed(1)
    fallbacks = sum(
        transform(dict(img=np.zeros((500, 700, 3), np.uint8)))
        ['crop_pair_fallback'] for _ in range(200))
    assert fallbacks == 0


@pytest.mark.parametrize('flips', list(itertools.product([0, 1], [0, 1])))
@pytest.mark.parametrize('img_hw,crop', [((50, 70), 32), ((29, 61), 24),
                                         ((20, 13), 16)])
def test_overlaps_map_the_same_source_pixels(flips, img_hw, crop):
    stride = 8
    img = _id_image(*img_hw)
    for seed in range(20):
        results, views = _views(img, flips, seed, crop_size=crop,
                                stride=stride)
        patches, cells = [], []
        for view, flipped in zip(views, flips):
            assert view['flip'] is bool(flipped)
            assert view['flip_direction'] == ('horizontal'
                                              if flipped else None)
            assert view['img'].shape == (crop, crop, 3)
            assert view['img_shape'] == (crop, crop)
            ids = _ids(view['img'])
            x1, y1, x2, y2 = view['overlap_box']
            assert all(v % stride == 0 for v in view['overlap_box'])
            patch = ids[y1:y2, x1:x2]
            # a stride-s "feature map": the smallest id of each cell
            feat = ids.reshape(crop // stride, stride, crop // stride,
                               stride).min(axis=(1, 3))
            cell = feat[y1 // stride:y2 // stride, x1 // stride:x2 // stride]
            if flipped:
                patch, cell = patch[:, ::-1], cell[:, ::-1]
            patches.append(patch)
            cells.append(cell)
        assert patches[0].size > 0
        np.testing.assert_array_equal(patches[0], patches[1])
        np.testing.assert_array_equal(cells[0], cells[1])
        assert (patches[0] > 0).all()  # never padding
        # the un-flipped crop is the window of the image
        win = views[0]['crop_window']
        assert tuple(results['crop_pair_windows'][0]) == win
        # the overlap holds every pixel the crops share, up to the stride
        # cut of a padded side
        common = np.intersect1d(_ids(views[0]['img']),
                                _ids(views[1]['img']))
        common = common[common > 0]
        if img_hw[0] >= crop and img_hw[1] >= crop:
            assert np.array_equal(np.sort(patches[0].ravel()), common)
        else:
            assert set(patches[0].ravel()) <= set(common)


def test_small_image_is_padded_and_padding_left_out():
    img = _id_image(13, 20)  # h=13 < 16, w=20 >= 16
    seg = np.arange(13 * 20, dtype=np.uint8).reshape(13, 20) % 200
    np.random.seed(0)
    results = OverlappingCropPair(16, stride=8)(
        dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map']))
    assert (results['crop_pair_windows'][:, 1] == 0).all()
    for i in range(2):
        view = SelectCropView(i, flip_prob=0., pad_val=0, seg_pad_val=255)(
            dict(results))
        x0 = view['crop_window'][0]
        assert view['img'].shape == (16, 16, 3)
        assert (view['img'][13:] == 0).all()
        assert (view['gt_seg_map'][13:] == 255).all()
        np.testing.assert_array_equal(view['gt_seg_map'][:13],
                                      seg[:, x0:x0 + 16])
        # overlap height: 13 real rows cut to one stride
        _, y1, _, y2 = view['overlap_box']
        assert (y1, y2) == (0, 8)


def test_seg_map_follows_the_flip():
    img = _id_image(32, 32)
    seg = (np.arange(32)[None].repeat(32, 0) % 250).astype(np.uint8)
    results = OverlappingCropPair(16, stride=8)(
        dict(img=img, gt_seg_map=seg))
    view = SelectCropView(0, flip_prob=1.)(dict(results))
    x0 = view['crop_window'][0]
    np.testing.assert_array_equal(view['gt_seg_map'][0],
                                  seg[0, x0:x0 + 16][::-1])
    assert view['overlap_box'][2] == 16 - results['crop_pair_overlaps'][0][0]


def test_flips_are_independent_per_view():
    results = OverlappingCropPair(16)(dict(img=_id_image(40, 40)))
    np.random.seed(0)
    pairs = {(SelectCropView(0)(dict(results))['flip'],
              SelectCropView(1)(dict(results))['flip']) for _ in range(40)}
    assert pairs == set(itertools.product([False, True], repeat=2))


def test_fallback_identical_and_raise():
    # 16x16 crops on an 8-px grid: IoU is 1, 1/3, ... never in (0.5, 0.9)
    img = np.zeros((40, 40, 3), np.uint8)
    np.random.seed(0)
    out = OverlappingCropPair(16, iou_range=(0.5, 0.9))(dict(img=img))
    assert out['crop_pair_fallback'] is True
    assert out['crop_pair_iou'] == 1.0
    win = out['crop_pair_windows']
    assert (win[0] == win[1]).all()
    assert out['crop_pair_overlaps'].tolist() == [[0, 0, 16, 16]] * 2
    with pytest.raises(RuntimeError, match='x.jpg.*no pair'):
        OverlappingCropPair(16, iou_range=(0.5, 0.9), fallback='raise')(
            dict(img=img, img_path='x.jpg'))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='multiple of stride'):
        OverlappingCropPair(321, stride=8)
    with pytest.raises(ValueError, match='iou_range'):
        OverlappingCropPair(32, iou_range=(0.0, 1.0))
    with pytest.raises(ValueError, match='iou_range'):
        OverlappingCropPair(32, iou_range=(0.8, 0.2))
    with pytest.raises(ValueError, match='fallback'):
        OverlappingCropPair(32, fallback='pad')
    with pytest.raises(ValueError, match='crop_size'):
        OverlappingCropPair((32, 0))
    with pytest.raises(ValueError, match='max_tries'):
        OverlappingCropPair(32, max_tries=0)
    with pytest.raises(ValueError, match='tiny.jpg.*smaller than the stride'):
        OverlappingCropPair(16, stride=8)(
            dict(img=np.zeros((5, 40, 3), np.uint8), img_path='tiny.jpg'))
    with pytest.raises(ValueError, match='index'):
        SelectCropView(2)
    with pytest.raises(KeyError, match='b.jpg.*OverlappingCropPair'):
        SelectCropView(0)(dict(img=np.zeros((8, 8, 3), np.uint8),
                               img_path='b.jpg'))
    results = OverlappingCropPair(16)(dict(img=np.zeros((32, 32, 3),
                                                        np.uint8)))
    results['gt_bboxes'] = np.zeros((1, 4), np.float32)
    with pytest.raises(ValueError, match='gt_bboxes'):
        SelectCropView(0)(results)


def test_registered_in_mmseg_pipelines():
    pipeline = Compose([
        dict(type='OverlappingCropPair', crop_size=16),
        dict(type='SelectCropView', index=1, flip_prob=0.),
        dict(type='RandomHue', max_shift=0.),
        dict(type='RandomGaussianBlur', prob=0.),
    ])
    out = pipeline(dict(img=_id_image(24, 24)))
    x0, y0, _, _ = out['crop_window']
    np.testing.assert_array_equal(
        out['img'], _id_image(24, 24)[y0:y0 + 16, x0:x0 + 16])


# ----------------------------------------------------------------- photometric
def _hue_oracle(img, shift):
    out = np.empty_like(img)
    for idx in np.ndindex(img.shape[:2]):
        b, g, r = img[idx] / 255.
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        r, g, b = colorsys.hsv_to_rgb((h + shift) % 1., s, v)
        out[idx] = np.round(np.array([b, g, r]) * 255)
    return out


@pytest.mark.parametrize('shift', [-0.3, -0.1, 0.05, 0.25])
def test_random_hue_matches_hsv_rotation(shift):
    img = np.random.default_rng(0).integers(0, 256, (6, 7, 3)).astype(
        np.uint8)
    got = shift_hue(img, shift).astype(int)
    # the hue moves in steps of 1/256 turn; one step changes a saturated
    # channel by up to ~6 levels, so the uint8 round trip is that close
    expected = _hue_oracle(img, round(shift * 256) / 256)
    assert np.abs(got - expected).max() <= 8
    assert np.abs(got - _hue_oracle(img, -shift)).max() > 20  # direction
    # red -> green -> blue for a third of a turn
    red = np.array([[[0, 0, 255]]], np.uint8)
    assert np.abs(shift_hue(red, 1 / 3).astype(int) - [0, 255, 0]).max() <= 6
    assert np.abs(shift_hue(red, -1 / 3).astype(int) -
                  [255, 0, 0]).max() <= 6


def test_random_hue_draws_within_range():
    transform = RandomHue(max_shift=0.1)
    np.random.seed(0)
    draws = [transform._draw() for _ in range(200)]
    assert all(apply for apply, _ in draws)
    shifts = np.array([s for _, s in draws])
    assert np.abs(shifts).max() <= 0.1 and shifts.min() < -0.05 < 0.05 < \
        shifts.max()


def test_random_hue_probability_and_errors():
    img = np.random.default_rng(1).integers(0, 256, (4, 4, 3)).astype(
        np.uint8)
    assert RandomHue(0.5, prob=0.)(dict(img=img))['img'] is img
    gray = np.full((3, 3, 3), 77, np.uint8)
    np.testing.assert_array_equal(RandomHue(0.5)(dict(img=gray))['img'],
                                  gray)
    with pytest.raises(ValueError, match='max_shift'):
        RandomHue(0.6)
    with pytest.raises(TypeError, match='uint8'):
        RandomHue(0.1)(dict(img=img.astype(np.float32)))


def _blur_oracle(img, kern):
    k = len(kern)
    pad = np.pad(img.astype(np.float64), ((k // 2, ), (k // 2, ), (0, )),
                 mode='reflect')  # = OpenCV's BORDER_REFLECT_101
    rows = sum(kern[i] * pad[i:i + img.shape[0]] for i in range(k))
    return sum(kern[i] * rows[:, i:i + img.shape[1]] for i in range(k))


def _gauss(k, sigma):
    x = np.arange(k) - k // 2
    kern = np.exp(-x**2 / (2 * sigma**2))
    return kern / kern.sum()


@pytest.mark.parametrize('k,sigma,kern', [
    (5, 0., np.array([1, 4, 6, 4, 1]) / 16),  # OpenCV's fixed 5-tap kernel
    (3, 0.7, _gauss(3, 0.7)),
    (5, 2.0, _gauss(5, 2.0)),
])
def test_gaussian_blur_matches_separable_kernel(k, sigma, kern):
    img = np.random.default_rng(2).integers(0, 256, (9, 11, 3)).astype(
        np.uint8)
    out = RandomGaussianBlur(prob=1., kernel_size=k, sigma=sigma)(
        dict(img=img.copy()))['img']
    # uint8 fixed-point arithmetic of OpenCV: within 1.5 levels
    assert np.abs(out.astype(float) - _blur_oracle(img, kern)).max() <= 1.5
    assert np.abs(out.astype(float) - img).max() > 5  # it did blur


def test_gaussian_blur_probability_range_and_errors():
    img = np.random.default_rng(3).integers(0, 256, (8, 8, 3)).astype(
        np.uint8)
    assert RandomGaussianBlur(prob=0.)(dict(img=img))['img'] is img
    np.random.seed(0)
    blurred = sum(
        RandomGaussianBlur(prob=0.5)(dict(img=img))['img'] is not img
        for _ in range(200))
    assert 70 < blurred < 130
    t = RandomGaussianBlur(sigma=(0.5, 1.5))
    sigmas = [t._draw()[1] for _ in range(100)]
    assert 0.5 <= min(sigmas) and max(sigmas) <= 1.5
    with pytest.raises(ValueError, match='kernel_size'):
        RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match='sigma'):
        RandomGaussianBlur(sigma=(2., 1.))
