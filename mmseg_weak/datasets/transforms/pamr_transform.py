"""PAMR refinement of loaded soft masks / CAMs as a data transform.

Pixel-Adaptive Mask Refinement of Araslanov & Roth, *Single-Stage Semantic
Segmentation from Image Labels*, CVPR 2020, Sec. 3.3
(https://arxiv.org/abs/2005.08104), applied offline to pseudo-label seeds.
"""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...models.utils.pamr import pamr_refine
from ...models.utils.pseudo_gt import pseudo_gt_from_masks
from ...utils.choices import check_choice
from ...utils.soft_maps import (PseudoLabelError, describe, get_soft_map,
                                set_seg_map, set_soft_map)

__all__ = ['PAMRRefineMasks']


@TRANSFORMS.register_module()
class PAMRRefineMasks(BaseTransform):
    """Refine any soft map (CAM scores, box masks, predicted probabilities)
    with PAMR on the image.

    The soft map ``results[mask_key]`` follows the pseudo-label contract
    (:mod:`mmseg_weak.utils.soft_maps`): ``(C, h, w)`` floats whose channel
    ``i`` belongs to the class id ``results[mask_key + '_classes'][i]``. PAMR
    runs at the map's resolution on the image resized to it
    (``resize='image_to_mask'``, the authors' choice) or at the image's
    resolution on the map resized to it (``'mask_to_image'``); the refined
    map keeps the class ids. Optionally the refined map becomes a hard
    pseudo label map by the rules of :func:`pseudo_gt_from_masks` (the
    background channel first; classes absent from ``gt_img_labels``, when
    present, are dropped), written as dataset class ids with 255 = ignore.

    Required Keys:

    - img
    - ``mask_key`` and ``mask_key + '_classes'``
    - gt_img_labels (optional, for ``seg_map_key``; ``(num_classes,)``
      multi-hot over the dataset's classes)

    Modified Keys:

    - ``mask_key`` (refined, float32; when ``out_key`` is None)

    Added Keys:

    - ``out_key`` and ``out_key + '_classes'`` (refined map; when given)
    - ``seg_map_key`` (uint8 ``(H, W)`` or ``(h, w)`` class ids, 255 =
      ignore; when given) and ``seg_fields`` updated
    - pseudo_label_valid (bool; when ``seg_map_key`` is given)

    Args:
        mask_key (str): Key of the soft map. Defaults to ``'soft_mask'``.
        out_key (str, optional): Key of the refined map (None: in place).
        num_iter (int): PAMR iterations. Defaults to 10.
        dilations (Sequence[int]): PAMR dilations. Defaults to
            ``(1, 2, 4, 8, 12, 24)``.
        resize (str): ``'image_to_mask'`` or ``'mask_to_image'``.
        seg_map_key (str, optional): Also write the pseudo label map here
            (e.g. ``'gt_seg_map'``).
        pseudo_gt_cfg (dict, optional): :func:`pseudo_gt_from_masks`
            arguments (cutoffs).
        background_index (int): Class id of the background channel, which
            must be the first channel when ``seg_map_key`` is given.
            Defaults to 0.
    """

    def __init__(self,
                 mask_key: str = 'soft_mask',
                 out_key: Optional[str] = None,
                 num_iter: int = 10,
                 dilations: Sequence[int] = (1, 2, 4, 8, 12, 24),
                 resize: str = 'image_to_mask',
                 seg_map_key: Optional[str] = None,
                 pseudo_gt_cfg: Optional[dict] = None,
                 background_index: int = 0) -> None:
        check_choice('resize', resize, ('image_to_mask', 'mask_to_image'))
        self.mask_key = mask_key
        self.out_key = out_key
        self.num_iter = num_iter
        self.dilations = tuple(dilations)
        self.resize = resize
        self.seg_map_key = seg_map_key
        self.pseudo_gt_cfg = dict(pseudo_gt_cfg or {})
        self.background_index = background_index

    def _image_labels(self, results: dict,
                      classes: np.ndarray) -> Optional[torch.Tensor]:
        """``(1, C)`` labels of the map's channels from ``gt_img_labels``."""
        labels = results.get('gt_img_labels')
        if labels is None:
            return None
        labels = np.asarray(labels).reshape(-1)
        if classes.max() >= len(labels):
            raise PseudoLabelError(
                f'{describe(results, "PAMRRefineMasks")}: class ids '
                f'{classes.tolist()} of {self.mask_key!r} outside the '
                f'{len(labels)} classes of gt_img_labels')
        return torch.as_tensor(labels[classes], dtype=torch.float32)[None]

    def transform(self, results: dict) -> dict:
        name = 'PAMRRefineMasks'
        soft, classes = get_soft_map(
            results, self.mask_key, name,
            background=True if self.seg_map_key is not None else None,
            background_index=self.background_index)
        if self.seg_map_key is not None and \
                classes[0] != self.background_index:
            raise PseudoLabelError(
                f'{describe(results, name)}: the first channel of '
                f'{self.mask_key!r} must be the background '
                f'({self.background_index}) to make pseudo labels, got '
                f'classes {classes.tolist()}')
        if 'img' not in results:
            raise PseudoLabelError(f'{describe(results, name)} needs the '
                                   'image (add LoadImageFromFile first)')
        img = np.asarray(results['img'])
        if img.ndim == 2:
            img = img[..., None]
        image = torch.from_numpy(np.ascontiguousarray(
            img.transpose(2, 0, 1))).float()[None]
        mask = torch.from_numpy(np.ascontiguousarray(soft))[None]
        if self.resize == 'image_to_mask' and \
                image.shape[-2:] != mask.shape[-2:]:
            image = F.interpolate(
                image, size=mask.shape[-2:], mode='bilinear',
                align_corners=True)
        # 'mask_to_image': pamr_refine resizes the map to the image
        refined = pamr_refine(image, mask, self.num_iter, self.dilations)
        set_soft_map(results, self.out_key or self.mask_key,
                     refined[0].numpy(), classes)
        if self.seg_map_key is not None:
            label, valid = pseudo_gt_from_masks(
                refined, self._image_labels(results, classes),
                **self.pseudo_gt_cfg)
            label = label[0].numpy()
            ignore = label == 255
            label = classes[np.where(ignore, 0, label)]
            label[ignore] = 255
            set_seg_map(results, self.seg_map_key, label.astype(np.uint8))
            results['pseudo_label_valid'] = bool(valid[0])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_key={self.mask_key!r}, '
                f'out_key={self.out_key!r}, num_iter={self.num_iter}, '
                f'dilations={self.dilations}, resize={self.resize!r}, '
                f'seg_map_key={self.seg_map_key!r})')
