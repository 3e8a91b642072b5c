"""CAM -> pseudo-mask steps of Pseudo-mask Matters (Li et al., ICCV 2021):
each step on hand-computed arrays, then PPMG / the argmax-CRF baseline
against a literal re-implementation of the authors' ``refine_cam.py``."""
import numpy as np
import pytest

from mmseg_weak.models.utils.cam_pseudo_masks import (BASELINE_CRF_CFG,
                                                      PPMG_CRF_CFG,
                                                      add_background,
                                                      argmax_pseudo_mask,
                                                      coefficient_of_variation,
                                                      cov_smooth,
                                                      exp_background,
                                                      labels_from_scores,
                                                      normalize_cams, ppmg,
                                                      ppmg_foreground,
                                                      proportional_pseudo_mask,
                                                      pseudo_mask_from_cams)
from mmseg_weak.utils.cam_io import CAMFileError, load_cams, save_cams

#: CRF that only normalises the clipped scores (0 mean-field iterations):
#: hand-checkable, ``q_fg = s / (s + bg)`` when nothing is clipped.
NO_ITER = dict(PPMG_CRF_CFG, num_iter=0)


# --------------------------------------------------------------- Eq. 1-3
def test_normalize_cams_min_max_per_channel():
    cams = np.array([[[1., 3.], [5., 9.]], [[-2., -2.], [0., 2.]]])
    out = normalize_cams(cams, eps=0.0)
    np.testing.assert_allclose(out[0], [[0, .25], [.5, 1]])
    np.testing.assert_allclose(out[1], [[0, 0], [.5, 1]])
    # the authors' eps in the range
    np.testing.assert_allclose(
        normalize_cams(cams)[0], (cams[0] - 1) / (8 + 1e-5), rtol=1e-6)
    # a constant map becomes 0, not NaN
    assert (normalize_cams(np.full((1, 2, 2), 3.0)) == 0).all()
    assert normalize_cams(np.zeros((0, 4, 5))).shape == (0, 4, 5)


def test_exp_background_and_concat():
    cams = np.array([[[0.5, 0.0], [1.0, 0.2]], [[0.1, 0.3], [0.0, 0.9]]])
    bg = exp_background(cams, alpha=2)
    # 1 - max over classes: [[.5, .7], [0, .1]] squared
    np.testing.assert_allclose(bg, [[.25, .49], [0, .01]], atol=1e-7)
    scores = add_background(cams, alpha=2)
    assert scores.shape == (3, 2, 2)
    np.testing.assert_allclose(scores[0], bg)
    np.testing.assert_allclose(scores[1:], cams)
    const = add_background(cams, alpha=2, background_score=0.1)
    np.testing.assert_allclose(const[0], 0.1)
    # no class: background 1
    np.testing.assert_allclose(exp_background(np.zeros((0, 2, 3)), 5), 1)


# --------------------------------------------------------------- Eq. 5-6
def test_coefficient_of_variation_over_pixels_above_t():
    cams = np.array([[[0.0, 0.04], [0.2, 0.6]],
                     [[0.01, 0.02], [0.03, 0.05]],  # nothing > t
                     [[0.5, 0.5], [0.5, 0.0]]])     # constant above t
    cov = coefficient_of_variation(cams, threshold=0.05)
    # class 0: {0.2, 0.6}: mean 0.4, population std 0.2
    np.testing.assert_allclose(cov, [0.5, 0.0, 0.0], atol=1e-6)


def test_cov_smooth_exponent_and_threshold():
    cams = np.array([[[0.0, 0.04], [0.2, 0.6]]])
    out = cov_smooth(cams, np.array([0.5]), scale=0.3, threshold=0.05)
    # values < t zeroed, the others ** (1 - 0.3 * 0.5) = ** 0.85
    np.testing.assert_allclose(out[0], [[0, 0], [0.2**0.85, 0.6**0.85]],
                               rtol=1e-6)
    assert (out[0, 1, 1] > 0.6)  # smoothing raises values in (0, 1)
    # s = 0: only the thresholding ("PPMG without CVS" in the authors' code)
    np.testing.assert_allclose(
        cov_smooth(cams, np.array([0.5]), scale=0.0)[0],
        [[0, 0], [0.2, 0.6]], rtol=1e-6)
    with pytest.raises(ValueError, match='exponent'):
        cov_smooth(cams, np.array([2.0]), scale=0.5)
    with pytest.raises(ValueError, match='coefficients'):
        cov_smooth(cams, np.array([0.1, 0.2]))


