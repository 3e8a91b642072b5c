"""Box-aware versions of MMSeg's geometric transforms."""
from typing import Tuple

import numpy as np
from mmseg.datasets.transforms import RandomCrop
from mmseg.registry import TRANSFORMS

__all__ = ['BoxAwareRandomCrop', 'crop_boxes']


def crop_boxes(results: dict, window: Tuple[int, int, int, int],
               min_box_size: float) -> None:
    """Move ``results['gt_bboxes']`` into a crop of the image, in place.

    The boxes are shifted to the crop's origin and clipped to it; those
    narrower or lower than ``min_box_size`` are dropped together with their
    ``gt_bboxes_labels``. Nothing happens when the sample has no boxes. The
    boxes keep their dtype.

    Args:
        results (dict): The sample.
        window (tuple[int, int, int, int]): ``(x1, y1, x2, y2)`` of the crop
            in the image (``x2`` / ``y2`` exclusive).
        min_box_size (float): Smallest width / height of a kept box.
    """
    if results.get('gt_bboxes', None) is None:
        return
    x1, y1, x2, y2 = window
    boxes = results['gt_bboxes'] - np.array([x1, y1, x1, y1],
                                            dtype=np.float32)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, x2 - x1)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, y2 - y1)
    keep = ((boxes[:, 2] - boxes[:, 0] >= min_box_size)
            & (boxes[:, 3] - boxes[:, 1] >= min_box_size))
    results['gt_bboxes'] = boxes[keep]
    if results.get('gt_bboxes_labels', None) is not None:
        results['gt_bboxes_labels'] = results['gt_bboxes_labels'][keep]


@TRANSFORMS.register_module()
class BoxAwareRandomCrop(RandomCrop):
    """MMSeg's ``RandomCrop`` (incl. ``cat_max_ratio``) that also crops boxes.

    mmcv's ``Resize``, ``RandomResize`` and ``RandomFlip`` already transform
    ``gt_bboxes``; MMSeg's ``RandomCrop`` does not. Boxes are shifted into the
    crop, clipped to it, and dropped when less than ``min_box_size`` pixels
    wide or high remain (with their labels).

    Required Keys:

    - img
    - gt_seg_map (only with ``cat_max_ratio < 1``)
    - gt_bboxes (optional)
    - gt_bboxes_labels (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map and other ``seg_fields``
    - gt_bboxes
    - gt_bboxes_labels

    Args:
        crop_size (tuple[int, int]): ``(h, w)`` of the crop.
        cat_max_ratio (float): Max ratio one category may occupy.
        ignore_index (int): Ignored label for ``cat_max_ratio``.
        min_box_size (float): Boxes narrower/lower than this after clipping
            are removed. Defaults to 1 (one pixel).
    """

    def __init__(self, *args, min_box_size: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.min_box_size = min_box_size

    def crop_bbox(self, results: dict) -> tuple:
        """Choose the crop like MMSeg and remember it for the boxes."""
        bbox = super().crop_bbox(results)
        results['_crop_bbox'] = bbox
        return bbox

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        y1, y2, x1, x2 = results.pop('_crop_bbox')
        crop_boxes(results, (x1, y1, x2, y2), self.min_box_size)
        return results

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, min_box_size={self.min_box_size})'
