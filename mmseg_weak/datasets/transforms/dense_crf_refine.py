"""Dense CRF refinement of any pseudo label (soft or hard) as a transform.

Krähenbühl & Koltun, *Efficient Inference in Fully Connected CRFs with
Gaussian Edge Potentials*, NeurIPS 2011 (https://arxiv.org/abs/1210.5644),
the post-processing used by Single-Stage WSSS (Araslanov & Roth, CVPR 2020)
and Pseudo-mask Matters (Li et al., ICCV 2021) on CAMs, PAMR masks and
predictions.
"""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...models.utils.dense_crf import DenseCRF, dense_crf
from ...utils.soft_maps import (get_soft_map, hard_map_to_soft,
                                labels_from_soft_map, rgb_image, set_seg_map,
                                set_soft_map)

__all__ = ['DenseCRFRefine']


@TRANSFORMS.register_module()
class DenseCRFRefine(BaseTransform):
    """Refine a soft map, or a hard label map, with a dense CRF on the image.

    The input ``results[key]`` is either

    - a soft map of the pseudo-label contract (:mod:`mmseg_weak.utils.
      soft_maps`): ``(C, H, W)`` scores with class ids in
      ``results[key + '_classes']`` (CAM scores with their background,
      PAMR output, box masks, predicted probabilities). The scores go to the
      CRF as they are (unary ``-log(clip(p, 1e-5, 1))``, as the references
      feed them) unless ``confidence`` is given: then each pixel's scores
      are first divided by their sum and mixed with the uniform
      distribution, ``p = confidence * s / sum(s) + (1 - confidence) / C``
      (for binary / multi-hot maps such as box masks, which would otherwise
      be hard constraints); or
    - a hard label map ``(H, W)`` of class ids (e.g. ``'gt_seg_map'``): it
      becomes probabilities over ``classes`` (default: the ids present in
      the map, the ignore index excluded) with ``confidence`` (default 0.7)
      on the labelled class, like pydensecrf's ``unary_from_labels``; an
      ignored pixel starts uniform and gets a label from the CRF.

    The refined probabilities (summing to one) are written as a soft map
    with the same class ids (``out_key``; for a soft input by default in
    place) and, when ``seg_map_key`` is given (by default the key itself for
    a hard input), as a hard map of class ids. A map with a single class is
    passed through unchanged (nothing to refine).

    Required Keys:

    - img (``(H, W, 3)``; only colour differences matter, so BGR and RGB
      give the same result)
    - ``key`` (and ``key + '_classes'`` for a soft map)

    Modified / Added Keys:

    - ``out_key`` and ``out_key + '_classes'``
    - ``seg_map_key`` (uint8 class ids) and ``seg_fields``

    Args:
        key (str): The map to refine. Defaults to ``'seg_probs'``.
        out_key (str, optional): Key of the refined soft map. Defaults to
            ``key`` for a soft input, ``key + '_probs'`` for a hard one.
        seg_map_key (str, optional): Also write the refined hard map here.
            Defaults to None for a soft input, ``key`` for a hard one.
        confidence (float, optional): See above. Defaults to None for soft
            maps, 0.7 for hard maps.
        classes (Sequence[int], optional): Channels of a hard map's
            probabilities (e.g. all dataset classes). Defaults to the class
            ids present in the map.
        ignore_index (int): Unlabelled pixels of a hard map. Defaults to
            255.
        **crf_cfg: :class:`~mmseg_weak.models.utils.DenseCRF` arguments
            (``num_iter`` 10, ``gaussian_sxy`` 3, ``gaussian_compat`` 3 —
            SEAM / Single-Stage WSSS; PPMG uses 10 —, ``bilateral_sxy`` 80,
            ``bilateral_srgb`` 13, ``bilateral_compat`` 10, ``backend``
            ``'torch'`` or ``'pydensecrf'``), checked when the transform is
            built.
    """

    def __init__(self,
                 key: str = 'seg_probs',
                 out_key: Optional[str] = None,
                 seg_map_key: Optional[str] = None,
                 confidence: Optional[float] = None,
                 classes: Optional[Sequence[int]] = None,
                 ignore_index: int = 255,
                 **crf_cfg) -> None:
        if confidence is not None and not 0 < confidence < 1:
            raise ValueError(f'confidence must be in (0, 1), got {confidence}')
        self.key = key
        self.out_key = out_key
        self.seg_map_key = seg_map_key
        self.confidence = confidence
        self.classes = None if classes is None else np.asarray(
            classes, dtype=np.int64)
        self.ignore_index = ignore_index
        self.crf = DenseCRF(**crf_cfg)  # validates the arguments

    def _input(self, results: dict):
        """``(probs, classes, hard)`` of the map to refine."""
        name = 'DenseCRFRefine'
        value = results.get(self.key)
        if value is not None and np.ndim(value) == 2:
            label = np.asarray(value)
            classes = self.classes
            if classes is None:
                present = np.unique(label)
                classes = present[present != self.ignore_index].astype(
                    np.int64)
            if len(classes) < 2:
                return None, classes, True
            confidence = 0.7 if self.confidence is None else self.confidence
            return hard_map_to_soft(label, classes, confidence), classes, True
        soft, classes = get_soft_map(results, self.key, name)
        if self.confidence is not None and len(classes) > 1:
            total = soft.sum(axis=0, keepdims=True)
            share = np.where(total > 0, soft / np.maximum(total, 1e-12),
                             1.0 / len(classes))
            soft = (self.confidence * share +
                    (1 - self.confidence) / len(classes)).astype(np.float32)
        return soft, classes, False

    def transform(self, results: dict) -> dict:
        name = 'DenseCRFRefine'
        probs, classes, hard = self._input(results)
        out_key = self.out_key or (self.key + '_probs' if hard else self.key)
        seg_map_key = self.seg_map_key or (self.key if hard else None)
        if probs is None:  # one class: nothing to refine
            if self.out_key is not None:
                shape = np.shape(results[self.key])
                set_soft_map(results, out_key, np.ones((len(classes), ) +
                                                       shape, np.float32),
                             classes)
            return results
        image = rgb_image(results, False, name, probs.shape[1:],
                          repr(self.key))
        refined = dense_crf(np.ascontiguousarray(probs), image,
                            self.crf.num_iter, backend=self.crf.backend,
                            **self.crf.params())
        set_soft_map(results, out_key, refined, classes)
        if seg_map_key is not None:
            set_seg_map(results, seg_map_key,
                        labels_from_soft_map(refined, classes))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, '
                f'out_key={self.out_key!r}, seg_map_key={self.seg_map_key!r},'
                f' confidence={self.confidence}, '
                f'crf=({self.crf.extra_repr()}))')
