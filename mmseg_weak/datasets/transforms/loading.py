"""Loading transforms for weak labels: masks (checked), boxes, image labels."""
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..voc_annotation import AnnotationError


def check_boxes_load_first(results: dict, transform: str) -> None:
    """Boxes loaded after a geometric transform would not be moved by it:
    refuse instead of producing misaligned boxes."""
    if any(k in results for k in ('scale_factor', 'flip', '_crop_bbox')):
        raise AnnotationError(
            f"{results.get('img_path')}: {transform} must come before the "
            'geometric transforms (Resize, RandomResize, RandomFlip, crops), '
            'which move the boxes with the image')


def img_shape_before_transforms(results: dict):
    """Shape ``(H, W)`` of the loaded image (before any augmentation)."""
    if 'ori_shape' in results:
        return tuple(results['ori_shape'][:2])
    return tuple(results['img'].shape[:2])


@TRANSFORMS.register_module()
class LoadVerifiedAnnotations(LoadAnnotations):
    """MMSeg's ``LoadAnnotations`` that refuses to produce a wrong label.

    It loads ``seg_map_path`` (the ground-truth mask of a ``'full'`` sample or
    the pseudo-mask of a ``'pseudo_mask'`` sample) and checks that

    - the sample has a mask at all (a box / image-label / unlabeled sample
      has none: use ``BoxesToSegMap`` or a weak-label head instead);
    - the mask has the size of the image;
    - every value is a class id below ``num_classes`` or ``ignore_index``.

    Each failure raises :class:`AnnotationError` naming the file.

    Required Keys:

    - img_path
    - seg_map_path
    - ori_shape (from ``LoadImageFromFile``)
    - reduce_zero_label
    - label_map (optional)

    Added Keys:

    - gt_seg_map (np.uint8)
    - seg_fields

    Args:
        num_classes (int, optional): Values ``>= num_classes`` (other than
            ``ignore_index``) are errors. ``None`` skips the value check.
        ignore_index (int): The ignore value. Defaults to 255.
        **kwargs: ``LoadAnnotations`` arguments.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            raise AnnotationError(
                f"{results.get('img_path')}: supervision "
                f"{results.get('supervision', 'unknown')!r} provides no mask "
                'to load (LoadVerifiedAnnotations reads seg_map_path only)')
        results = super().transform(results)
        seg = results['gt_seg_map']
        shape = img_shape_before_transforms(results)
        if 'img' in results and seg.shape[:2] != shape:
            raise AnnotationError(
                f'{path}: mask size {seg.shape[1]}x{seg.shape[0]} differs '
                f'from image size {shape[1]}x{shape[0]} '
                f"({results['img_path']}) (WeakVOCDataset & co. find this "
                "when they are built: check_mask_size=True, "
                "invalid_sample='skip' drops the sample)")
        if self.num_classes is not None:
            values = np.unique(seg)
            bad = values[(values >= self.num_classes)
                         & (values != self.ignore_index)]
            if bad.size:
                raise AnnotationError(
                    f'{path}: mask has label values {bad.tolist()} outside '
                    f'[0, {self.num_classes}) and != {self.ignore_index}')
        return results

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


@TRANSFORMS.register_module()
class LoadBoxAnnotations(BaseTransform):
    """Turn the dataset's ``instances`` into mmcv-style box arrays.

    mmcv's ``Resize``/``RandomResize``/``RandomFlip`` and our
    ``BoxAwareRandomCrop`` keep ``gt_bboxes`` aligned with the image.

    Required Keys:

    - instances (list of dict with ``bbox``, ``bbox_label``)
    - ann_shape (optional; image size declared in the XML)
    - ori_shape (optional; from ``LoadImageFromFile``)

    Added Keys:

    - gt_bboxes (np.float32, ``(N, 4)``, ``x1, y1, x2, y2``)
    - gt_bboxes_labels (np.int64, ``(N,)``)

    Args:
        check_size (bool): Raise when the XML's ``<size>`` differs from the
            loaded image's size. Defaults to True.
    """

    def __init__(self, check_size: bool = True) -> None:
        self.check_size = check_size

    def transform(self, results: dict) -> dict:
        check_boxes_load_first(results, 'LoadBoxAnnotations')
        if 'instances' not in results:
            raise AnnotationError(
                f"{results.get('img_path')}: no boxes in this sample "
                f"(supervision {results.get('supervision', 'unknown')!r}; "
                'set with_boxes=True on the dataset)')
        if (self.check_size and 'ann_shape' in results
                and ('ori_shape' in results or 'img' in results)
                and tuple(results['ann_shape']) !=
                img_shape_before_transforms(results)):
            h, w = results['ann_shape']
            ih, iw = img_shape_before_transforms(results)
            raise AnnotationError(
                f"{results.get('ann_path')}: <size> {w}x{h} differs from "
                f"the image {results['img_path']} ({iw}x{ih})")
        instances = results['instances']
        results['gt_bboxes'] = np.array([i['bbox'] for i in instances],
                                        dtype=np.float32).reshape(-1, 4)
        results['gt_bboxes_labels'] = np.array(
            [i['bbox_label'] for i in instances], dtype=np.int64)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(check_size={self.check_size})'


@TRANSFORMS.register_module()
class LoadImageLabels(BaseTransform):
    """Image-level labels as a multi-hot vector over all classes.

    Sources:

    - ``'annotation'``: ``img_labels`` from the dataset (VOC XML class names;
      background included when the dataset has a background class);
    - ``'seg_map'``: the classes present in the already loaded
      ``gt_seg_map`` (``ignore_index`` excluded);
    - ``'gt_mask'``: the classes present in the ground-truth mask at
      ``gt_seg_map_path``, read here and *not* kept, so image-label training
      never sees the mask itself.

    Required Keys:

    - img_labels / gt_seg_map / gt_seg_map_path (by source)

    Added Keys:

    - gt_img_labels (np.float32, ``(num_classes,)``, multi-hot)

    Args:
        num_classes (int): Length of the vector (background included).
        source (str): ``'annotation'``, ``'seg_map'`` or ``'gt_mask'``.
        ignore_index (int): Mask value that is not a class. Defaults to 255.
        imdecode_backend (str): Backend to decode ``gt_mask`` files.
    """

    def __init__(self,
                 num_classes: int,
                 source: str = 'annotation',
                 ignore_index: int = 255,
                 imdecode_backend: str = 'pillow') -> None:
        if source not in ('annotation', 'seg_map', 'gt_mask'):
            raise ValueError("source must be 'annotation', 'seg_map' or "
                             f"'gt_mask', got {source!r}")
        self.num_classes = num_classes
        self.source = source
        self.ignore_index = ignore_index
        self.imdecode_backend = imdecode_backend

    def _labels_from_mask(self, seg: np.ndarray, label_map=None) -> list:
        values = np.unique(seg)
        if label_map:
            values = np.unique([label_map.get(int(v), v) for v in values])
        return [int(v) for v in values if v != self.ignore_index]

    def transform(self, results: dict) -> dict:
        if self.source == 'annotation':
            if 'img_labels' not in results:
                raise AnnotationError(
                    f"{results.get('img_path')}: no image labels in this "
                    'sample (the dataset read no annotation file)')
            labels, origin = results['img_labels'], results.get('ann_path')
        elif self.source == 'seg_map':
            labels = self._labels_from_mask(results['gt_seg_map'])
            origin = results.get('seg_map_path')
        else:
            origin = results.get('gt_seg_map_path')
            if origin is None:
                raise AnnotationError(
                    f"{results.get('img_path')}: no gt_seg_map_path to read "
                    'image labels from')
            seg = mmcv.imfrombytes(
                fileio.get(origin), flag='unchanged',
                backend=self.imdecode_backend)
            labels = self._labels_from_mask(seg, results.get('label_map'))
        bad = [c for c in labels if not 0 <= c < self.num_classes]
        if bad:
            raise AnnotationError(
                f'{origin}: class ids {bad} outside [0, {self.num_classes})')
        vec = np.zeros(self.num_classes, dtype=np.float32)
        vec[list(labels)] = 1
        results['gt_img_labels'] = vec
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f"source='{self.source}', ignore_index={self.ignore_index})")
