"""Boxes from instance-id maps (Cityscapes ``*_gtFine_instanceIds.png``)."""
from typing import Dict, Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from scipy import ndimage

from ..cityscapes_weak import LABEL_ID_TO_OBJECT
from ..voc_annotation import AnnotationError
from .loading import check_boxes_load_first, img_shape_before_transforms


@TRANSFORMS.register_module()
class LoadBoxesFromInstanceMap(BaseTransform):
    """Boxes of the objects of an instance-id map.

    In Cityscapes' format a pixel value ``v >= 1000`` is instance
    ``v % 1000`` of the class with ``labelId = v // 1000``; a value
    ``v < 1000`` is a class region without instance ids (e.g. poles, traffic
    signs, crowds). Each instance gives the box of its pixels; each
    8-connected component of an id-less region of a mapped class gives one
    box (documented choice: Cityscapes has no instances for pole, traffic
    light and traffic sign).

    Required Keys:

    - instance_map_path
    - supervision (optional: a ``'box'`` sample without box is an error)

    Added Keys:

    - gt_bboxes (np.float32, ``(N, 4)``)
    - gt_bboxes_labels (np.int64, ``(N,)``)

    Args:
        class_map (dict, optional): ``labelId`` → class id of the classes that
            get boxes. Defaults to the 11 object classes of the
            self-correction paper.
        min_pixels (int): Components / instances with fewer pixels are
            skipped. Defaults to 1.
    """

    def __init__(self,
                 class_map: Optional[Dict[int, int]] = None,
                 min_pixels: int = 1) -> None:
        self.class_map = dict(LABEL_ID_TO_OBJECT if class_map is None else
                              class_map)
        self.min_pixels = min_pixels

    @staticmethod
    def _box(ys: np.ndarray, xs: np.ndarray) -> list:
        return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]

    def boxes(self, ids: np.ndarray):
        """``(boxes, labels)`` of an instance-id map."""
        boxes, labels = [], []
        for value in np.unique(ids):
            label_id = value // 1000 if value >= 1000 else value
            if label_id not in self.class_map:
                continue
            region = ids == value
            if value >= 1000:
                components = [region]
            else:
                cc, n = ndimage.label(region, structure=np.ones((3, 3)))
                components = [cc == k for k in range(1, n + 1)]
            for comp in components:
                ys, xs = np.nonzero(comp)
                if len(ys) >= self.min_pixels:
                    boxes.append(self._box(ys, xs))
                    labels.append(self.class_map[label_id])
        return (np.array(boxes, dtype=np.float32).reshape(-1, 4),
                np.array(labels, dtype=np.int64))

    def transform(self, results: dict) -> dict:
        check_boxes_load_first(results, 'LoadBoxesFromInstanceMap')
        path = results.get('instance_map_path')
        if path is None:
            raise AnnotationError(
                f"{results.get('img_path')}: no instance_map_path (set "
                'with_boxes=True on the dataset)')
        ids = mmcv.imfrombytes(fileio.get(path), flag='unchanged',
                               backend='cv2')
        if ids is None or ids.ndim != 2:
            raise AnnotationError(f'{path}: not a single-channel id map')
        if 'img' in results and ids.shape != img_shape_before_transforms(
                results):
            raise AnnotationError(
                f'{path}: size {ids.shape[1]}x{ids.shape[0]} differs from '
                f"the image {results['img_path']}")
        boxes, labels = self.boxes(ids.astype(np.int64))
        if results.get('supervision') == 'box' and not len(boxes):
            raise AnnotationError(
                f'{path}: box-supervised image has no object box')
        results['gt_bboxes'] = boxes
        results['gt_bboxes_labels'] = labels
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(classes={len(self.class_map)}, '
                f'min_pixels={self.min_pixels})')
