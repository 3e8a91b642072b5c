"""Generated datasets for tests, benchmarks and the demo (not imported by the
runtime package): VOC-format and Cityscapes-format folders rendered from a
seed, with masks, boxes and image labels that are right by construction."""
from .synthetic_cityscapes import generate_synthetic_cityscapes
from .synthetic_voc import (SYNTHETIC_CLASSES, VOC_PALETTE,
                            generate_synthetic_voc)

__all__ = [
    'SYNTHETIC_CLASSES', 'VOC_PALETTE', 'generate_synthetic_cityscapes',
    'generate_synthetic_voc'
]
