"""From class activation maps (CAMs) to pseudo-masks: the steps of
*Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*.

Li et al., ICCV 2021, Sec. 3.1-3.3, Eq. 1-9 and Alg. 1
(https://arxiv.org/abs/2108.12995). Plain numpy functions (the dense CRF
aside) on ``(K, H, W)`` maps of the classes ``keys`` (the file layout is in
:mod:`mmseg_weak.utils.cam_io`), wrapped by the data transforms of
``mmseg_weak.datasets.transforms.cam_to_pseudo_mask``.

Differences to the paper where its text is vague, settled by the authors'
code (``pipline/refine_cam.py`` of github.com/Eli-YiLi/PMM):

- Eq. 1 divides by ``max - min + 1e-5``;
- Eq. 5 is computed on the normalised map over pixels ``> t`` (population
  std over mean); a class without such pixels has ``cv = 0``;
- Eq. 6 first sets values ``< t`` to 0, then raises to ``1 - s * cv``;
- Eq. 7 runs one two-label CRF per class on ``(bg(X_c), X_c)`` with the
  *smoothed* map; ``fg`` keeps pixels whose CRF foreground probability is
  ``> 0.5``; the CRF uses a Gaussian compatibility of 10 (the baseline CRF of
  Eq. 4, as in SEAM, uses 3);
- Eq. 8 uses the *unsmoothed* normalised map and divides by
  ``1 + sum(X_c * fg_c)``;
- Eq. 9: the background channel is 1 where no class is foreground, 0
  elsewhere; ties of ``argmax`` go to the lowest channel (background first,
  then classes in increasing index). No pixel is set to ignore.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from ...utils.choices import check_choice
from ...utils.soft_maps import labels_from_soft_map
from .dense_crf import dense_crf

__all__ = [
    'PPMG_CRF_CFG', 'BASELINE_CRF_CFG', 'normalize_cams', 'exp_background',
    'add_background', 'coefficient_of_variation', 'cov_smooth', 'run_crf',
    'labels_from_scores', 'argmax_pseudo_mask', 'ppmg_foreground',
    'proportional_pseudo_mask', 'ppmg', 'pseudo_mask_from_cams'
]


#: Dense CRF of PPMG (Eq. 7), as in the authors' ``refine_cam.py``.


PPMG_CRF_CFG: Dict = dict(
    num_iter=10,
    gaussian_sxy=3.0,
    gaussian_compat=10.0,
    bilateral_sxy=80.0,
    bilateral_srgb=13.0,
    bilateral_compat=10.0)


#: Dense CRF of the argmax baseline (Eq. 4), as in SEAM's ``crf_inference``.


BASELINE_CRF_CFG: Dict = dict(PPMG_CRF_CFG, gaussian_compat=3.0)


def normalize_cams(cams: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Min-max normalisation of every map (Eq. 1).

    ``(X_c - min X_c) / (max X_c - min X_c + eps)``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` maps.
        eps (float): Added to the range (the authors' 1e-5).

    Returns:
        np.ndarray: ``(K, H, W)`` float32 maps in ``[0, 1)``.
    """
    cams = np.asarray(cams, dtype=np.float32)
    if cams.shape[0] == 0:
        return cams.copy()
    low = cams.min(axis=(1, 2), keepdims=True)
    high = cams.max(axis=(1, 2), keepdims=True)
    return (cams - low) / (high - low + eps)


