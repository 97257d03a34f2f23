"""Read a large results file point by point in bounded memory (``qrate show --csv/--head/--where``, run summaries).

Both tables are read in blocks (:mod:`qrate.store.scan`) and every block is checked as
:func:`qrate.store.reader.read_results` checks a file. A first read of two columns tells whether the
rows come in (point, batch) order (one run in-process, ``combine``): then a point is handed out as
soon as the next one starts, and memory holds one block and the current point, whatever the file's
size. Otherwise (a resumed or parallel run's rows spread over the table) the first read also
counts every point's rows (8 bytes per point), a point is handed out once its last row has been
read, and memory holds the rows of the points still open.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import recfunctions

from qrate.store import scan
from qrate.store.check import InOrder, check_rows, check_unique
from qrate.store.reader import PointRecord
from qrate.store.scan import (
    REPORT_MARK,
    Opened,
    PointsIndex,
    blocks,
    check_block,
    check_own_rows,
    check_repeats,
    gather,
    index_points,
    opened,
)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a finished sweep holds, from the batches table alone (no per-point estimates).

    Attributes:
        path, meta: the file and its root attributes.
        points, points_with_batches: points in the file, and those holding at least one batch.
        batches, pulses, successes: totals over the file.
        p_success: (min, max) over points of the success probability per pulse.
        rate_bps: (min, max) of the heralded rate (None where points have their own source rates).
        file_bytes: the file's size.
    """

    path: Path
    meta: dict[str, Any]
    points: int
    points_with_batches: int
    batches: int
    pulses: int
    successes: int
    p_success: tuple[float, float]
    rate_bps: tuple[float, float] | None
    file_bytes: int


def read_meta_only(path: str | Path) -> dict[str, Any]:
    """A results file's root attributes (checked and parsed, ``runs`` included), reading no table."""
    with opened(path) as o:
        return o.meta


def summarize(path: str | Path) -> Summary:
    """Totals and ranges of a results file read in blocks, every row checked (see :class:`Summary`).

    Memory: one block plus 24 bytes per point.

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results`.
    """
    with opened(path) as o:
        idx = index_points(o)
        n = idx.size
        pulses = np.zeros(n, dtype=np.int64)
        succ = np.zeros(n, dtype=np.int64)
        batches = np.zeros(n, dtype=np.int64)
        order = InOrder()
        own_rows: list[np.ndarray] = []
        for _, block in blocks(o.batches, scan.BLOCK_ROWS):
            check_block(o, idx, block, own_rows)
            order.add(block["point"], block["batch_index"])
            pulses += np.bincount(block["point"], weights=block["pulses"], minlength=n).astype(np.int64)
            succ += np.bincount(block["point"], weights=block["successes"], minlength=n).astype(np.int64)
            batches += np.bincount(block["point"], minlength=n)
        check_own_rows(o, idx, own_rows)
        if not order.ordered:
            check_repeats(o)
        meta, own = o.meta, bool(idx.own.size)
        p = o.path
    ran = pulses > 0
    prob = succ[ran] / pulses[ran]
    p_range = (float(prob.min()), float(prob.max())) if prob.size else (float("nan"), float("nan"))
    rate_hz = meta["report"].get("repetition_rate_hz")
    rate = None if own or rate_hz is None else (p_range[0] * float(rate_hz), p_range[1] * float(rate_hz))
    return Summary(
        path=p,
        meta=meta,
        points=idx.count,
        points_with_batches=int(ran.sum()),
        batches=int(batches.sum()),
        pulses=int(pulses.sum()),
        successes=int(succ.sum()),
        p_success=p_range,
        rate_bps=rate,
        file_bytes=p.stat().st_size,
    )


def iter_points(path: str | Path, *, where: Mapping[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], PointRecord]]:
    """``(meta, point)`` for every point holding batches, each as soon as its rows are read.

    ``where`` keeps only points whose sweep axes (dotted paths, or ``ground_distance_km``) have
    the given values. Points come in the order their last batch was written (index order for a
    file written by one in-process run or by ``combine``).

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results` (damage found in a point's
            rows is reported when that point is reached).
    """
    with opened(path) as o:
        yield from _iter_open(o, where or {})


