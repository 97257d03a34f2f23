"""Keep glibc from returning every large numpy buffer to the OS after each batch.

Each batch allocates and frees a few arrays of megabytes (Stim's measurement records). Dask's
nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also freezes glibc's dynamic
mmap threshold, so every such buffer is mmap'd, page-faulted and unmapped again: batches ran
~1.7x slower in workers than in-process (``benchmarks``, 42 vs 24 ms for a ``khan-acka-leo``
batch). Raising both thresholds once per process keeps the buffers on the heap (21 ms).

Only a process started with ``MALLOC_TRIM_THRESHOLD_`` set (a Dask worker) is tuned: elsewhere glibc's
dynamic thresholds already keep such buffers on the heap, and a client that receives results on
several threads would keep up to the trim threshold of free heap in each of their arenas (a
10^6-point ``auto`` run's client, which times its first points in-process, peaked at 724 MiB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20
"""Allocations below this stay on the heap (32 MiB is glibc's upper bound on 64-bit)."""
TRIM_THRESHOLD_BYTES = 128 << 20
"""Free heap kept by the process before it is trimmed."""

_done = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process started with ``MALLOC_TRIM_THRESHOLD_``
    set (a Dask worker); False where nothing was tuned (no such variable, or no glibc)."""
    global _done
    if _done:
        return True
    if os.environ.get("MALLOC_TRIM_THRESHOLD_") is None:  # glibc's dynamic thresholds are in effect
        return False
    _done = True
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
