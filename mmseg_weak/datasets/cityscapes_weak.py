"""Cityscapes with per-image supervision, in two class sets.

- :class:`WeakCityscapesDataset`: an object segmentation task with boxes, as in
  `Ibrahim et al., CVPR 2020 <https://arxiv.org/abs/1911.07450>`_ (Sec. 4.2):
  the 11 object classes (pole, traffic light, traffic sign, person, rider, car,
  truck, bus, train, motorcycle, bicycle) are foreground, every other class is
  background. Masks are mapped to these 12 classes through the dataset's
  ``label_map``; boxes come from ``*_gtFine_instanceIds.png`` (see
  :class:`~mmseg_weak.datasets.transforms.LoadBoxesFromInstanceMap`).
- :class:`SemiCityscapesDataset`: the 19 classes of MMSeg's
  ``CityscapesDataset`` (the semi-supervised benchmark of `Lai et al., CVPR
  2021 <https://arxiv.org/abs/2106.14133>`_), masks read as they are.

Masks are MMSeg's ``*_gtFine_labelTrainIds.png`` (written by MMSeg's
``cityscapes.py`` converter).
"""
import os
import os.path as osp
from typing import Dict, List, Optional

from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .voc_annotation import AnnotationError, read_split
from .voc_weak import WeakVOCDataset

CITYSCAPES_OBJECT_CLASSES = ('background', 'pole', 'traffic light',
                             'traffic sign', 'person', 'rider', 'car',
                             'truck', 'bus', 'train', 'motorcycle', 'bicycle')
#: Cityscapes ``labelId`` of each object class (index = class id - 1)
OBJECT_LABEL_IDS = (17, 19, 20, 24, 25, 26, 27, 28, 31, 32, 33)
#: Cityscapes ``trainId`` of each object class (index = class id - 1)
OBJECT_TRAIN_IDS = (5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18)
#: trainId (0..18) → object class id (0 = background)
TRAIN_ID_TO_OBJECT = {
    t: (OBJECT_TRAIN_IDS.index(t) + 1 if t in OBJECT_TRAIN_IDS else 0)
    for t in range(19)
}
#: labelId → object class id, for the classes that get boxes
LABEL_ID_TO_OBJECT = {lid: i + 1 for i, lid in enumerate(OBJECT_LABEL_IDS)}