def _first_pass(o: Opened, idx: PointsIndex) -> tuple[bool, np.ndarray | None]:
    """Whether the rows come in (point, batch) order; if not, every point's number of rows."""
    order = InOrder()
    counts: np.ndarray | None = None
    for _, block in blocks(o.batches, scan.BLOCK_ROWS, ["point", "batch_index"]):
        scan.check_known(o, idx, block["point"])
        if order.add(block["point"], block["batch_index"]):
            continue
        if counts is None:  # order broke: count every point's rows from the start
            counts = np.zeros(idx.size, dtype=np.int64)
            for _, again in blocks(o.batches, scan.BLOCK_ROWS, ["point"]):
                counts += np.bincount(again["point"], minlength=idx.size)
            break
    return order.ordered, counts


def _groups(o: Opened, idx: PointsIndex) -> Iterator[list[tuple[int, np.ndarray]]]:
    """Per block, the points whose rows are complete: ``(index, rows sorted by batch)`` (checked)."""
    ordered, counts = _first_pass(o, idx)
    names = list(o.row_dtype.names or ())
    carry: tuple[int, list[np.ndarray]] | None = None
    open_rows: dict[int, list[np.ndarray]] = {}
    seen = None if counts is None else np.zeros(idx.size, dtype=np.int64)
    for _, block in blocks(o.batches, scan.BLOCK_ROWS):
        check_block(o, idx, block)  # rows of points with their own report: checked against it when handed out
        pts = block["point"]
        rows = recfunctions.repack_fields(block[names])
        done: list[tuple[int, np.ndarray]] = []
        if ordered:
            starts = [0, *(np.flatnonzero(np.diff(pts)) + 1).tolist()]
            for a, b in zip(starts, [*starts[1:], pts.size], strict=True):
                i = int(pts[a])
                if carry is not None and carry[0] == i:
                    carry[1].append(rows[a:b])
                    continue
                if carry is not None:
                    done.append((carry[0], np.concatenate(carry[1])))
                carry = (i, [rows[a:b]])
        else:
            assert counts is not None and seen is not None
            order = np.argsort(pts, kind="stable")
            pts, rows = pts[order], rows[order]
            ids, firsts = np.unique(pts, return_index=True)
            for i, a, b in zip(ids.tolist(), firsts.tolist(), [*firsts[1:].tolist(), pts.size], strict=True):
                open_rows.setdefault(i, []).append(rows[a:b])
                seen[i] += b - a
                if seen[i] == counts[i]:
                    table = np.concatenate(open_rows.pop(i))
                    table = table[np.argsort(table["batch_index"], kind="stable")]
                    check_unique(o.path, _with_point(table, i))
                    done.append((i, table))
        if done:
            yield done
    if carry is not None:
        yield [(carry[0], np.concatenate(carry[1]))]


def _with_point(rows: np.ndarray, i: int) -> np.ndarray:
    """A point's rows as a table with its ``point`` column (for the checks that name it)."""
    table = np.empty(rows.size, dtype=[("point", "<i8"), ("batch_index", "<i8")])
    table["point"], table["batch_index"] = i, rows["batch_index"]
    return table


def _iter_open(o: Opened, where: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], PointRecord]]:
    import json

    from qrate.scenario.axes import DISTANCE_AXIS

    idx = index_points(o)
    meta = o.meta
    for done in _groups(o, idx):
        ids = np.array([i for i, _ in done], dtype=np.int64)
        rows_at = idx.rows(ids)
        stored = gather(o.points, rows_at, np.ones(ids.size, dtype=np.int64), 4 * scan.POINT_BLOCK)
        starts = np.array([int(s[0]["params_start"]) for s in stored], dtype=np.int64)
        lengths = np.array([int(s[0]["params_length"]) for s in stored], dtype=np.int64)
        params = gather(o.params, starts, lengths, scan.PARAMS_BLOCK)
        for (i, rows), row, blob in zip(done, stored, params, strict=True):
            text = blob.tobytes()
            rec = PointRecord(
                index=i,
                ground_distance_km=float(row[0]["ground_distance_km"]),
                point_key=row[0]["point_key"].decode(),
                params_json=text,
                rows=rows,
                default_report=meta["report"],
            )
            if REPORT_MARK in text:
                check_rows(o.path, i, rows, json.loads(text).get("report") or meta["report"])
            if where:
                axes = {**(rec.params.get("axes") or {}), DISTANCE_AXIS: rec.ground_distance_km}
                if any(not _matches(axes.get(k), v) for k, v in where.items()):
                    continue
            yield meta, rec


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return bool(np.isclose(float(value), float(wanted), rtol=1e-12, atol=0.0))
        except (TypeError, ValueError):
            return False
    return str(value) == str(wanted)
