"""Sweeps at scale: Dask scheduling, the as-completed batch loop, progress, ``run_to_file``.

``run_to_file`` is imported lazily so that :mod:`qrate.engine` can be used without Dask.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Limits",
    "PointResult",
    "PointTally",
    "SweepProgress",
    "iter_collect",
    "open_client",
    "parse_scheduler",
    "run_sweep",
    "run_to_file",
]

_LAZY = {
    "Limits": "qrate.sweep.stopping",
    "PointTally": "qrate.sweep.stopping",
    "PointResult": "qrate.sweep.collect",
    "run_sweep": "qrate.sweep.collect",
    "SweepProgress": "qrate.sweep.progress",
    "iter_collect": "qrate.sweep.collect",
    "open_client": "qrate.sweep.scheduler",
    "parse_scheduler": "qrate.sweep.scheduler",
    "run_to_file": "qrate.sweep.run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qrate.sweep' has no attribute {name!r}")
