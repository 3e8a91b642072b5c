"""Serial torch operations per thread (mmseg_weak.models.utils.
serial_threads): the calling thread's or worker threads' own OpenMP limit,
never the process-wide default other threads inherit."""
import threading

import pytest
import torch

from mmseg_weak.models.utils import serial_threads
from mmseg_weak.models.utils.serial_threads import (map_serial_threads,
                                                    serial_torch_ops)

needs_openmp = pytest.mark.skipif(
    serial_threads._openmp_runtimes() is None,
    reason="torch's OpenMP runtime was not found (the helpers then fall "
    'back to intra-op threads)')


@pytest.fixture(autouse=True)
def _two_torch_threads():
    """Two torch threads in every test (other test modules set one at
    import), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _fresh_thread_count():
    """torch's thread count in a thread that starts now."""
    counts = []
    thread = threading.Thread(
        target=lambda: counts.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return counts[0]


@needs_openmp
def test_serial_block_limits_only_the_calling_thread():
    assert torch.get_num_threads() == 2
    with serial_torch_ops():
        assert torch.get_num_threads() == 1
        # a thread starting meanwhile gets the process default
        assert _fresh_thread_count() == 2
        with serial_torch_ops():  # nested: still serial, then restored
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError):
        with serial_torch_ops():
            raise RuntimeError('restored on errors too')
    assert torch.get_num_threads() == 2


@needs_openmp
def test_map_runs_items_in_serial_worker_threads():
    caller = threading.get_ident()

    def work(item):
        return item * item, torch.get_num_threads(), threading.get_ident()

    results = map_serial_threads(work, range(6), torch.device('cpu'))
    assert [r[0] for r in results] == [i * i for i in range(6)]
    assert all(r[1] == 1 for r in results)  # serial in the workers
    assert all(r[2] != caller for r in results)
    assert torch.get_num_threads() == 2 and _fresh_thread_count() == 2


def test_map_falls_back_to_the_calling_thread():
    caller = threading.get_ident()

    def where(_):
        return threading.get_ident()

    # a single item, or one torch thread: no pool
    assert map_serial_threads(where, [0], torch.device('cpu')) == [caller]
    if serial_threads._openmp_runtimes() is not None:
        # the single item still runs serially, and the count is restored
        assert map_serial_threads(lambda _: torch.get_num_threads(), [0],
                                  torch.device('cpu')) == [1]
        assert torch.get_num_threads() == 2
    torch.set_num_threads(1)
    try:
        assert map_serial_threads(where, range(3),
                                  torch.device('cpu')) == [caller] * 3
    finally:
        torch.set_num_threads(2)
    # not a CPU device (the work is not run, only scheduled here)
    assert map_serial_threads(where, range(3),
                              torch.device('meta')) == [caller] * 3


def test_map_reraises_a_worker_error():

    def fail(item):
        if item == 2:
            raise ValueError('item 2')
        return item

    with pytest.raises(ValueError, match='item 2'):
        map_serial_threads(fail, range(4), torch.device('cpu'))
