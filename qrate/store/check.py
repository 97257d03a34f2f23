"""Damaged-file detection: batch rows that no run can have written (corruption no checksum caught)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import ResultsFileError
from qrate.stats import COUNTER_PREFIX


def point_report(file_report: Mapping[str, Any], params_json: str | bytes) -> Mapping[str, Any]:
    """The report a point's rows follow: its own (stored with its parameters), else the file's."""
    params = json.loads(params_json)
    if not isinstance(params, dict):
        raise ValueError("a point's params attribute is not a JSON object")
    report = params.get("report") or file_report
    if not isinstance(report, dict):
        raise ValueError("a point's report is not a JSON object")
    return report


def check_rows(p: Path, name: str | int, rows: np.ndarray, report: Mapping[str, Any]) -> None:
    """Refuse batch rows no run can have written.

    Every count is >= 0, successes <= pulses, every protocol counter <= successes, the ``shots``
    counter equals ``successes // carriers_per_use`` and bounds every other counter, and no
    counter exceeds the one the report names as its whole (e.g. errors <= rounds); no batch twice.

    Raises:
        ResultsFileError: one line naming the file, the point and the batch.
    """
    from qrate.estimates import inconsistency

    names = rows.dtype.names or ()
    counters = [n for n in names if n.startswith(COUNTER_PREFIX)]
    bad = (rows["batch_index"] < 0) | (rows["pulses"] < 1) | (rows["successes"] < 0) | (rows["successes"] > rows["pulses"])
    bad |= rows["eta_count"] < 0
    for n in ("eta_sum", "eta_sumsq", "seconds"):
        bad |= ~np.isfinite(rows[n]) | (rows[n] < 0)
    for c in counters:
        bad |= (rows[c] < 0) | (rows[c] > rows["successes"])
    shots = COUNTER_PREFIX + "shots"
    if shots in names:
        bad |= rows[shots] != rows["successes"] // max(int(report.get("carriers_per_use", 1) or 1), 1)
        for c in counters:
            bad |= rows[c] > rows[shots]
    if np.any(bad):
        batch = int(rows["batch_index"][int(np.argmax(bad))])
        raise ResultsFileError(
            f"{p}: point {name} holds an impossible batch row (batch {batch}: inconsistent counters); the file is damaged"
        )
    if rows.size > 1 and np.any(np.diff(rows["batch_index"]) == 0):
        dup = int(rows["batch_index"][1:][np.diff(rows["batch_index"]) == 0][0])
        raise ResultsFileError(f"{p}: point {name} holds batch {dup} twice; the file is damaged")
    problem = inconsistency(report, rows) if rows.size else None
    if problem is not None:
        raise ResultsFileError(f"{p}: point {name}: {problem}; the file is damaged")
