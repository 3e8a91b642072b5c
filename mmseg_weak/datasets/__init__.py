from .cityscapes_weak import WeakCityscapesDataset
from .splits import make_fraction_splits, write_splits
from .transforms import *  # noqa: F401,F403
from .voc_annotation import AnnotationError, parse_voc_xml, read_split
from .voc_weak import WeakVOCDataset

__all__ = [
    'AnnotationError', 'WeakCityscapesDataset', 'WeakVOCDataset', 'make_fraction_splits',
    'parse_voc_xml', 'read_split', 'write_splits'
]
