"""mmseg_weak: weakly- and semi-supervised semantic segmentation for MMSeg 1.x.

Importing the package registers every component into MMSegmentation's
registries; configs load it with::

    custom_imports = dict(imports=['mmseg_weak'], allow_failed_imports=False)
"""
from . import datasets, engine, evaluation, models, utils  # noqa: F401
from .version import __version__

__all__ = ['__version__']
