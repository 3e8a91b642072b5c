"""Transforms that turn boxes into dense supervision."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.box_masks import boxes_to_masks, boxes_to_seg_map
from ...utils.soft_maps import classes_key
from ..voc_annotation import AnnotationError
from .loading import check_num_classes, resolve_num_classes


@TRANSFORMS.register_module()
class BoxesToSegMap(BaseTransform):
    """Fill boxes as a label map: the naive "boxes as masks" weak baseline.

    Pixels outside every box get ``background_index``; where boxes overlap the
    smaller box wins. Run it right after ``LoadBoxAnnotations`` so that MMSeg's
    geometric transforms treat the result as any ``gt_seg_map``.

    Required Keys:

    - gt_bboxes
    - gt_bboxes_labels
    - img (its shape is the map's shape)

    Added Keys:

    - gt_seg_map (np.uint8)
    - seg_fields (``'gt_seg_map'`` appended)

    Args:
        background_index (int): Label outside all boxes. Defaults to 0.
    """

    def __init__(self, background_index: int = 0) -> None:
        self.background_index = background_index

    def transform(self, results: dict) -> dict:
        results['gt_seg_map'] = boxes_to_seg_map(
            results['gt_bboxes'], results['gt_bboxes_labels'],
            results['img'].shape[:2], self.background_index)
        if 'gt_seg_map' not in results.setdefault('seg_fields', []):
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}'
                f'(background_index={self.background_index})')


@TRANSFORMS.register_module()
class RasterizeBoxMasks(BaseTransform):
    """Rasterise boxes into ``(num_classes, H, W)`` binary box masks.

    Channel ``c`` is 1 inside any box of class ``c``; the background channel
    is 1 outside all boxes. Place it *after* the geometric augmentation (the
    boxes are kept aligned by ``Resize``/``RandomFlip``/``BoxAwareRandomCrop``)
    so the masks match the final image. The model-side box encoder rasterises
    from ``gt_instances`` on the padded batch instead; this transform serves
    pipelines and analysis that want the masks as data.

    Required Keys:

    - gt_bboxes
    - gt_bboxes_labels
    - img
    - num_classes (when the argument is ``None``; set by ``WeakVOCDataset``
      & co.)

    Added Keys:

    - ``out_key`` (np.uint8, ``(num_classes, H, W)``)
    - ``out_key + '_classes'`` (np.int64, ``arange(num_classes)``: the class
      id of each channel, so the masks are a soft map of the pseudo-label
      contract that ``PAMRRefineMasks`` / ``DenseCRFRefine`` refine)

    Args:
        num_classes (int, optional): Number of classes, background
            included. ``None`` (default) takes the sample's ``num_classes``
            (the dataset's class count); an explicit value must agree with
            the sample's.
        background_index (int, optional): The background channel. Defaults
            to 0.
        out_key (str): Output key. Defaults to ``'gt_box_masks'``, which
            ``PackWeakSegInputs`` packs for the model (place the transform
            after the geometric ones then); another key (e.g.
            ``'box_masks'``) keeps the masks in the pipeline only, e.g. to
            refine them into a ``gt_seg_map`` before the geometric
            transforms.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 background_index: Optional[int] = 0,
                 out_key: str = 'gt_box_masks') -> None:
        self.out_key = out_key
        self.num_classes = num_classes
        self.background_index = background_index

    def transform(self, results: dict) -> dict:
        check_num_classes(self.num_classes, results, 'RasterizeBoxMasks')
        num_classes, _ = resolve_num_classes(self.num_classes, results,
                                             'RasterizeBoxMasks')
        if num_classes is None:
            raise AnnotationError(
                f"{results.get('img_path')}: RasterizeBoxMasks has no class "
                'count: give it num_classes, or load the sample from a '
                'dataset that sets num_classes (WeakVOCDataset & co.)')
        try:
            masks = boxes_to_masks(results['gt_bboxes'],
                                   results['gt_bboxes_labels'],
                                   num_classes, results['img'].shape[:2],
                                   self.background_index)
        except ValueError as e:
            raise ValueError(f"{results.get('img_path')}: {e}") from None
        # the pseudo-label contract (mmseg_weak.utils.soft_maps): channel c
        # is class c, so PAMRRefineMasks / DenseCRFRefine can refine it
        results[self.out_key] = masks
        results[classes_key(self.out_key)] = np.arange(
            num_classes, dtype=np.int64)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'background_index={self.background_index}, '
                f'out_key={self.out_key!r})')