# --------------------------------------------------------------- Eq. 4, 9
def test_labels_from_scores_ties_go_to_first_channel():
    scores = np.array([[[0.2, 0.5, 0.1]],   # background
                       [[0.2, 0.1, 0.7]],   # class 4
                       [[0.1, 0.5, 0.7]]])  # class 9
    # pixel 0: bg == class 4 -> bg; pixel 1: bg == 9 -> bg;
    # pixel 2: 4 == 9 -> 4 (lower channel)
    assert labels_from_scores(scores, [4, 9]).tolist() == [[0, 0, 4]]
    with pytest.raises(ValueError, match='keys'):
        labels_from_scores(scores, [4])


def test_argmax_without_crf():
    cams = np.array([[[0.9, 0.3, 0.0]], [[0.2, 0.6, 0.05]]])
    # bg = (1 - max)^1 = [0.1, 0.4, 0.95]
    out = argmax_pseudo_mask(cams, [2, 5], use_crf=False, alpha=1)
    assert out.dtype == np.uint8
    assert out.tolist() == [[2, 5, 0]]
    out = argmax_pseudo_mask(cams, [2, 5], use_crf=False,
                             background_score=0.7)
    assert out.tolist() == [[2, 0, 0]]


def test_proportional_assignment_hand_computed():
    cam_a = [0.9, 0.5, 0.5, 0.0]
    cam_b = [0.2, 0.4, 0.1, 0.0]
    cams = np.array([[cam_a], [cam_b]])
    fg = np.array([[[1, 1, 1, 0]], [[0, 1, 1, 0]]], bool)
    # P_a = x / (1 + 1.9): [.310, .172, .172]; P_b = x / (1 + 0.5):
    # [-, .267, .067]. Pixel 1 goes to b although cam_a > cam_b there.
    out = proportional_pseudo_mask(cams, [3, 7], fg)
    assert out.tolist() == [[3, 7, 3, 0]]
    # plain argmax of the CAMs would give a at pixel 1
    assert np.argmax(cams[:, 0, 1]) == 0
    # the authors' 1 + sum: P_a = 0.5 / 2 = 0.25 > P_b = 0.3 / 1.3 = 0.23
    # (with sum alone b would win: 0.5 / 1 < 0.3 / 0.3)
    two = np.array([[[0.5, 0.5]], [[0.3, 0.0]]])
    fg_two = np.array([[[1, 1]], [[1, 0]]], bool)
    assert proportional_pseudo_mask(two, [3, 7], fg_two).tolist() == [[3, 3]]
    # equal importance: the lower class; foreground with CAM 0: background
    same = np.array([[[0.5, 0.0]], [[0.5, 0.0]]])
    fg2 = np.ones((2, 1, 2), bool)
    assert proportional_pseudo_mask(same, [3, 7], fg2).tolist() == [[3, 0]]
    with pytest.raises(ValueError, match='shape'):
        proportional_pseudo_mask(cams, [3, 7], fg[:1])


def test_ppmg_foreground_per_class_two_label_crf():
    # with 0 CRF iterations q_fg = s / (s + (1 - s)^alpha)
    smoothed = np.array([[[0.3, 0.5, 0.6, 0.0]], [[0.45, 0.55, 0.0, 0.9]]],
                        np.float32)
    image = np.zeros((1, 4, 3), np.uint8)
    fg = ppmg_foreground(smoothed, image, alpha=1, crf_cfg=NO_ITER)
    # alpha = 1: s > 0.5 (0.5 itself: q = 0.5, not > 0.5)
    assert fg.tolist() == [[[False, False, True, False]],
                           [[False, True, False, True]]]
    # alpha = 3: s > (1 - s)^3 <=> s > 0.3177
    fg = ppmg_foreground(smoothed, image, alpha=3, crf_cfg=NO_ITER)
    assert fg[0].tolist() == [[False, True, True, False]]
    assert fg[1].tolist() == [[True, True, False, True]]


def test_ppmg_uses_smoothed_for_crf_and_plain_for_proportions():
    cams = np.array([[[0.45, 0.8, 0.2]], [[0.3, 0.6, 0.55]]], np.float32)
    smoothed = np.array([[[0.6, 0.9, 0.2]], [[0.3, 0.7, 0.6]]], np.float32)
    image = np.zeros((1, 3, 3), np.uint8)
    out = ppmg(cams, [1, 2], image, smoothed, alpha=1, crf_cfg=NO_ITER)
    # fg_1 = [1, 1, 0] (from smoothed), fg_2 = [0, 1, 1]
    # P_1 = cams_1 / (1 + 1.25), P_2 = cams_2 / (1 + 1.15)
    # pixel 1: 0.8 / 2.25 = .356 vs 0.6 / 2.15 = .279 -> 1
    assert out.tolist() == [[1, 1, 2]]
    # without smoothing pixel 0 (0.45) is not foreground -> background
    assert ppmg(cams, [1, 2], image, None, alpha=1,
                crf_cfg=NO_ITER).tolist() == [[0, 1, 2]]


