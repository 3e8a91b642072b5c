from .cityscapes_weak import SemiCityscapesDataset, WeakCityscapesDataset
from .coco_weak import (COCO2014_NUM_CLASSES, COCO2014_UNUSED_IDS,
                        WeakCOCODataset, coco2014_classes)
from .splits import make_fraction_splits, write_splits
from .transforms import *  # noqa: F401,F403
from .voc_annotation import AnnotationError, parse_voc_xml, read_split
from .voc_weak import WeakVOCDataset

__all__ = [
    'AnnotationError', 'COCO2014_NUM_CLASSES', 'COCO2014_UNUSED_IDS',
    'SemiCityscapesDataset', 'WeakCOCODataset', 'WeakCityscapesDataset',
    'WeakVOCDataset', 'coco2014_classes', 'make_fraction_splits',
    'parse_voc_xml', 'read_split', 'write_splits'
]
