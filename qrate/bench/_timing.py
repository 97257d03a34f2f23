"""Timing and machine description shared by ``qrate bench`` and the scripts in ``benchmarks/``."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from qrate._versions import package_versions

PACKAGES = ("qrate", "numpy", "numba", "stim", "scipy", "h5py", "dask", "distributed", "psutil", "sequence")


def machine_info() -> dict[str, Any]:
    """Python, platform, CPU count, NUMBA_NUM_THREADS, package versions and the UTC date."""
    versions = package_versions(PACKAGES)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS"),
        "versions": versions,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def best_time_s(fn: Callable[[], object], *, repeat: int = 5, min_time_s: float = 0.2) -> float:
    """Best wall time (s) of one call of ``fn`` over ``repeat`` rounds (each round loops to ``min_time_s``)."""
    fn()  # warm-up: JIT compilation, caches
    best = float("inf")
    for _ in range(repeat):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time_s:
                break
        best = min(best, elapsed / calls)
    return best


def row(stage: str, name: str, per_s: float, limit_per_s: float | None, **info: Any) -> dict[str, Any]:
    """One result: ``per_s`` (units in ``unit``), the stage's physical limit and the fraction of it."""
    frac = per_s / limit_per_s if limit_per_s else None
    return {"stage": stage, "name": name, **info, "per_s": per_s, "limit_per_s": limit_per_s, "fraction_of_limit": frac}