def exp_background(cams: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential background score (Eq. 2): ``(1 - max_c X_c) ** alpha``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps (``K = 0`` gives a
            background of 1).
        alpha (float): The power (larger: less background).

    Returns:
        np.ndarray: ``(H, W)`` float32 background score.
    """
    cams = np.asarray(cams, dtype=np.float32)
    if cams.shape[0] == 0:
        return np.ones(cams.shape[1:], np.float32)
    top = np.clip(cams.max(axis=0), 0, 1)
    return np.power(1 - top, alpha).astype(np.float32)


def add_background(cams: np.ndarray,
                   alpha: float,
                   background_score: Optional[float] = None) -> np.ndarray:
    """Background and foreground scores (Eq. 3): ``concat(bg(X), X)``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps.
        alpha (float): Power of the background (Eq. 2).
        background_score (float, optional): A constant background score
            instead of Eq. 2 (how the authors evaluate raw CAMs, e.g. 0.1).

    Returns:
        np.ndarray: ``(K + 1, H, W)`` float32 scores, background first.
    """
    cams = np.asarray(cams, dtype=np.float32)
    if background_score is None:
        bg = exp_background(cams, alpha)
    else:
        bg = np.full(cams.shape[1:], background_score, np.float32)
    return np.concatenate([bg[None], cams], axis=0)


def coefficient_of_variation(cams: np.ndarray,
                             threshold: float = 0.05) -> np.ndarray:
    """Coefficient of variation of every map's confident pixels (Eq. 5).

    ``std(X_c[X_c > t]) / mean(X_c[X_c > t])`` (population std); 0 for a map
    with no pixel above ``t``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps.
        threshold (float): ``t``. Defaults to 0.05.

    Returns:
        np.ndarray: ``(K,)`` float32 coefficients (not yet scaled by ``s``).
    """
    cams = np.asarray(cams, dtype=np.float32)
    cov = np.zeros(cams.shape[0], np.float32)
    for c, cam in enumerate(cams):
        values = cam[cam > threshold].astype(np.float64)
        if values.size:
            cov[c] = values.std() / (values.mean() + 1e-8)
    return cov


def cov_smooth(cams: np.ndarray,
               cov: np.ndarray,
               scale: float = 0.3,
               threshold: float = 0.05) -> np.ndarray:
    """Coefficient of Variation Smoothing (Eq. 6).

    Values below ``t`` are set to 0, the others raised to ``1 - s * cv_c``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps.
        cov (np.ndarray): ``(K,)`` coefficients of variation (Eq. 5).
        scale (float): ``s``. Defaults to 0.3.
        threshold (float): ``t``. Defaults to 0.05.

    Returns:
        np.ndarray: ``(K, H, W)`` float32 smoothed maps.

    Raises:
        ValueError: A non-positive exponent (``s * cv >= 1``).
    """
    cams = np.asarray(cams, dtype=np.float32)
    exponent = 1 - scale * np.asarray(cov, dtype=np.float32).reshape(-1)
    if len(exponent) != cams.shape[0]:
        raise ValueError(f'{len(exponent)} coefficients for '
                         f'{cams.shape[0]} maps')
    if (exponent <= 0).any():
        raise ValueError(f'smoothing exponents 1 - s * cv = '
                         f'{exponent.tolist()} must be > 0 (s={scale})')
    kept = np.where(cams < threshold, 0, cams)
    return np.power(kept, exponent[:, None, None]).astype(np.float32)


def run_crf(scores: np.ndarray, image: np.ndarray, **crf_cfg) -> np.ndarray:
    """Dense CRF of ``scores`` on ``image``.

    The scores are passed as they are, like the authors' unnormalised
    ``concat(bg, X)``: the unary is ``-log(clip(p, 1e-5, 1))``
    (``mmseg_weak.models.utils.dense_crf``).

    Args:
        scores (np.ndarray): ``(C, H, W)`` non-negative scores.
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB image.
        **crf_cfg: :func:`~mmseg_weak.models.utils.dense_crf.dense_crf`
            arguments (``num_iter``, kernel parameters, ``backend``).

    Returns:
        np.ndarray: ``(C, H, W)`` float32 marginals.
    """
    out = dense_crf(
        np.ascontiguousarray(scores, dtype=np.float32),
        np.ascontiguousarray(image, dtype=np.uint8), **crf_cfg)
    return np.asarray(out, dtype=np.float32)


def _check_image(image: np.ndarray, cams: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be (H, W, 3), got {image.shape}')
    if image.shape[:2] != cams.shape[1:]:
        raise ValueError(
            f'image size {image.shape[1]}x{image.shape[0]} differs from the '
            f'CAM size {cams.shape[2]}x{cams.shape[1]}')
    if image.dtype != np.uint8:
        image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image


def labels_from_scores(scores: np.ndarray, keys: Sequence[int]) -> np.ndarray:
    """``argmax`` over channels ``(background, keys...)`` as a label map.

    Ties go to the first channel (background, then the lower class).

    Args:
        scores (np.ndarray): ``(K + 1, H, W)`` scores, background first.
        keys (Sequence[int]): ``(K,)`` class indices of channels ``1..K``.

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map (class indices).
    """
    if len(keys) + 1 != scores.shape[0]:
        raise ValueError(f'{len(keys)} keys for {scores.shape[0] - 1} '
                         'foreground channels')
    return labels_from_soft_map(
        scores, np.concatenate([[0], np.asarray(keys, dtype=np.int64)]))


def argmax_pseudo_mask(cams: np.ndarray,
                       keys: Sequence[int],
                       image: Optional[np.ndarray] = None,
                       alpha: float = 11.0,
                       use_crf: bool = True,
                       background_score: Optional[float] = None,
                       crf_cfg: Optional[dict] = None) -> np.ndarray:
    """The classic pseudo-mask (Eq. 2-4): ``argmax(crf(I, concat(bg, X)))``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps.
        keys (Sequence[int]): Their class indices.
        image (np.ndarray, optional): ``(H, W, 3)`` uint8 RGB (for the CRF).
        alpha (float): Background power (Eq. 2).
        use_crf (bool): Run the CRF (False: argmax of the scores).
        background_score (float, optional): Constant background instead of
            Eq. 2.
        crf_cfg (dict, optional): CRF arguments; defaults to
            :data:`BASELINE_CRF_CFG`.

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    scores = add_background(cams, alpha, background_score)
    if use_crf and len(keys):
        if image is None:
            raise ValueError('the CRF needs the image')
        image = _check_image(image, scores)
        scores = run_crf(scores, image, **(crf_cfg or BASELINE_CRF_CFG))
    return labels_from_scores(scores, keys)


def ppmg_foreground(smoothed: np.ndarray,
                    image: np.ndarray,
                    alpha: float = 11.0,
                    fg_threshold: float = 0.5,
                    crf_cfg: Optional[dict] = None) -> np.ndarray:
    """Per-class binary foreground of PPMG (Eq. 7).

    For each class alone, ``fg(crf(I, concat(bg(X_c), X_c))) `` where
    ``bg(X_c) = (1 - X_c) ** alpha`` and ``fg`` keeps pixels whose CRF
    foreground probability is ``> fg_threshold``.

    Args:
        smoothed (np.ndarray): ``(K, H, W)`` smoothed maps (Eq. 6).
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB image.
        alpha (float): Background power. Defaults to 11.
        fg_threshold (float): Defaults to 0.5.
        crf_cfg (dict, optional): CRF arguments; defaults to
            :data:`PPMG_CRF_CFG`.

    Returns:
        np.ndarray: ``(K, H, W)`` bool foreground masks.
    """
    smoothed = np.asarray(smoothed, dtype=np.float32)
    image = _check_image(image, smoothed)
    masks = np.zeros(smoothed.shape, bool)
    for c, cam in enumerate(smoothed):
        scores = add_background(cam[None], alpha)
        probs = run_crf(scores, image, **(crf_cfg or PPMG_CRF_CFG))
        masks[c] = probs[1] > fg_threshold
    return masks


def proportional_pseudo_mask(cams: np.ndarray, keys: Sequence[int],
                             foreground: np.ndarray) -> np.ndarray:
    """Proportions and label assignment of PPMG (Eq. 8-9).

    ``P_c = X_c / (1 + sum(X_c * fg_c))``; a pixel takes the class with the
    largest ``fg_c * P_c``, the background where no class is foreground.

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised (unsmoothed) maps.
        keys (Sequence[int]): Their class indices.
        foreground (np.ndarray): ``(K, H, W)`` bool masks (Eq. 7).

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    cams = np.asarray(cams, dtype=np.float64)
    fg = np.asarray(foreground, dtype=bool)
    if fg.shape != cams.shape:
        raise ValueError(f'foreground {fg.shape} and CAMs {cams.shape} '
                         'differ in shape')
    mass = (cams * fg).sum(axis=(1, 2), keepdims=True)
    importance = np.where(fg, cams / (1 + mass), 0)
    background = (~fg.any(axis=0)).astype(np.float64)
    scores = np.concatenate([background[None], importance], axis=0)
    return labels_from_scores(scores, keys)


def ppmg(cams: np.ndarray,
         keys: Sequence[int],
         image: np.ndarray,
         smoothed: Optional[np.ndarray] = None,
         alpha: float = 11.0,
         fg_threshold: float = 0.5,
         crf_cfg: Optional[dict] = None) -> np.ndarray:
    """Proportional Pseudo-mask Generation (Alg. 1, steps 4-6).

    Args:
        cams (np.ndarray): ``(K, H, W)`` normalised maps (Eq. 1).
        keys (Sequence[int]): Their class indices.
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB image.
        smoothed (np.ndarray, optional): CVS maps (Eq. 6) for the CRF; None
            uses ``cams`` ("PPMG without CVS").
        alpha (float): Background power. Defaults to 11.
        fg_threshold (float): CRF foreground threshold. Defaults to 0.5.
        crf_cfg (dict, optional): CRF arguments (:data:`PPMG_CRF_CFG`).

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    cams = np.asarray(cams, dtype=np.float32)
    fg = ppmg_foreground(cams if smoothed is None else smoothed, image, alpha,
                         fg_threshold, crf_cfg)
    return proportional_pseudo_mask(cams, keys, fg)


def pseudo_mask_from_cams(cams: np.ndarray,
                          keys: Sequence[int],
                          image: Optional[np.ndarray],
                          method: str = 'ppmg',
                          alpha: float = 11.0,
                          cov_scale: Optional[float] = None,
                          threshold: float = 0.05,
                          fg_threshold: float = 0.5,
                          background_score: Optional[float] = None,
                          normalize: bool = True,
                          crf_cfg: Optional[dict] = None) -> np.ndarray:
    """The whole CAM -> pseudo-mask chain of one image.

    - ``'ppmg'``: Alg. 1 (Eq. 1, 5-9); ``cov_scale=0`` skips the smoothing
      (only values ``< threshold`` are zeroed, as the authors' code does);
    - ``'argmax-crf'``: Eq. 1-4 (optionally with CVS when ``cov_scale > 0``:
      the "CRF & CVS" row of Table 2);
    - ``'argmax'``: Eq. 1-3 and ``argmax`` without CRF (the "CAM" row, with a
      constant ``background_score`` as the authors evaluate CAMs).

    Args:
        cams (np.ndarray): ``(K, H, W)`` CAMs.
        keys (Sequence[int]): Their class indices.
        image (np.ndarray, optional): ``(H, W, 3)`` uint8 RGB image.
        method (str): ``'ppmg'``, ``'argmax-crf'`` or ``'argmax'``.
        alpha (float): Background power (Eq. 2). Defaults to 11.
        cov_scale (float, optional): ``s`` of Eq. 6. None: 0.3 for
            ``'ppmg'``, no smoothing for the argmax methods.
        threshold (float): ``t`` of Eq. 5-6. Defaults to 0.05.
        fg_threshold (float): CRF foreground threshold of PPMG.
        background_score (float, optional): Constant background for the
            argmax methods.
        normalize (bool): Apply Eq. 1 first. Defaults to True.
        crf_cfg (dict, optional): CRF arguments (default per method).

    Returns:
        np.ndarray: ``(H, W)`` uint8 label map.
    """
    check_choice('method', method, ('ppmg', 'argmax-crf', 'argmax'))
    if cov_scale is None:
        cov_scale = 0.3 if method == 'ppmg' else 0.0
    cams = np.asarray(cams, dtype=np.float32)
    if normalize:
        cams = normalize_cams(cams)
    smoothed = None
    if method == 'ppmg' or cov_scale > 0:
        smoothed = cov_smooth(cams, coefficient_of_variation(cams, threshold),
                              cov_scale, threshold)
    if method == 'ppmg':
        return ppmg(cams, keys, image, smoothed, alpha, fg_threshold, crf_cfg)
    return argmax_pseudo_mask(
        cams if smoothed is None else smoothed,
        keys,
        image,
        alpha,
        use_crf=method == 'argmax-crf',
        background_score=background_score,
        crf_cfg=crf_cfg)
