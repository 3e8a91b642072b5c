"""MS COCO 2014 in the VOC-style layout of weakly supervised segmentation.

Li et al., *Pseudo-mask Matters in Weakly-supervised Semantic Segmentation*,
ICCV 2021, Sec. 4.1 (https://arxiv.org/abs/2108.12995), following the WSSS
convention on COCO 2014: the class index of a pixel is its COCO category id
(1-90), 0 is background, so there are 91 classes of which the 10 ids that
COCO never uses (12, 26, 29, 30, 45, 66, 68, 69, 71, 83) are empty: they
never occur in a label and their IoU is NaN (skipped by ``nanmean``) unless
the model predicts them.

``tools/dataset_converters/coco2014_to_voc.py`` writes the layout::

    data/coco2014
    ├── train2014/COCO_train2014_<id>.jpg   (COCO's own image folders)
    ├── val2014/COCO_val2014_<id>.jpg
    └── voc_format
        ├── class_labels/<image stem>.png   (ground truth, palette PNG)
        ├── train.txt, val.txt              (stems of annotated images)
        └── <pseudo-mask folder>/<image stem>.png

Image-level labels are the classes present in the ground-truth mask
(``LoadImageLabels(source='gt_mask')``, "all the mask annotations are
converted to image level multi-label ground-truths"); there are no XML files
and no boxes.
"""
from typing import List, Tuple

from mmdet.datasets.coco import CocoDataset
from mmseg.registry import DATASETS

from ..utils.label_png import voc_palette
from ..utils.supervision import FULL
from .voc_weak import WeakVOCDataset

__all__ = [
    'COCO2014_UNUSED_IDS', 'COCO2014_NUM_CLASSES', 'coco2014_classes',
    'WeakCOCODataset'
]

#: Category ids in 1-90 that COCO 2014 has no annotation for.
COCO2014_UNUSED_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)
#: Background plus ids 1-90.
COCO2014_NUM_CLASSES = 91


def coco2014_classes() -> Tuple[str, ...]:
    """The 91 class names indexed by COCO category id.

    Index 0 is ``'background'``, the 80 used ids carry mmdet's COCO names
    (in id order) and the unused ids are named ``'unused_<id>'``.

    Returns:
        tuple[str]: 91 names.
    """
    names = iter(CocoDataset.METAINFO['classes'])
    classes = ['background']
    for cat_id in range(1, COCO2014_NUM_CLASSES):
        classes.append(f'unused_{cat_id}' if cat_id in COCO2014_UNUSED_IDS
                       else next(names))
    return tuple(classes)


def _palette() -> List[List[int]]:
    return [list(rgb) for rgb in voc_palette(COCO2014_NUM_CLASSES)]


@DATASETS.register_module()
class WeakCOCODataset(WeakVOCDataset):
    """COCO 2014 (VOC-style layout, 91 classes) with per-image supervision.

    Same data infos as :class:`WeakVOCDataset` (``'full'``, ``'pseudo_mask'``,
    ``'image_label'``, ``'unlabeled'``); image-level labels come from the
    ground-truth mask at ``gt_seg_map_path`` (there are no XML annotations),
    and there are no boxes.

    Args:
        ann_file (str): Split list of image stems (e.g.
            ``'voc_format/train.txt'``), relative to ``data_root``.
        supervision (str): Supervision of every sample. Defaults to
            ``'full'``.
        **kwargs: :class:`WeakVOCDataset` arguments (``image_label_source``
            must stay ``'gt_mask'``, ``with_boxes`` False). ``data_prefix``
            holds ``img_path`` (``'train2014'`` or ``'val2014'``),
            ``seg_map_path`` (ground truth) and, for pseudo-masks,
            ``pseudo_path``; it defaults to :attr:`DEFAULT_DATA_PREFIX`
            (``train2014``, ``voc_format/class_labels``).
    """
    METAINFO = dict(classes=coco2014_classes(), palette=_palette())
    DEFAULT_DATA_PREFIX = dict(
        img_path='train2014', seg_map_path='voc_format/class_labels')

    def __init__(self,
                 ann_file: str,
                 supervision: str = FULL,
                 **kwargs) -> None:
        if kwargs.setdefault('image_label_source', 'gt_mask') != 'gt_mask':
            raise ValueError(
                'WeakCOCODataset has no XML annotations: image labels come '
                "from the ground-truth mask (image_label_source='gt_mask'), "
                f"got {kwargs['image_label_source']!r}")
        if kwargs.get('with_boxes'):
            raise ValueError('WeakCOCODataset provides no boxes '
                             '(with_boxes must be False)')
        kwargs['with_boxes'] = False
        super().__init__(ann_file=ann_file, supervision=supervision, **kwargs)
