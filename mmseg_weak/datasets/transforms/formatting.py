"""Packing of weak labels into :class:`mmseg.structures.SegDataSample`."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import to_tensor
from mmengine.structures import InstanceData, PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from ...utils.supervision import FULL

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                     'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                     'reduce_zero_label', 'img_id', 'supervision')


@TRANSFORMS.register_module()
class PackWeakSegInputs(PackSegInputs):
    """MMSeg's ``PackSegInputs`` plus boxes, image labels and supervision.

    The packed ``SegDataSample`` gets

    - ``gt_sem_seg``: the loaded mask, or — for a sample whose supervision
      gives no mask (boxes, image labels, unlabeled) — an all-``ignore_index``
      map of the image size, so that MMSeg's decode heads and data
      preprocessor handle mixed batches and such pixels never count in a
      pixel loss;
    - ``gt_instances``: ``InstanceData(bboxes=(N, 4) float, labels=(N,)
      long)`` when the sample has boxes;
    - ``gt_img_labels``: ``(num_classes,)`` float multi-hot tensor;
    - ``gt_box_masks``: ``PixelData`` of ``(num_classes, H, W)`` box masks;
    - meta ``supervision`` (``'full'`` when the dataset did not set one) and
      ``img_id``.

    Required Keys:

    - img
    - gt_seg_map (optional)
    - gt_bboxes, gt_bboxes_labels (optional)
    - gt_img_labels (optional)
    - gt_box_masks (optional)
    - supervision (optional)

    Added Keys:

    - inputs
    - data_samples

    Args:
        meta_keys (Sequence[str]): Meta keys to pack.
        ignore_index (int): Fill value of the placeholder ``gt_sem_seg``.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS,
                 ignore_index: int = 255) -> None:
        super().__init__(meta_keys=meta_keys)
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        results.setdefault('supervision', FULL)
        if 'gt_seg_map' not in results:
            results['gt_seg_map'] = np.full(
                results['img'].shape[:2], self.ignore_index, dtype=np.uint8)
        packed = super().transform(results)
        sample = packed['data_samples']
        if 'gt_bboxes' in results:
            sample.gt_instances = InstanceData(
                bboxes=to_tensor(
                    np.asarray(results['gt_bboxes'],
                               dtype=np.float32).reshape(-1, 4)),
                labels=to_tensor(
                    np.asarray(results['gt_bboxes_labels'], dtype=np.int64)))
        if 'gt_img_labels' in results:
            sample.gt_img_labels = torch.as_tensor(
                results['gt_img_labels'], dtype=torch.float32)
        if 'gt_box_masks' in results:
            sample.gt_box_masks = PixelData(
                data=to_tensor(np.ascontiguousarray(results['gt_box_masks'])))
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(meta_keys={self.meta_keys}, '
                f'ignore_index={self.ignore_index})')
