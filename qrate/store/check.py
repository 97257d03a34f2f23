"""Damaged-file detection: batch rows that no run can have written (corruption no checksum caught).

Every check here is vectorised over a table of rows, so a reader can apply it to a whole file at
once (:func:`check_table`) or block by block (:mod:`qrate.store.scan`): the per-row checks
(:func:`check_values`, :func:`check_rows`) need no other row; "no point holds a batch twice"
(:func:`check_unique`, :class:`BatchSet`) needs every row of a point.
"""

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
    check_values(p, table, report)
    check_unique(p, table)
    subset = table if by_report is None else table[by_report]
    check_rows(p, None, subset, report)


def check_values(p: Path, table: np.ndarray, report: Mapping[str, Any]) -> None:
    """Refuse rows (any order) whose counts are impossible on their own: negative counts, more
    successes than pulses, a counter above the successes, ``shots`` not ``successes // carriers_per_use``.

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


def check_unique(p: Path, table: np.ndarray) -> None:
    """Refuse a point holding a batch twice (``table`` sorted by point, then batch index).

    Raises:
        ResultsFileError: one line naming the file, the point and the batch.
    """
    twice = first_repeat(table["point"], table["batch_index"])
    if twice is not None:
        raise ResultsFileError(f"{p}: point {twice[0]} holds batch {twice[1]} twice; the file is damaged")


def first_repeat(point: np.ndarray, batch: np.ndarray) -> tuple[int, int] | None:
    """The first ``(point, batch)`` pair that repeats the one before it (sorted pairs), or None."""
    if point.size < 2:
        return None
    same = (np.diff(point) == 0) & (np.diff(batch) == 0)
    if not np.any(same):
        return None
    i = int(np.argmax(same)) + 1
    return int(point[i]), int(batch[i])


class InOrder:
    """Whether the ``(point, batch_index)`` pairs of a table read block by block come in strictly
    increasing order (a file written point by point, or by ``combine``): then no point holds a batch
    twice, found in O(1) memory. Otherwise the reader sorts the pairs (:func:`repeated_pair`)."""

    def __init__(self) -> None:
        self.ordered = True
        self._last: tuple[int, int] | None = None

    def add(self, point: np.ndarray, batch: np.ndarray) -> bool:
        """Record the pairs of the next block; whether every pair so far is in strictly increasing order."""
        if not self.ordered or not point.size:
            return self.ordered
        dp, db = np.diff(point), np.diff(batch)
        ok = bool(np.all((dp > 0) | ((dp == 0) & (db > 0))))
        if ok and self._last is not None:
            ok = (int(point[0]), int(batch[0])) > self._last
        self._last = (int(point[-1]), int(batch[-1]))
        self.ordered = ok
        return ok


def repeated_pair(points: list[np.ndarray], batches: list[np.ndarray]) -> tuple[int, int] | None:
    """A ``(point, batch)`` pair held twice among the blocks' pairs (16 bytes per row while sorting), or None."""
    if not points:
        return None
    pairs = np.empty(sum(p.size for p in points), dtype=[("point", "<i8"), ("batch", "<i8")])
    at = 0
    for p, b in zip(points, batches, strict=True):
        pairs["point"][at : at + p.size], pairs["batch"][at : at + p.size] = p, b
        at += p.size
    pairs.sort(order=("point", "batch"), kind="stable")
    return first_repeat(pairs["point"], pairs["batch"])


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
