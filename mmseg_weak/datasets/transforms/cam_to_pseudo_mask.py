"""CAM -> pseudo-mask steps of *Pseudo-mask Matters* as data transforms.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021, Sec. 3.1-3.3 (https://arxiv.org/abs/2108.12995). One transform
per step, each a thin wrapper of a function of
:mod:`mmseg_weak.models.utils.cam_pseudo_masks` (shared with
``tools/generate_pseudo_masks.py``). PPMG (Alg. 1) as a pipeline::

    dict(type='LoadImageFromFile'),
    dict(type='LoadCAMs', cam_dir='work_dirs/cams'),
    dict(type='NormalizeCAMs'),                        # Eq. 1
    dict(type='CoVSmoothCAMs', scale=0.3, threshold=0.05),  # Eq. 5-6
    dict(type='ProportionalPseudoMask', alpha=11),     # Eq. 7-9
    # ... geometric transforms, PackWeakSegInputs

and the classic baseline (Eq. 1-4)::

    dict(type='NormalizeCAMs'),
    dict(type='AddCAMBackground', alpha=11),           # Eq. 2-3
    dict(type='ArgmaxPseudoMask', use_crf=True),       # Eq. 4
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...models.utils.cam_pseudo_masks import (BASELINE_CRF_CFG, PPMG_CRF_CFG,
                                              add_background,
                                              coefficient_of_variation,
                                              cov_smooth, normalize_cams, ppmg,
                                              run_crf)
from ...utils.soft_maps import (PseudoLabelError, describe, get_soft_map,
                                labels_from_soft_map, rgb_image, set_seg_map,
                                set_soft_map)

__all__ = [
    'NormalizeCAMs', 'AddCAMBackground', 'CoVSmoothCAMs',
    'ProportionalPseudoMask', 'ArgmaxPseudoMask'
]

_CAM_HINT = 'add LoadCAMs and the previous CAM steps'


def _crf_cfg(base: dict, crf_cfg: Optional[dict],
             backend: Optional[str]) -> dict:
    cfg = dict(base, **(crf_cfg or {}))
    if backend is not None:
        cfg['backend'] = backend
    return cfg


def _check_normalised(results: dict, key: str, cams: np.ndarray,
                      transform: str) -> None:
    if cams.size and (cams.min() < 0 or cams.max() > 1):
        raise PseudoLabelError(
            f'{describe(results, transform)}: {key!r} holds values in '
            f'[{cams.min():.3g}, {cams.max():.3g}], not normalised maps in '
            '[0, 1]; add NormalizeCAMs before this step')


@TRANSFORMS.register_module()
class NormalizeCAMs(BaseTransform):
    """Min-max normalisation of every CAM (Eq. 1).

    ``(X_c - min X_c) / (max X_c - min X_c + eps)``.

    Required Keys:

    - ``cam_key`` (``(K, H, W)`` float, foreground classes) and
      ``cam_key + '_classes'`` (their class ids)

    Modified Keys:

    - ``cam_key`` (float32, in ``[0, 1)``)

    Args:
        cam_key (str): Key of the CAMs. Defaults to ``'cams'``.
        eps (float): Added to the range. Defaults to 1e-5 (the authors').
    """

    def __init__(self, cam_key: str = 'cams', eps: float = 1e-5) -> None:
        self.cam_key = cam_key
        self.eps = eps

    def transform(self, results: dict) -> dict:
        cams, classes = get_soft_map(results, self.cam_key, 'NormalizeCAMs',
                                     background=False, hint=_CAM_HINT)
        set_soft_map(results, self.cam_key, normalize_cams(cams, self.eps),
                     classes)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cam_key={self.cam_key!r}, '
                f'eps={self.eps})')


@TRANSFORMS.register_module()
class AddCAMBackground(BaseTransform):
    """Exponential background score and its concatenation (Eq. 2-3).

    ``concat((1 - max_c X_c) ** alpha, X)``, or a constant background score
    (how the authors evaluate raw CAMs).

    Required Keys:

    - ``cam_key`` (``(K, H, W)`` normalised CAMs) and its ``_classes``

    Added Keys:

    - ``out_key`` (np.float32, ``(K + 1, H, W)``, background first) and
      ``out_key + '_classes'`` (``background_index`` then the CAM classes)

    Args:
        alpha (float): Background power. Defaults to 11.
        background_score (float, optional): Constant background instead of
            Eq. 2. Defaults to None.
        cam_key (str): Input key. Defaults to ``'cams'`` (``'cams_smoothed'``
            gives the "CRF & CVS" setting of Table 2).
        out_key (str): Output key. Defaults to ``'cam_scores'``.
        background_index (int): Class id of the background. Defaults to 0.
    """

    def __init__(self,
                 alpha: float = 11.0,
                 background_score: Optional[float] = None,
                 cam_key: str = 'cams',
                 out_key: str = 'cam_scores',
                 background_index: int = 0) -> None:
        self.background_index = background_index
        self.alpha = alpha
        self.background_score = background_score
        self.cam_key = cam_key
        self.out_key = out_key

    def transform(self, results: dict) -> dict:
        cams, classes = get_soft_map(results, self.cam_key,
                                     'AddCAMBackground', background=False,
                                     background_index=self.background_index,
                                     hint=_CAM_HINT)
        _check_normalised(results, self.cam_key, cams, 'AddCAMBackground')
        set_soft_map(results, self.out_key,
                     add_background(cams, self.alpha, self.background_score),
                     np.concatenate([[self.background_index], classes]))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'background_score={self.background_score}, '
                f'cam_key={self.cam_key!r}, out_key={self.out_key!r})')


@TRANSFORMS.register_module()
class CoVSmoothCAMs(BaseTransform):
    """Coefficient of Variation Smoothing (Eq. 5-6).

    ``cv_c = std / mean`` of the pixels ``> t`` of the normalised map; the
    smoothed map is ``X_c ** (1 - s * cv_c)`` with values ``< t`` set to 0.

    Required Keys:

    - ``cam_key`` (``(K, H, W)`` normalised CAMs) and its ``_classes``

    Added Keys:

    - ``out_key`` (np.float32, ``(K, H, W)``) and its ``_classes``
    - cam_cov (np.float32, ``(K,)``, unscaled coefficients of variation)

    Args:
        scale (float): ``s``. Defaults to 0.3.
        threshold (float): ``t``. Defaults to 0.05.
        cam_key (str): Input key. Defaults to ``'cams'``.
        out_key (str): Output key. Defaults to ``'cams_smoothed'`` (PPMG
            uses both the smoothed and the unsmoothed maps).
    """

    def __init__(self,
                 scale: float = 0.3,
                 threshold: float = 0.05,
                 cam_key: str = 'cams',
                 out_key: str = 'cams_smoothed') -> None:
        self.scale = scale
        self.threshold = threshold
        self.cam_key = cam_key
        self.out_key = out_key

    def transform(self, results: dict) -> dict:
        cams, classes = get_soft_map(results, self.cam_key, 'CoVSmoothCAMs',
                                     background=False, hint=_CAM_HINT)
        _check_normalised(results, self.cam_key, cams, 'CoVSmoothCAMs')
        cov = coefficient_of_variation(cams, self.threshold)
        results['cam_cov'] = cov
        set_soft_map(results, self.out_key,
                     cov_smooth(cams, cov, self.scale, self.threshold),
                     classes)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'threshold={self.threshold}, cam_key={self.cam_key!r}, '
                f'out_key={self.out_key!r})')


@TRANSFORMS.register_module()
class ProportionalPseudoMask(BaseTransform):
    """Proportional Pseudo-mask Generation (Eq. 7-9, Alg. 1 steps 4-6).

    Each class's smoothed map gets its own background ``(1 - X_c) ** alpha``
    and a two-label dense CRF on the image; its foreground is where the CRF
    foreground probability is ``> fg_threshold``. A pixel takes, among the
    classes whose foreground it is in, the one with the largest proportion
    ``X_c / (1 + sum(X_c * fg_c))`` of the unsmoothed normalised map; the
    background where it is in none.

    Required Keys:

    - img (``(H, W, 3)``, BGR as loaded by ``LoadImageFromFile`` unless
      ``to_rgb=False``)
    - ``cam_key`` (``(K, H, W)`` normalised CAMs) and its ``_classes``
    - ``smoothed_key`` and its ``_classes`` (optional; absent: the
      unsmoothed maps, "PPMG without CVS")

    Added Keys:

    - ``seg_map_key`` (np.uint8 ``(H, W)`` class indices) and seg_fields

    Args:
        alpha (float): Background power. Defaults to 11 (the authors').
        fg_threshold (float): CRF foreground threshold. Defaults to 0.5.
        smoothed_key (str): Key of the CVS maps. Defaults to
            ``'cams_smoothed'``.
        seg_map_key (str): Output key. Defaults to ``'gt_seg_map'``.
        crf_cfg (dict, optional): Overrides of :data:`PPMG_CRF_CFG` (dense
            CRF arguments).
        crf_backend (str, optional): ``'torch'`` or ``'pydensecrf'``.
        to_rgb (bool): The image is BGR and is flipped to RGB for the CRF.
            Defaults to True.
        cam_key (str): Key of the normalised CAMs. Defaults to ``'cams'``.
    """

    def __init__(self,
                 alpha: float = 11.0,
                 fg_threshold: float = 0.5,
                 smoothed_key: str = 'cams_smoothed',
                 seg_map_key: str = 'gt_seg_map',
                 crf_cfg: Optional[dict] = None,
                 crf_backend: Optional[str] = None,
                 to_rgb: bool = True,
                 cam_key: str = 'cams') -> None:
        self.cam_key = cam_key
        self.alpha = alpha
        self.fg_threshold = fg_threshold
        self.smoothed_key = smoothed_key
        self.seg_map_key = seg_map_key
        self.crf_cfg = _crf_cfg(PPMG_CRF_CFG, crf_cfg, crf_backend)
        self.to_rgb = to_rgb

    def transform(self, results: dict) -> dict:
        name = 'ProportionalPseudoMask'
        cams, keys = get_soft_map(results, self.cam_key, name,
                                  background=False, hint=_CAM_HINT)
        _check_normalised(results, self.cam_key, cams, name)
        smoothed = None
        if self.smoothed_key in results:
            smoothed, smoothed_keys = get_soft_map(results, self.smoothed_key,
                                                   name, background=False)
            if not np.array_equal(smoothed_keys, keys):
                raise PseudoLabelError(
                    f'{describe(results, name)}: {self.smoothed_key!r} '
                    f'(classes {smoothed_keys.tolist()}) and '
                    f'{self.cam_key!r} (classes {keys.tolist()}) differ')
        image = rgb_image(results, self.to_rgb, name, cams.shape[1:], 'CAM')
        label = ppmg(cams, keys, image, smoothed, self.alpha,
                     self.fg_threshold, self.crf_cfg)
        set_seg_map(results, self.seg_map_key, label)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'fg_threshold={self.fg_threshold}, '
                f'smoothed_key={self.smoothed_key!r}, '
                f'seg_map_key={self.seg_map_key!r}, crf_cfg={self.crf_cfg})')


@TRANSFORMS.register_module()
class ArgmaxPseudoMask(BaseTransform):
    """The classic pseudo-mask (Eq. 4): ``argmax`` over the background and
    class scores, after a dense CRF on the image (or without).

    Works on any soft map of the pseudo-label contract
    (:mod:`mmseg_weak.utils.soft_maps`): each pixel gets the class id of its
    best channel. Ties go to the first channel (the background, then the
    lower class id).

    Required Keys:

    - ``score_key`` (``(C, H, W)`` scores, e.g. background + CAMs from
      ``AddCAMBackground``, PAMR / CRF output, predicted probabilities) and
      ``score_key + '_classes'`` (the channels' class ids)
    - img (when ``use_crf``; BGR unless ``to_rgb=False``)

    Added Keys:

    - ``seg_map_key`` (np.uint8 ``(H, W)`` class indices) and seg_fields

    Args:
        use_crf (bool): Run the dense CRF first. Defaults to True.
        score_key (str): Key of the scores. Defaults to ``'cam_scores'``.
        seg_map_key (str): Output key. Defaults to ``'gt_seg_map'``.
        crf_cfg (dict, optional): Overrides of :data:`BASELINE_CRF_CFG`.
        crf_backend (str, optional): ``'torch'`` or ``'pydensecrf'``.
        to_rgb (bool): The image is BGR and is flipped to RGB for the CRF.
            Defaults to True.
        require_background (bool): The scores must have a background
            channel (catches an argmax over the bare CAMs). False for
            datasets without a background class (e.g. Cityscapes).
            Defaults to True.
        background_index (int): Class id of the background. Defaults to 0.
    """

    def __init__(self,
                 use_crf: bool = True,
                 score_key: str = 'cam_scores',
                 seg_map_key: str = 'gt_seg_map',
                 crf_cfg: Optional[dict] = None,
                 crf_backend: Optional[str] = None,
                 to_rgb: bool = True,
                 require_background: bool = True,
                 background_index: int = 0) -> None:
        self.require_background = require_background
        self.background_index = background_index
        self.use_crf = use_crf
        self.score_key = score_key
        self.seg_map_key = seg_map_key
        self.crf_cfg = _crf_cfg(BASELINE_CRF_CFG, crf_cfg, crf_backend)
        self.to_rgb = to_rgb

    def transform(self, results: dict) -> dict:
        name = 'ArgmaxPseudoMask'
        scores, classes = get_soft_map(
            results, self.score_key, name,
            background=True if self.require_background else None,
            background_index=self.background_index,
            hint='e.g. AddCAMBackground after the CAM steps')
        if self.use_crf and len(classes) > 1:
            image = rgb_image(results, self.to_rgb, name, scores.shape[1:],
                              'score')
            scores = run_crf(scores, image, **self.crf_cfg)
        set_seg_map(results, self.seg_map_key,
                    labels_from_soft_map(scores, classes))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(use_crf={self.use_crf}, '
                f'score_key={self.score_key!r}, '
                f'seg_map_key={self.seg_map_key!r}, crf_cfg={self.crf_cfg})')