@DATASETS.register_module()
class WeakCityscapesDataset(WeakVOCDataset):
    """Cityscapes with per-image supervision (``'full'``, ``'box'``,
    ``'image_label'`` from the GT mask, ``'pseudo_mask'``, ``'unlabeled'``)
    over the 12 classes of the self-correction paper.

    Image ids are ``<city>/<city>_<seq>_<frame>``; ``ann_file`` is an optional
    split list of such ids (e.g. written by ``make_splits.py`` from
    ``--pool`` lists), and without it every image under
    ``data_prefix['img_path']`` is used. Boxes need
    ``*_gtFine_instanceIds.png`` next to the masks.

    Args:
        ann_file (str): Split list, or ``''`` for all images.
        instance_suffix (str): Suffix of the instance-id maps.
        **kwargs: :class:`WeakVOCDataset` arguments; ``data_prefix``
            defaults to :attr:`DEFAULT_DATA_PREFIX` (``leftImg8bit/train``,
            ``gtFine/train``).
    """
    METAINFO = dict(
        classes=CITYSCAPES_OBJECT_CLASSES,
        palette=[[0, 0, 0], [153, 153, 153], [250, 170, 30], [220, 220, 0],
                 [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
                 [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]])
    DEFAULT_DATA_PREFIX = dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train')

    def __init__(self,
                 ann_file: str = '',
                 instance_suffix: str = '_gtFine_instanceIds.png',
                 img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 image_label_source: str = 'gt_mask',
                 **kwargs) -> None:
        self.instance_suffix = instance_suffix
        if kwargs.get('own_classes') and self.TRAIN_ID_MAP is not None:
            raise ValueError(
                f'{type(self).__name__} maps trainIds to its fixed classes '
                f"{self.METAINFO['classes']}: own_classes=True is for "
                'datasets whose mask values are the ids of their own classes '
                '(WeakVOCDataset, SemiCityscapesDataset)')
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            image_label_source=image_label_source,
            **kwargs)

    #: trainId → class id of this dataset (``None``: masks read as they are)
    TRAIN_ID_MAP: Optional[Dict[int, int]] = TRAIN_ID_TO_OBJECT

    @classmethod
    def get_label_map(cls, new_classes=None) -> Optional[Dict[int, int]]:
        """trainIds of the masks → the 12 object classes."""
        if cls.TRAIN_ID_MAP is None:
            return super().get_label_map(new_classes)
        if new_classes is not None and tuple(new_classes) != tuple(
                cls.METAINFO['classes']):
            raise ValueError('WeakCityscapesDataset has fixed classes '
                             f"{cls.METAINFO['classes']}")
        return dict(cls.TRAIN_ID_MAP)

    def _update_palette(self) -> list:
        if self.TRAIN_ID_MAP is None:
            return super()._update_palette()
        return list(self.METAINFO['palette'])

    @property
    def _reads_annotation(self) -> bool:
        if (self.image_label_source == 'xml'
                and self.supervision == 'image_label'):
            raise ValueError('Cityscapes has no XML: use '
                             "image_label_source='gt_mask'")
        return self.with_boxes

    def _add_annotation(self, img_id: str, info: Dict) -> None:
        """Point the sample at its instance-id map (boxes are read by
        ``LoadBoxesFromInstanceMap``)."""
        path = osp.join(self.data_prefix['seg_map_path'],
                        img_id + self.instance_suffix)
        if not self._exists(path):
            raise AnnotationError(
                f'{path}: instance-id map of image {img_id} not found')
        info['instance_map_path'] = path

    def split_ids(self) -> List[str]:
        if self.ann_file:
            return read_split(self.ann_file)
        root = self.data_prefix['img_path']
        ids = sorted(
            osp.join(osp.relpath(d, root), f[:-len(self.img_suffix)])
            for d, _, files in os.walk(root) for f in files
            if f.endswith(self.img_suffix))
        if not ids:
            raise AnnotationError(
                f'{root}: no image ending in {self.img_suffix}')
        return ids


@DATASETS.register_module()
class SemiCityscapesDataset(WeakCityscapesDataset):
    """Cityscapes with the 19 classes of MMSeg's ``CityscapesDataset`` and
    per-image supervision (``'full'``, ``'image_label'`` from the GT mask,
    ``'pseudo_mask'``, ``'unlabeled'``), for semi-supervised configs such as
    `Lai et al., CVPR 2021 <https://arxiv.org/abs/2106.14133>`_ (Sec. 4.1):
    labeled and unlabeled subsets of the 2,975 training images, evaluated on
    the 500 validation images over the 19 classes.

    The ``*_gtFine_labelTrainIds.png`` masks are read as they are (trainIds
    0–18, 255 ignored); ``metainfo=dict(classes=...)`` selects a subset as in
    MMSeg. Boxes are not available: stuff classes have no instances.

    Args:
        ann_file (str): Split list of ``<city>/<city>_<seq>_<frame>`` ids, or
            ``''`` for every image under ``data_prefix['img_path']``.
        **kwargs: :class:`WeakCityscapesDataset` arguments.
    """
    METAINFO = CityscapesDataset.METAINFO
    TRAIN_ID_MAP = None

    def __init__(self, ann_file: str = '', **kwargs) -> None:
        if kwargs.get('with_boxes') or kwargs.get('supervision') == 'box':
            raise ValueError(
                'SemiCityscapesDataset has no boxes (its stuff classes have '
                'no instances): use WeakCityscapesDataset for box '
                'supervision')
        super().__init__(ann_file=ann_file, **kwargs)
