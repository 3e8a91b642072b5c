"""Loading transforms for weak labels: masks (checked), boxes, image labels."""
from typing import Optional, Tuple

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ...utils.choices import check_choice
from ..voc_annotation import AnnotationError


def check_boxes_load_first(results: dict, transform: str) -> None:
    """Boxes loaded after a geometric transform would not be moved by it:
    refuse instead of producing misaligned boxes."""
    if any(k in results for k in ('scale_factor', 'flip', '_crop_bbox')):
        raise AnnotationError(
            f"{results.get('img_path')}: {transform} must come before the "
            'geometric transforms (Resize, RandomResize, RandomFlip, crops), '
            'which move the boxes with the image')


def resolve_num_classes(num_classes: Optional[int], results: dict,
                        transform: str) -> Tuple[Optional[int], str]:
    """The class count a transform works with, and a mismatch note.

    A transform's ``num_classes=None`` takes the dataset's: ``WeakVOCDataset``
    (and the datasets built on it) put ``num_classes`` (the length of
    ``metainfo['classes']``) into every data info. An explicit
    ``num_classes`` wins but must agree with the data info's; see
    :func:`check_num_classes`.

    Args:
        num_classes: The transform's ``num_classes`` argument.
        results: The sample (its optional ``num_classes`` key).
        transform: The transform's name, for messages.

    Returns:
        tuple: the count to use (``None`` when neither is known) and ``''``,
        or, when both exist and differ, a note to append to errors
        (`` (Transform(num_classes=6) but the dataset has 3 classes)``).
    """
    from_data = results.get('num_classes')
    if num_classes is None:
        return (None if from_data is None else int(from_data)), ''
    if from_data is not None and int(from_data) != num_classes:
        return num_classes, (f' ({transform}(num_classes={num_classes}) but '
                             f'the dataset has {int(from_data)} classes)')
    return num_classes, ''


def check_num_classes(num_classes: Optional[int], results: dict,
                      transform: str) -> None:
    """Raise when a transform's explicit ``num_classes`` differs from the
    dataset's (``results['num_classes']``), naming the image.

    Raises:
        AnnotationError: The two counts differ.
    """
    from_data = results.get('num_classes')
    if (num_classes is not None and from_data is not None
            and int(from_data) != num_classes):
        raise AnnotationError(
            f"{results.get('img_path')}: {transform}(num_classes="
            f'{num_classes}) disagrees with the dataset, which has '
            f"{int(from_data)} classes (len(metainfo['classes'])); leave "
            f'num_classes out of the transform to take the dataset\'s')


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

    - num_classes (optional; set by ``WeakVOCDataset`` & co.)

    Args:
        num_classes (int, optional): Values ``>= num_classes`` (other than
            ``ignore_index``) are errors. ``None`` (default) takes the
            sample's ``num_classes`` (the dataset's class count); without
            one either, values are not checked. An explicit value must
            agree with the sample's.
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
        num_classes, note = resolve_num_classes(self.num_classes, results,
                                                'LoadVerifiedAnnotations')
        if num_classes is not None:
            values = np.unique(seg)
            bad = values[(values >= num_classes)
                         & (values != self.ignore_index)]
            if bad.size:
                raise AnnotationError(
                    f'{path}: mask has label values {bad.tolist()} outside '
                    f'[0, {num_classes}) and != {self.ignore_index}{note}')
        check_num_classes(self.num_classes, results,
                          'LoadVerifiedAnnotations')
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
    - num_classes (when the argument is ``None``; set by ``WeakVOCDataset``
      & co.)

    Added Keys:

    - gt_img_labels (np.float32, ``(num_classes,)``, multi-hot)

    Args:
        num_classes (int, optional): Length of the vector (background
            included). ``None`` (default) takes the sample's
            ``num_classes`` (the dataset's class count); an explicit value
            must agree with the sample's.
        source (str): ``'annotation'``, ``'seg_map'`` or ``'gt_mask'``.
        ignore_index (int): Mask value that is not a class. Defaults to 255.
        imdecode_backend (str): Backend to decode ``gt_mask`` files.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 source: str = 'annotation',
                 ignore_index: int = 255,
                 imdecode_backend: str = 'pillow') -> None:
        check_choice('source', source, ('annotation', 'seg_map', 'gt_mask'))
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
        num_classes, note = resolve_num_classes(self.num_classes, results,
                                                'LoadImageLabels')
        if num_classes is None:
            raise AnnotationError(
                f"{results.get('img_path')}: LoadImageLabels has no class "
                'count: give it num_classes, or load the sample from a '
                'dataset that sets num_classes (WeakVOCDataset & co.)')
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
        bad = [c for c in labels if not 0 <= c < num_classes]
        if bad:
            raise AnnotationError(
                f'{origin}: class ids {bad} outside [0, {num_classes})'
                f'{note}')
        check_num_classes(self.num_classes, results, 'LoadImageLabels')
        vec = np.zeros(num_classes, dtype=np.float32)
        vec[list(labels)] = 1
        results['gt_img_labels'] = vec
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f"source='{self.source}', ignore_index={self.ignore_index})")
