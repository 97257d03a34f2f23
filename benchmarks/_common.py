"""Helpers shared by the benchmark scripts: JSON output around the suite's timing helpers.

``machine_info`` and ``best_time_s`` live in :mod:`qrate.bench._timing` (used by ``qrate bench``
too), so every JSON file describes its machine the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qrate.bench._timing import best_time_s, machine_info

__all__ = ["best_time_s", "machine_info", "write_json"]


def write_json(path: str | Path, suite: str, results: list[dict[str, Any]], **extra: Any) -> Path:
    """Write ``{suite, machine, results, ...}`` as JSON to ``path`` (folders created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"suite": suite, "machine": machine_info(), "results": results, **extra}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out
