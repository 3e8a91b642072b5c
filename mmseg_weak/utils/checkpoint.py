"""Loading mmengine checkpoints with ``torch.load(weights_only=True)``.

Why
---
Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``: the pickle
is read by a restricted unpickler that only accepts tensors, primitive Python
containers and globals on an allow-list. mmengine 0.10.7 (``Runner.resume``,
``load_from``, ``load_checkpoint``, MMSeg's ``init_model`` and
``tools/test.py``) calls ``torch.load`` without ``weights_only``, and its
checkpoints hold more than tensors: ``message_hub`` stores
``mmengine.logging.HistoryBuffer`` objects (numpy ``float64``/``int64``
arrays plus the class-level ``statistics_methods`` dict of
``HistoryBuffer.min/max/current/mean``) and numpy scalars (e.g. ``eta``).
Loading therefore fails with ``Unsupported global``.

Instead of turning the protection off (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
or ``weights_only=False``, which execute arbitrary pickled code), this module
adds exactly the globals such checkpoints need to torch's allow-list with
:func:`torch.serialization.add_safe_globals`. The list was obtained by
training a tiny model with mmengine's ``Runner`` (SGD with momentum,
``LinearLR``/``PolyLR`` schedulers, ``CheckpointHook``) and an MMSeg
``EncoderDecoder``, and loading the checkpoints with ``weights_only=True``
until they loaded (see
:func:`torch.serialization.get_unsafe_globals_in_checkpoint`).

What is allowed
---------------
* ``mmengine.logging.history_buffer.HistoryBuffer`` -- a plain data holder
  (its ``__setstate__`` only stores the state).
* ``numpy.ndarray``, ``numpy.dtype``, ``numpy._core.multiarray._reconstruct``
  and ``numpy._core.multiarray.scalar`` -- rebuild numpy arrays and scalars;
  the same two functions are also registered under their numpy 1.x names
  ``numpy.core.multiarray._reconstruct`` / ``numpy.core.multiarray.scalar``
  so that checkpoints written with numpy 1.x load too.
* The numpy 2.x dtype classes of fixed-size numbers
  (``numpy.dtypes.BoolDType``, ``Int8DType`` ... ``UInt64DType``,
  ``Float16DType`` ... ``LongDoubleDType``, ``Complex64DType`` ...
  ``CLongDoubleDType`` and their C-named aliases): the unpickler only
  restores a ``numpy.dtype``'s state when its exact class is allow-listed.
  ``ObjectDType``, ``VoidDType`` (structured, may embed objects) and
  ``StringDType`` are deliberately *not* allowed.
* ``builtins.getattr`` -- **not** the builtin. Under that name a restricted
  replacement is registered that only resolves ``getattr(HistoryBuffer,
  name)`` for ``name`` in ``min``, ``max``, ``current``, ``mean`` (this is how
  pickle protocol 2 stores ``HistoryBuffer.min`` & co.) and raises
  :class:`pickle.UnpicklingError` for anything else. Allowing the real
  ``getattr`` would give a pickle access to ``__globals__`` and hence to
  arbitrary code.

When
----
``import mmseg_weak`` calls :func:`register_checkpoint_safe_globals`, so any
tool whose config has ``custom_imports=dict(imports=['mmseg_weak'])`` --
including MMSeg's own ``tools/test.py`` and
``tools/analysis_tools/benchmark.py``, whose ``Config.fromfile`` imports it
before the checkpoint is read -- loads our checkpoints with the
``weights_only`` default, without ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``.

Everything else (arbitrary classes, functions, ``eval``, ...) is still
rejected by ``torch.load(..., weights_only=True)``. A checkpoint holding
other objects (e.g. custom statistics registered with
``HistoryBuffer.register_statistics`` or objects stored by custom hooks in
``message_hub``) will fail to load with an ``Unsupported global`` error;
allow-list such types explicitly only if they are safe.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch

__all__ = [
    'HISTORY_BUFFER_STATISTICS', 'checkpoint_safe_globals',
    'register_checkpoint_safe_globals'
]

SafeGlobal = Union[Callable, Tuple[Callable, str]]

#: ``HistoryBuffer`` methods that mmengine pickles as
#: ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

# numpy 2.x dtype classes (``numpy.dtypes``) of fixed-size numbers.
_NUMPY_DTYPE_CLASS_NAMES = (
    'BoolDType',
    'Int8DType', 'Int16DType', 'Int32DType', 'Int64DType',
    'UInt8DType', 'UInt16DType', 'UInt32DType', 'UInt64DType',
    'ByteDType', 'ShortDType', 'IntDType', 'LongDType', 'LongLongDType',
    'UByteDType', 'UShortDType', 'UIntDType', 'ULongDType', 'ULongLongDType',
    'Float16DType', 'Float32DType', 'Float64DType', 'LongDoubleDType',
    'Complex64DType', 'Complex128DType', 'CLongDoubleDType',
)

_REGISTERED = False


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Restricted stand-in for ``builtins.getattr`` during unpickling.

    Args:
        obj: Must be the ``HistoryBuffer`` class.
        name: Must be one of :data:`HISTORY_BUFFER_STATISTICS`.

    Returns:
        The ``HistoryBuffer`` statistics function.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed; only '
        f'HistoryBuffer.{{{", ".join(HISTORY_BUFFER_STATISTICS)}}} are.')


def _numpy_core_function(name: str) -> Callable:
    """Return ``numpy._core.multiarray.<name>`` (numpy 2.x) or the numpy 1.x
    ``numpy.core.multiarray.<name>`` without touching deprecated shims.

    Args:
        name: Function name in ``multiarray`` (``_reconstruct``, ``scalar``).

    Returns:
        Callable: The numpy function.
    """
    core = getattr(np, '_core', None)
    if core is None:  # numpy < 2
        core = np.core  # type: ignore[attr-defined]
    return getattr(core.multiarray, name)


def checkpoint_safe_globals() -> List[SafeGlobal]:
    """The allow-list needed to load mmengine checkpoints weights-only.

    Usable with :func:`torch.serialization.add_safe_globals` or the
    :class:`torch.serialization.safe_globals` context manager.

    Returns:
        list: Classes/functions, or ``(callable, pickled_name)`` tuples where
        the name in the pickle differs from the object's own path.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    safe: List[SafeGlobal] = [HistoryBuffer, np.ndarray, np.dtype]
    for fn_name in ('_reconstruct', 'scalar'):
        fn = _numpy_core_function(fn_name)
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            safe.append((fn, f'{module}.{fn_name}'))
    dtypes_mod = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes_mod is not None:
        seen: list = []
        for cls_name in _NUMPY_DTYPE_CLASS_NAMES:
            cls = getattr(dtypes_mod, cls_name, None)
            if cls is not None and not any(cls is s for s in seen):
                seen.append(cls)
        safe.extend(seen)
    safe.append((_history_buffer_getattr, 'builtins.getattr'))
    return safe


def register_checkpoint_safe_globals() -> List[SafeGlobal]:
    """Add :func:`checkpoint_safe_globals` to torch's weights-only allow-list.

    Idempotent: later calls do nothing. A no-op on torch versions without
    :func:`torch.serialization.add_safe_globals` (they do not default to
    ``weights_only=True`` either).

    Returns:
        list: The allow-listed globals.
    """
    global _REGISTERED
    safe = checkpoint_safe_globals()
    if not _REGISTERED and hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(safe)
        _REGISTERED = True
    return safe
