"""Wall time and peak memory of one call, for the benchmark scripts in
``tools/analysis_tools/``."""
import resource
import time
from typing import Any, Callable, List, Tuple

import torch

__all__ = ['max_rss_mib', 'time_and_peak_memory']


def max_rss_mib() -> float:
    """The process's peak resident set size so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_and_peak_memory(fn: Callable[[], Any], device: str = 'cpu',
                         repeats: int = 1) -> Tuple[List[float], float, Any]:
    """Run ``fn()`` ``repeats`` times.

    On CUDA the first call is a warm-up (context, kernels) and the peak is
    ``max_memory_allocated`` above the memory allocated before the measured
    call; on CPU the peak is the growth of the process's peak RSS during the
    first call (run each measurement in a fresh process for a meaningful
    number).

    Returns:
        tuple: sorted wall times in seconds, peak memory in MiB, and the
        output of the first measured call.
    """
    cuda = device.startswith('cuda')

    def call():
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start, out

    if cuda:
        call()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    rss_before = max_rss_mib()
    first, out = call()
    if cuda:
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = max_rss_mib() - rss_before
    times = [first] + [call()[0] for _ in range(repeats - 1)]
    return sorted(times), peak, out
