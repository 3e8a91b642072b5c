"""From class activation maps (CAMs) to pseudo-masks: the steps of
*Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*.

Li et al., ICCV 2021, Sec. 3.1-3.3, Eq. 1-9 and Alg. 1
(https://arxiv.org/abs/2108.12995). Plain numpy functions shared by the data
transforms of ``mmseg_weak.datasets.transforms.cam_to_pseudo_mask`` and by
``tools/generate_pseudo_masks.py``.

CAM file layout
---------------
One file per image, ``<cam_dir>/<img_id>.npz`` (``numpy.savez``, no pickle),
holding the CAMs of the classes the image is labelled with only:

- ``keys``: ``(K,)`` int64, the *dataset* class indices of those classes
  (VOC: 1-20; 0 is the background and never has a CAM), strictly increasing;
- ``cam``: ``(K, H, W)`` float (16, 32 or 64 bit; read as float32) at the
  image's resolution, non-negative scores of any scale (raw summed
  activations or already normalised maps: Eq. 1 is applied again anyway).

An image with no labelled class has ``K = 0`` (its pseudo-mask is all
background). This is the layout of SEAM / PMM (a dict of the labelled classes'
maps at image size: the PPMG loop runs over the labelled classes, and a
dense ``(C, H, W)`` array would store 21 maps for the 1-3 classes of a VOC
image and could not tell "not labelled" from "zero activation") without
pickle and with the indices used by the label maps and ``gt_img_labels``,
so there is no off-by-one between files and masks. SEAM / PMM's own ``.npy``
dicts (``{0-based foreground index: (H, W) map}``) are read too by
:func:`load_cams` with ``allow_pickle=True`` (their keys are shifted by one).

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
import os
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'CAMFileError', 'CAM_FILE_SUFFIX', 'PPMG_CRF_CFG', 'BASELINE_CRF_CFG',
    'cam_file_path', 'save_cams', 'load_cams', 'check_cams',
    'normalize_cams', 'exp_background', 'add_background',
    'coefficient_of_variation', 'cov_smooth', 'run_crf', 'labels_from_scores',
    'argmax_pseudo_mask', 'ppmg_foreground', 'proportional_pseudo_mask',
    'ppmg', 'pseudo_mask_from_cams'
]

CAM_FILE_SUFFIX = '.npz'

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


class CAMFileError(ValueError):
    """A CAM file is missing, malformed or inconsistent with its image."""


def cam_file_path(cam_dir: str,
                  img_id: str,
                  suffix: str = CAM_FILE_SUFFIX) -> str:
    """Path of the CAM file of ``img_id``: ``<cam_dir>/<img_id><suffix>``."""
    return osp.join(cam_dir, img_id + suffix)


def save_cams(path: str, cams: np.ndarray, keys: Sequence[int]) -> None:
    """Write one CAM file (layout of the module docstring) atomically.

    The arrays go to a temporary file in the same folder, which is then
    renamed, so an interrupted run never leaves a truncated file.

    Args:
        path (str): Output ``.npz`` path (the folder is created).
        cams (np.ndarray): ``(K, H, W)`` maps of the labelled classes.
        keys (Sequence[int]): ``(K,)`` dataset class indices (``>= 1``).
    """
    cams = np.asarray(cams, dtype=np.float32)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    check_cams(cams, keys, path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp.npz')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, keys=keys, cam=cams)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def check_cams(cams: np.ndarray,
               keys: np.ndarray,
               path: str,
               image_shape: Optional[Tuple[int, int]] = None,
               num_classes: Optional[int] = None,
               img_labels: Optional[Sequence[int]] = None) -> None:
    """Validate CAMs and their class indices; raise naming ``path``.

    Args:
        cams (np.ndarray): ``(K, H, W)`` maps.
        keys (np.ndarray): ``(K,)`` class indices.
        path (str): The file, for the error message.
        image_shape (tuple[int, int], optional): ``(H, W)`` of the image.
        num_classes (int, optional): Classes of the dataset (background
            included); keys must be in ``[1, num_classes)``.
        img_labels (Sequence[int], optional): Foreground classes the image is
            labelled with; the keys must be exactly these.

    Raises:
        CAMFileError: On any inconsistency.
    """
    if cams.ndim != 3:
        raise CAMFileError(f'{path}: cam must be (K, H, W), got shape '
                           f'{tuple(cams.shape)}')
    if keys.ndim != 1 or len(keys) != cams.shape[0]:
        raise CAMFileError(f'{path}: {len(keys)} keys for {cams.shape[0]} '
                           'CAM channels')
    if len(np.unique(keys)) != len(keys):
        raise CAMFileError(f'{path}: duplicate class keys {keys.tolist()}')
    if (keys < 1).any():
        raise CAMFileError(
            f'{path}: class keys {keys[keys < 1].tolist()} < 1 (keys are '
            'dataset class indices; 0 is the background, which has no CAM)')
    if num_classes is not None and (keys >= num_classes).any():
        raise CAMFileError(
            f'{path}: class keys {keys[keys >= num_classes].tolist()} '
            f'outside [1, {num_classes})')
    if not np.isfinite(cams).all():
        raise CAMFileError(f'{path}: CAMs contain NaN or inf')
    if image_shape is not None and tuple(cams.shape[1:]) != tuple(
            image_shape[:2]):
        raise CAMFileError(
            f'{path}: CAM size {cams.shape[2]}x{cams.shape[1]} differs from '
            f'the image size {image_shape[1]}x{image_shape[0]}')
    if img_labels is not None:
        labels = sorted({int(c) for c in img_labels})
        extra = sorted(set(keys.tolist()) - set(labels))
        missing = sorted(set(labels) - set(keys.tolist()))
        if extra:
            raise CAMFileError(f'{path}: CAMs of classes {extra} that the '
                               f'image is not labelled with ({labels})')
        if missing:
            raise CAMFileError(f'{path}: no CAM for the labelled classes '
                               f'{missing}')


def load_cams(path: str,
              allow_pickle: bool = False,
              **check_kwargs) -> Tuple[np.ndarray, np.ndarray]:
    """Read and validate one CAM file.

    Args:
        path (str): A ``.npz`` file (layout of the module docstring) or, with
            ``allow_pickle=True``, a SEAM / PMM ``.npy`` dict whose keys are
            0-based foreground indices (shifted by one here).
        allow_pickle (bool): Allow the pickled ``.npy`` dicts (only for
            trusted files). Defaults to False.
        **check_kwargs: :func:`check_cams` arguments (``image_shape``,
            ``num_classes``, ``img_labels``).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(K, H, W)`` float32 CAMs and
        ``(K,)`` int64 class indices, sorted by class index.

    Raises:
        CAMFileError: Missing, unreadable or inconsistent file.
    """
    if not osp.isfile(path):
        raise CAMFileError(f'{path}: CAM file not found')
    try:
        if path.endswith('.npy'):
            if not allow_pickle:
                raise CAMFileError(
                    f'{path}: SEAM/PMM .npy CAM dicts are pickled; pass '
                    'allow_pickle=True (trusted files only) or convert them '
                    f'to {CAM_FILE_SUFFIX}')
            data = np.load(path, allow_pickle=True).item()
            if not isinstance(data, dict):
                raise CAMFileError(f'{path}: not a dict of CAMs')
            keys = np.array([int(k) + 1 for k in data], dtype=np.int64)
            cams = np.stack([np.asarray(v) for v in data.values()]) \
                if data else np.zeros((0, 0, 0), np.float32)
        else:
            with np.load(path, allow_pickle=False) as data:
                missing = {'keys', 'cam'} - set(data.files)
                if missing:
                    raise CAMFileError(f'{path}: no array(s) '
                                       f'{sorted(missing)} in the CAM file')
                keys, cams = data['keys'], data['cam']
    except CAMFileError:
        raise
    except Exception as e:  # zip / header / pickle errors
        raise CAMFileError(f'{path}: unreadable CAM file ({e})') from None
    if not (np.issubdtype(cams.dtype, np.floating)
            and np.issubdtype(keys.dtype, np.integer)):
        raise CAMFileError(f'{path}: cam must be float and keys integer, got '
                           f'{cams.dtype} and {keys.dtype}')
    keys = keys.astype(np.int64).reshape(-1)
    cams = cams.astype(np.float32)
    if cams.size == 0 and len(keys) == 0 and 'image_shape' in check_kwargs \
            and check_kwargs['image_shape'] is not None:
        cams = np.zeros((0, *check_kwargs['image_shape'][:2]), np.float32)
    check_cams(cams, keys, path, **check_kwargs)
    order = np.argsort(keys, kind='stable')
    return np.ascontiguousarray(cams[order]), keys[order]


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
    from ..models.utils.dense_crf import dense_crf
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
    lut = np.concatenate([[0], np.asarray(keys, dtype=np.int64)])
    if lut.max() > 255:
        raise ValueError(f'class index {lut.max()} does not fit in uint8')
    if len(lut) != scores.shape[0]:
        raise ValueError(f'{len(keys)} keys for {scores.shape[0] - 1} '
                         'foreground channels')
    return lut[np.argmax(scores, axis=0)].astype(np.uint8)


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
    if method not in ('ppmg', 'argmax-crf', 'argmax'):
        raise ValueError("method must be 'ppmg', 'argmax-crf' or 'argmax', "
                         f'got {method!r}')
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