def test_no_class_gives_background():
    image = np.zeros((3, 4, 3), np.uint8)
    for method in ('ppmg', 'argmax-crf', 'argmax'):
        out = pseudo_mask_from_cams(np.zeros((0, 3, 4)), [], image, method)
        assert out.shape == (3, 4) and (out == 0).all()


def test_image_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match='differs from the CAM size'):
        ppmg(np.zeros((1, 3, 4)), [1], np.zeros((3, 5, 3), np.uint8))
    with pytest.raises(ValueError, match='method'):
        pseudo_mask_from_cams(np.zeros((1, 3, 4)), [1], None, 'crf')


# --------------------------------------------------------------- file I/O
def test_save_load_round_trip_sorted(tmp_path):
    path = str(tmp_path / 'a' / 'x.npz')
    cams = np.random.default_rng(0).random((2, 3, 4)).astype(np.float32)
    save_cams(path, cams, [7, 2])
    loaded, keys = load_cams(path, image_shape=(3, 4), num_classes=21,
                             img_labels=[2, 7])
    assert keys.tolist() == [2, 7]
    np.testing.assert_array_equal(loaded, cams[::-1])
    assert [p.name for p in (tmp_path / 'a').iterdir()] == ['x.npz']


@pytest.mark.parametrize('case, match', [
    ('missing', 'not found'),
    ('shape', 'differs from the image size'),
    ('nan', 'NaN'),
    ('extra_class', 'not labelled with'),
    ('missing_class', 'no CAM for the labelled classes'),
    ('background_key', '0 is the background'),
    ('out_of_range', r'outside \[1, 21\)'),
    ('duplicate', 'duplicate'),
    ('count', 'keys for'),
    ('no_keys_array', 'no array'),
    ('garbage', 'unreadable'),
    ('pickle', 'allow_pickle'),
])
def test_load_cams_errors_name_the_file(tmp_path, case, match):
    path = str(tmp_path / 'img.npz')
    cam = np.ones((1, 3, 4), np.float32)
    kwargs = dict(image_shape=(3, 4), num_classes=21, img_labels=[5])
    if case == 'shape':
        np.savez(path, keys=[5], cam=np.ones((1, 4, 4), np.float32))
    elif case == 'nan':
        np.savez(path, keys=[5], cam=cam * np.nan)
    elif case == 'extra_class':
        np.savez(path, keys=[5, 6], cam=np.ones((2, 3, 4), np.float32))
    elif case == 'missing_class':
        kwargs['img_labels'] = [5, 8]
        np.savez(path, keys=[5], cam=cam)
    elif case == 'background_key':
        np.savez(path, keys=[0], cam=cam)
    elif case == 'out_of_range':
        np.savez(path, keys=[21], cam=cam)
    elif case == 'duplicate':
        np.savez(path, keys=[5, 5], cam=np.ones((2, 3, 4), np.float32))
    elif case == 'count':
        np.savez(path, keys=[5, 6], cam=cam)
    elif case == 'no_keys_array':
        np.savez(path, cam=cam)
    elif case == 'garbage':
        with open(path, 'w') as f:
            f.write('not a zip')
    elif case == 'pickle':
        path = str(tmp_path / 'img.npy')
        np.save(path, {4: cam[0]}, allow_pickle=True)
    if case == 'missing':
        path = str(tmp_path / 'none.npz')
    with pytest.raises(CAMFileError, match=match) as err:
        load_cams(path, **kwargs)
    assert path in str(err.value)


def test_load_seam_pmm_npy_dict_keys_shifted(tmp_path):
    path = str(tmp_path / 'img.npy')
    maps = {3: np.full((2, 2), .5, np.float16), 0: np.zeros((2, 2))}
    np.save(path, maps, allow_pickle=True)
    cams, keys = load_cams(path, allow_pickle=True, img_labels=[1, 4])
    assert keys.tolist() == [1, 4] and cams.dtype == np.float32
    np.testing.assert_allclose(cams[1], 0.5)


# --------------------------------------------------- the authors' algorithm
def _oracle_crf(img, probs, gaussian_compat, t=10):
    """The authors' ``crf_inference`` (pydensecrf, unnormalised input)."""
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax
    h, w = img.shape[:2]
    d = dcrf.DenseCRF2D(w, h, probs.shape[0])
    d.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(probs)))
    d.addPairwiseGaussian(3, compat=gaussian_compat)
    d.addPairwiseBilateral(
        sxy=80, srgb=13, rgbim=np.copy(img), compat=10)
    return np.array(d.inference(t)).reshape((probs.shape[0], h, w))


