"""mmseg_weak: weakly- and semi-supervised semantic segmentation for MMSeg 1.x.

Importing the package registers every component into MMSegmentation's
registries; configs load it with::

    custom_imports = dict(imports=['mmseg_weak'], allow_failed_imports=False)

It also adds the globals of mmengine checkpoints (``HistoryBuffer``, numpy
arrays/scalars; see :mod:`mmseg_weak.utils.checkpoint`) to torch's
``weights_only`` allow-list, so that MMSeg's own ``tools/test.py``,
``benchmark.py`` or ``init_model`` load our checkpoints under torch >= 2.6
without ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``: the config's
``custom_imports`` is imported by ``Config.fromfile``, before any checkpoint
is read.
"""
from . import datasets, engine, models, utils  # noqa: F401
from .utils.checkpoint import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = ['__version__']
