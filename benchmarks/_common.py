"""Helpers shared by the benchmark scripts: machine description, timing, JSON output."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = ("qrate", "numpy", "numba", "stim", "scipy", "h5py", "dask", "distributed")


def machine_info() -> dict[str, Any]:
    """Describe the machine and the package versions a benchmark ran with."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS"),
        "versions": versions,
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def best_time_s(fn: Callable[[], object], *, repeat: int = 5, min_time_s: float = 0.2) -> float:
    """Best wall time of one call of ``fn`` over ``repeat`` rounds (each round loops to ``min_time_s``)."""
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


def write_json(path: str | Path, suite: str, results: list[dict[str, Any]], **extra: Any) -> Path:
    """Write ``{suite, machine, results, ...}`` as JSON to ``path`` (folders created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"suite": suite, "machine": machine_info(), "results": results, **extra}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out
