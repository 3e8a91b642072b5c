"""Wall time and peak memory of one call, for the benchmark scripts in
``tools/analysis_tools/``."""
import json
import os
import resource
import subprocess
import time
from typing import Any, Callable, List, Sequence, Tuple

import torch

__all__ = ['max_rss_mib', 'measure_in_subprocess', 'time_and_peak_memory']


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


def measure_in_subprocess(cmd: Sequence[str], threads: int, what: str,
                          **env: str) -> dict:
    """Run one measurement in a fresh process and return its result.

    A process's peak memory only grows, so the benchmark scripts measure
    each case in its own process: ``cmd`` (the script itself in its worker
    mode) runs with ``OMP_NUM_THREADS=threads`` and prints its result as a
    JSON object on the last line of its standard output.

    Args:
        cmd (Sequence[str]): The command line.
        threads (int): ``OMP_NUM_THREADS`` of the process.
        what (str): The case, for the error message.
        **env (str): More environment variables of the process.

    Returns:
        dict: The JSON object of the last output line.

    Raises:
        RuntimeError: The process failed (with its standard error).
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), **env)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f'{what} failed:\n{proc.stderr}')
    return json.loads(proc.stdout.strip().splitlines()[-1])
