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

__all__ = ['PAMRRefineMasks']


@TRANSFORMS.register_module()
class PAMRRefineMasks(BaseTransform):
    """Refine a soft mask (class scores or CAMs) with PAMR on the image.

    The soft mask ``results[mask_key]`` is a ``(C, h, w)`` float array
    (background first when pseudo labels are made). PAMR runs at the mask's
    resolution on the image resized to it (``resize='image_to_mask'``, the
    authors' choice) or at the image's resolution on the mask resized to it
    (``'mask_to_image'``). Optionally the refined mask is turned into a
    pseudo label map by the rules of :func:`pseudo_gt_from_masks`, using
    ``gt_img_labels`` when present.

    Required Keys:

    - img
    - ``mask_key`` (``(C, h, w)`` float array)
    - gt_img_labels (optional, for ``seg_map_key``)

    Modified Keys:

    - ``mask_key`` (refined, float32; when ``out_key`` is None)

    Added Keys:

    - ``out_key`` (refined mask, float32; when given)
    - ``seg_map_key`` (uint8 ``(H, W)`` or ``(h, w)`` pseudo label map with
      255 = ignore; when given) and ``seg_fields`` updated
    - pseudo_label_valid (bool; when ``seg_map_key`` is given)

    Args:
        mask_key (str): Key of the soft mask. Defaults to ``'soft_mask'``.
        out_key (str, optional): Key of the refined mask (None: in place).
        num_iter (int): PAMR iterations. Defaults to 10.
        dilations (Sequence[int]): PAMR dilations. Defaults to
            ``(1, 2, 4, 8, 12, 24)``.
        resize (str): ``'image_to_mask'`` or ``'mask_to_image'``.
        seg_map_key (str, optional): Also write the pseudo label map here
            (e.g. ``'gt_seg_map'``).
        pseudo_gt_cfg (dict, optional): :func:`pseudo_gt_from_masks`
            arguments (cutoffs).
    """

    def __init__(self,
                 mask_key: str = 'soft_mask',
                 out_key: Optional[str] = None,
                 num_iter: int = 10,
                 dilations: Sequence[int] = (1, 2, 4, 8, 12, 24),
                 resize: str = 'image_to_mask',
                 seg_map_key: Optional[str] = None,
                 pseudo_gt_cfg: Optional[dict] = None) -> None:
        if resize not in ('image_to_mask', 'mask_to_image'):
            raise ValueError("resize must be 'image_to_mask' or "
                             f"'mask_to_image', got {resize!r}")
        self.mask_key = mask_key
        self.out_key = out_key
        self.num_iter = num_iter
        self.dilations = tuple(dilations)
        self.resize = resize
        self.seg_map_key = seg_map_key
        self.pseudo_gt_cfg = dict(pseudo_gt_cfg or {})

    def transform(self, results: dict) -> dict:
        if self.mask_key not in results:
            raise KeyError(f'{results.get("img_path")}: no {self.mask_key!r} '
                           'to refine')
        mask = torch.as_tensor(np.asarray(results[self.mask_key]),
                               dtype=torch.float32)
        if mask.dim() != 3:
            raise ValueError(f'{self.mask_key} must be (C, h, w), got '
                             f'{tuple(mask.shape)}')
        img = np.asarray(results['img'])
        if img.ndim == 2:
            img = img[..., None]
        image = torch.from_numpy(np.ascontiguousarray(
            img.transpose(2, 0, 1))).float()[None]
        mask = mask[None]
        if self.resize == 'image_to_mask' and \
                image.shape[-2:] != mask.shape[-2:]:
            image = F.interpolate(
                image, size=mask.shape[-2:], mode='bilinear',
                align_corners=True)
        refined = pamr_refine(image, mask, self.num_iter, self.dilations)
        results[self.out_key or self.mask_key] = refined[0].numpy()
        if self.seg_map_key is not None:
            labels = results.get('gt_img_labels')
            if labels is not None:
                labels = torch.as_tensor(np.asarray(labels),
                                         dtype=torch.float32)[None]
            label, valid = pseudo_gt_from_masks(refined, labels,
                                                **self.pseudo_gt_cfg)
            results[self.seg_map_key] = label[0].numpy().astype(np.uint8)
            results['pseudo_label_valid'] = bool(valid[0])
            fields = results.setdefault('seg_fields', [])
            if self.seg_map_key not in fields:
                fields.append(self.seg_map_key)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mask_key={self.mask_key!r}, '
                f'out_key={self.out_key!r}, num_iter={self.num_iter}, '
                f'dilations={self.dilations}, resize={self.resize!r}, '
                f'seg_map_key={self.seg_map_key!r})')