def _oracle_ppmg(img, cam_dict, alpha, cam_thresh=0.05, cv_scale=0.3):
    """Literal re-implementation of ``get_CoV`` + ``ppmg`` of PMM's
    ``refine_cam.py`` (dict of 0-based classes, labels k + 1)."""
    cv = {}
    for k, v in cam_dict.items():
        sel = v[v > cam_thresh]
        cv[k] = 0 if sel.size == 0 else sel.std() / (sel + 1e-8).mean(
        ) * cv_scale
    foreground = [np.ones(img.shape[:2], np.uint8)]
    importance = [foreground[0]]
    keys = [0]
    for k, v in cam_dict.items():
        v = np.array([v])
        cvs = np.copy(v)
        cvs[cvs < cam_thresh] = 0
        cvs = cvs**(1 - cv[k])
        bg = np.power(1 - np.max(cvs, axis=0, keepdims=True), alpha)
        crf_k = _oracle_crf(img, np.concatenate((bg, cvs), 0), 10)[1]
        fg_k = (crf_k > 0.5).astype(np.float64)
        foreground.append(fg_k)
        importance.append(v[0] / (1 + (v[0] * fg_k).sum()))
        keys.append(k + 1)
        foreground[0] = foreground[0] * (fg_k == 0)
        importance[0] = foreground[0]
    mask = np.argmax(np.stack(foreground) * np.stack(importance), 0)
    return np.array(keys)[mask]


def _oracle_argmax_crf(img, cam_dict, alpha):
    """The authors' ``_crf_with_alpha`` then argmax (SEAM's CRF)."""
    v = np.array(list(cam_dict.values()))
    bg = np.power(1 - np.max(v, axis=0, keepdims=True), alpha)
    crf = _oracle_crf(img, np.concatenate((bg, v), 0), 3)
    keys = np.array([0] + [k + 1 for k in cam_dict])
    return keys[np.argmax(crf, 0)]


def _random_scene(seed, h=28, w=36, classes=(2, 6, 14)):
    """Overlapping blob CAMs (normalised like the authors' files) and an
    image with matching coloured regions plus noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]
    img = rng.integers(0, 40, (h, w, 3)).astype(np.float64)
    cam_dict = {}
    for c in classes:
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        sy, sx = rng.uniform(3, 9), rng.uniform(3, 9)
        blob = np.exp(-((ys - cy)**2 / (2 * sy**2) + (xs - cx)**2 /
                        (2 * sx**2)))
        blob = blob * rng.uniform(0.5, 1.0, (h, w))**0.3
        img[blob > 0.4] += rng.integers(60, 200, 3)
        cam = blob - blob.min()
        cam_dict[c] = (cam / (cam.max() + 1e-5)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), cam_dict


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('backend', ['pydensecrf', 'torch'])
def test_ppmg_matches_authors_code(seed, backend):
    pytest.importorskip('pydensecrf')
    img, cam_dict = _random_scene(seed)
    expected = _oracle_ppmg(img, cam_dict, alpha=11)
    keys = [k + 1 for k in cam_dict]
    cams = np.stack(list(cam_dict.values()))
    ours = pseudo_mask_from_cams(
        cams, keys, img, 'ppmg', alpha=11, normalize=False,
        crf_cfg=dict(PPMG_CRF_CFG, backend=backend))
    assert len(np.unique(expected)) >= 3  # a non-trivial case
    if backend == 'pydensecrf':
        np.testing.assert_array_equal(ours, expected)
    else:  # float32 round-off of the lattice: at most a pixel or two
        assert (ours != expected).mean() <= 2 / ours.size
    # and PPMG is not the plain argmax of the same CAMs
    plain = pseudo_mask_from_cams(cams, keys, None, 'argmax',
                                  normalize=False, alpha=11)
    assert (plain != ours).any()


@pytest.mark.parametrize('seed', [0, 3])
def test_argmax_crf_matches_authors_code(seed):
    pytest.importorskip('pydensecrf')
    img, cam_dict = _random_scene(seed)
    expected = _oracle_argmax_crf(img, cam_dict, alpha=4)
    ours = pseudo_mask_from_cams(
        np.stack(list(cam_dict.values())), [k + 1 for k in cam_dict], img,
        'argmax-crf', alpha=4, normalize=False,
        crf_cfg=dict(BASELINE_CRF_CFG, backend='pydensecrf'))
    np.testing.assert_array_equal(ours, expected)
