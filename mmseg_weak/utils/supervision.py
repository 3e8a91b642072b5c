"""Supervision types carried by every weak-label data sample.

Each sample packed by
:class:`~mmseg_weak.datasets.transforms.PackWeakSegInputs` has a
``supervision`` meta key telling what its labels are, so that a model
sees mixed batches (e.g. fully labeled + box-only images drawn by mmdet's
``MultiSourceSampler``) and treats each image by its own supervision.
"""
from typing import List, Sequence

FULL = 'full'  #: pixel-accurate ground-truth mask
BOX = 'box'  #: bounding boxes with class labels
IMAGE_LABEL = 'image_label'  #: image-level class labels
PSEUDO_MASK = 'pseudo_mask'  #: a mask produced by a weakly supervised method
UNLABELED = 'unlabeled'  #: no label at all

SUPERVISION_TYPES = (FULL, BOX, IMAGE_LABEL, PSEUDO_MASK, UNLABELED)


def check_supervision(supervision: str) -> str:
    """Return ``supervision`` if it is a known type, else raise
    ``ValueError``."""
    if supervision not in SUPERVISION_TYPES:
        raise ValueError(f'unknown supervision {supervision!r}; expected one '
                         f'of {SUPERVISION_TYPES}')
    return supervision


def get_supervision(data_sample) -> str:
    """The supervision of a packed data sample (``'full'`` when unset)."""
    return data_sample.metainfo.get('supervision', FULL)


def indices_with_supervision(data_samples: Sequence,
                             *supervisions: str) -> List[int]:
    """Indices of the samples whose supervision is one of ``supervisions``."""
    for s in supervisions:
        check_supervision(s)
    return [
        i for i, sample in enumerate(data_samples)
        if get_supervision(sample) in supervisions
    ]
