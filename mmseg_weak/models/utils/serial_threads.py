"""Run torch's CPU operations serially in one thread, or map a function over
independent items in worker threads that each do so, without changing any
thread setting that another thread sees.

torch parallelises a CPU operation over its intra-op threads (OpenMP). For
many small operations (per-image work such as PAMR or a dense CRF) it is
faster and, on a CPU shared with other jobs, much steadier to give every
thread whole items and run each item's operations serially.
``torch.set_num_threads(1)`` cannot be used for that from library code: it
also sets the process-wide default that threads starting meanwhile inherit,
so concurrent callers would leak a thread count of one into each other's
threads. The OpenMP thread count itself (``omp_set_num_threads``) is a
per-thread setting, and torch reads it for every operation: this module
lowers it to one in worker threads it owns (and discards with them), the
technique of threadpoolctl, or lowers it in the calling thread for the
duration of a block and restores it. Where the OpenMP runtime torch uses
cannot be found (another threading backend, an unknown platform) both fall
back to torch's usual intra-op threads.
"""
import contextlib
import ctypes
import functools
import os
import os.path as osp
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, List, Optional, Sequence, TypeVar

import torch

__all__ = ['map_serial_threads', 'serial_torch_ops']

T = TypeVar('T')
R = TypeVar('R')

#: File name prefixes of the OpenMP runtimes torch is built with.
_OPENMP_PREFIXES = ('libgomp', 'libomp', 'libiomp5')


def _loaded_openmp_paths() -> List[str]:
    """Paths of the OpenMP runtimes mapped into this process (Linux) or
    shipped with torch (other platforms)."""
    paths = []
    if osp.exists('/proc/self/maps'):
        with open('/proc/self/maps') as maps:
            for line in maps:
                path = line.split()[-1]
                if (osp.basename(path).startswith(_OPENMP_PREFIXES)
                        and path not in paths):
                    paths.append(path)
    if not paths:
        lib_dir = osp.join(osp.dirname(torch.__file__), 'lib')
        if osp.isdir(lib_dir):
            paths = [
                osp.join(lib_dir, name) for name in sorted(os.listdir(lib_dir))
                if name.startswith(_OPENMP_PREFIXES)
            ]
    return paths


@functools.lru_cache(maxsize=None)
def _openmp_runtimes() -> Optional[List[ctypes.CDLL]]:
    """The OpenMP runtimes whose per-thread limit makes torch run a
    thread's operations serially, or None where that does not work (checked
    once, in a throwaway thread)."""
    if 'parallel backend: OpenMP' not in torch.__config__.parallel_info():
        return None
    runtimes = []
    for path in _loaded_openmp_paths():
        try:
            lib = ctypes.CDLL(path)
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            lib.omp_get_max_threads.restype = ctypes.c_int
        except (OSError, AttributeError):
            continue
        runtimes.append(lib)
    if not runtimes:
        return None
    works = []

    def check() -> None:
        # a count torch does not have yet, so that a runtime torch does not
        # use cannot pass for it
        target = torch.get_num_threads() + 1  # (initialises this thread)
        for lib in runtimes:
            lib.omp_set_num_threads(target)
        works.append(torch.get_num_threads() == target)

    thread = threading.Thread(target=check)
    thread.start()
    thread.join()
    return runtimes if works == [True] else None


@contextlib.contextmanager
def serial_torch_ops() -> Iterator[None]:
    """Run the calling thread's torch CPU operations serially inside the
    block (this thread's OpenMP thread count is lowered to one and restored
    on exit; other threads and the process-wide default are unaffected)."""
    runtimes = (_openmp_runtimes() if torch.get_num_threads() > 1 else None
                )  # (initialises)
    if runtimes is None:
        yield
        return
    previous = [lib.omp_get_max_threads() for lib in runtimes]
    for lib in runtimes:
        lib.omp_set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(runtimes, previous):
            lib.omp_set_num_threads(count)


def _serial_worker_init(runtimes: List[ctypes.CDLL]) -> None:
    """Make torch run this (worker) thread's CPU operations serially."""
    torch.get_num_threads()  # initialise first: it would reset the limit
    for lib in runtimes:
        lib.omp_set_num_threads(1)


def map_serial_threads(fn: Callable[[T], R], items: Sequence[T],
                       device: torch.device) -> List[R]:
    """``[fn(item) for item in items]``, each item with serial torch CPU
    operations, the items in parallel.

    On CPU with more than one torch thread (in the calling thread) and more
    than one item, the items run in a pool of ``min(threads, items)``
    worker threads created for this call, each running torch operations
    serially; a single item runs serially in the calling thread (see
    :func:`serial_torch_ops`). On other devices the items run in turn in
    the calling thread. No thread setting of any other thread, nor the
    process-wide default, is changed.

    Args:
        fn (Callable): Function of one item; its torch operations may run
            in a worker thread.
        items (Sequence): The items.
        device (torch.device): Device of the work (serial threads only on
            CPU).

    Returns:
        list: ``fn(item)`` for every item, in order.
    """
    if torch.device(device).type != 'cpu':
        return [fn(item) for item in items]
    workers = min(torch.get_num_threads(), len(items))
    runtimes = _openmp_runtimes() if workers > 1 else None
    if runtimes is None:
        with serial_torch_ops():
            return [fn(item) for item in items]
    with ThreadPoolExecutor(workers,
                            initializer=_serial_worker_init,
                            initargs=(runtimes, )) as pool:
        # list() re-raises a worker's exception here
        return list(pool.map(fn, items))
