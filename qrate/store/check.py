"""Damaged-file detection: batch rows that no run can have written (corruption no checksum caught)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qrate.errors import ResultsFileError
from qrate.stats import COUNTER_PREFIX


def check_table(p: Path, table: np.ndarray, report: Mapping[str, Any], by_report: np.ndarray | None = None) -> None:
    """Refuse batch rows no run can have written (``table`` sorted by point, then batch index).

    Every count is >= 0, successes <= pulses, every protocol counter <= successes, the ``shots``
    counter equals ``successes // carriers_per_use`` and bounds every other counter, no point
    holds a batch twice, and (for the rows selected by ``by_report``, default all) no counter
    exceeds the one ``report`` names as its whole (e.g. errors <= rounds).

    Raises:
        ResultsFileError: one line naming the file, the point and the batch.
    """
    names = table.dtype.names or ()
    counters = [n for n in names if n.startswith(COUNTER_PREFIX)]
    bad = (table["batch_index"] < 0) | (table["pulses"] < 1) | (table["successes"] < 0)
    bad |= (table["successes"] > table["pulses"]) | (table["eta_count"] < 0)
    for n in ("eta_sum", "eta_sumsq", "seconds"):
        bad |= ~np.isfinite(table[n]) | (table[n] < 0)
    for c in counters:
        bad |= (table[c] < 0) | (table[c] > table["successes"])
    shots = COUNTER_PREFIX + "shots"
    if shots in names:
        bad |= table[shots] != table["successes"] // max(int(report.get("carriers_per_use", 1) or 1), 1)
        for c in counters:
            bad |= table[c] > table[shots]
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ResultsFileError(
            f"{p}: point {int(table['point'][i])} holds an impossible batch row"
            f" (batch {int(table['batch_index'][i])}: inconsistent counters); the file is damaged"
        )
    same = (np.diff(table["point"]) == 0) & (np.diff(table["batch_index"]) == 0) if table.size > 1 else np.zeros(0, bool)
    if np.any(same):
        i = int(np.argmax(same)) + 1
        raise ResultsFileError(
            f"{p}: point {int(table['point'][i])} holds batch {int(table['batch_index'][i])} twice; the file is damaged"
        )
    subset = table if by_report is None else table[by_report]
    check_rows(p, None, subset, report)


def check_rows(p: Path, point: int | None, rows: np.ndarray, report: Mapping[str, Any]) -> None:
    """Refuse rows (of ``point``, or of the table's ``point`` column) whose counters contradict the report's roles.

    Raises:
        ResultsFileError: one line naming the file, the point and the batch.
    """
    from qrate.estimates import inconsistency

    if not rows.size:
        return
    problem = inconsistency(report, rows)
    if problem is None:
        return
    if point is None:  # name the point of the first offending batch
        for i in np.unique(rows["point"]).tolist():
            if inconsistency(report, rows[rows["point"] == i]) is not None:
                point = int(i)
                break
    raise ResultsFileError(f"{p}: point {point}: {problem}; the file is damaged")
