"""Read a large results file point by point in bounded memory (``qrate show --csv/--head/--where``, run summaries).

The batches table is read in blocks of :data:`BLOCK_ROWS` rows; a point is handed out as soon as
its last row has been read (a first pass counts every point's rows), so memory holds the points
table, one count per point and the rows of the points still open (one or a few for a file written
by one run), never the whole table. Each point's rows are checked as :func:`qrate.store.reader.read_results`
checks them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.errors import ResultsFileError
from qrate.stats import batch_dtype
from qrate.store import schema
from qrate.store.check import check_table
from qrate.store.reader import PointRecord, damaged_as_error, open_checked, read_meta

BLOCK_ROWS = 1 << 16
"""Batch rows read at once."""


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


def _open(path: str | Path) -> tuple[Path, h5py.File, dict[str, Any]]:
    p = Path(path)
    f = open_checked(p)
    try:
        with damaged_as_error(p):
            return p, f, read_meta(p, f)
    except ResultsFileError:
        f.close()
        raise


def _counts(f: h5py.File, n_index: int) -> np.ndarray:
    ds = f[schema.BATCHES_DATASET]
    counts = np.zeros(n_index, dtype=np.int64)
    for start in range(0, ds.shape[0], BLOCK_ROWS):
        pts = ds.fields("point")[start : start + BLOCK_ROWS]
        if pts.size and (pts.min() < 0 or pts.max() >= n_index):
            raise ResultsFileError(f"{f.filename}: batch rows of a point that is not in the points table; the file is damaged")
        counts += np.bincount(pts, minlength=n_index)
    return counts


def summarize(path: str | Path) -> Summary:
    """Totals and ranges of a results file read in blocks (see :class:`Summary`).

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results`.
    """
    p, f, meta = _open(path)
    with damaged_as_error(p), f:
        points = f[schema.POINTS_DATASET].fields("index")[()]
        n = int(points.max()) + 1 if points.size else 0
        ds = f[schema.BATCHES_DATASET]
        pulses = np.zeros(n, dtype=np.int64)
        succ = np.zeros(n, dtype=np.int64)
        batches = np.zeros(n, dtype=np.int64)
        for start in range(0, ds.shape[0], BLOCK_ROWS):
            block = ds.fields(["point", "pulses", "successes"])[start : start + BLOCK_ROWS]
            if block.size and (block["point"].min() < 0 or block["point"].max() >= n):
                raise ResultsFileError(f"{p}: batch rows of a point that is not in the points table; the file is damaged")
            pulses += np.bincount(block["point"], weights=block["pulses"], minlength=n).astype(np.int64)
            succ += np.bincount(block["point"], weights=block["successes"], minlength=n).astype(np.int64)
            batches += np.bincount(block["point"], minlength=n)
        own = _own_reports(f)
    ran = pulses > 0
    prob = succ[ran] / pulses[ran]
    p_range = (float(prob.min()), float(prob.max())) if prob.size else (float("nan"), float("nan"))
    rate_hz = meta["report"].get("repetition_rate_hz")
    rate = None if own or rate_hz is None else (p_range[0] * float(rate_hz), p_range[1] * float(rate_hz))
    return Summary(
        path=p,
        meta=meta,
        points=int(points.size),
        points_with_batches=int(ran.sum()),
        batches=int(batches.sum()),
        pulses=int(pulses.sum()),
        successes=int(succ.sum()),
        p_success=p_range,
        rate_bps=rate,
        file_bytes=p.stat().st_size,
    )


def _own_reports(f: h5py.File) -> bool:
    """Whether any point stores a report of its own (another source rate than the file's)."""
    par = f[schema.PARAMS_DATASET]
    step = 1 << 22
    return any(b'"report"' in par[max(0, start - 16) : start + step].tobytes() for start in range(0, par.shape[0], step))


def iter_points(path: str | Path, *, where: Mapping[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], PointRecord]]:
    """``(meta, point)`` for every point holding batches, each as soon as its rows are read.

    ``where`` keeps only points whose sweep axes (dotted paths, or ``ground_distance_km``) have
    the given values. Points come in the order their last batch was written (index order for a
    file written by one in-process run).

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results` (damage found in a point's
            rows is reported when that point is reached).
    """
    p, f, meta = _open(path)
    with f, damaged_as_error(p):
        yield from _iter_open(p, f, meta, where or {})


def _iter_open(
    p: Path, f: h5py.File, meta: dict[str, Any], where: Mapping[str, Any]
) -> Iterator[tuple[dict[str, Any], PointRecord]]:
    from qrate.scenario.axes import DISTANCE_AXIS
    from qrate.store.check import check_rows

    points = f[schema.POINTS_DATASET][()]
    index = points["index"]
    if index.size and (index.min() < 0 or np.unique(index).size != index.size):
        raise ResultsFileError(f"{p}: the points table lists a point twice; the file is damaged")
    n = int(index.max()) + 1 if index.size else 0
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[index] = np.arange(index.size)
    counts = _counts(f, n)
    params_ds = f[schema.PARAMS_DATASET]
    row_dtype = batch_dtype(meta["counter_names"])
    ds = f[schema.BATCHES_DATASET]
    if ds.dtype != schema.batches_dtype(row_dtype):
        raise ValueError("the batches table's fields do not match the counters")
    open_rows: dict[int, list[np.ndarray]] = {}
    seen = np.zeros(n, dtype=np.int64)
    for start in range(0, ds.shape[0], BLOCK_ROWS):
        block = ds[start : start + BLOCK_ROWS]
        order = np.argsort(block["point"], kind="stable")
        block = block[order]
        ids, firsts = np.unique(block["point"], return_index=True)
        ends = np.append(firsts[1:], block.size)
        for i, a, b in zip(ids.tolist(), firsts.tolist(), ends.tolist(), strict=True):
            open_rows.setdefault(i, []).append(block[a:b])
            seen[i] += b - a
            if seen[i] < counts[i]:
                continue
            table = np.concatenate(open_rows.pop(i))
            table = table[np.argsort(table["batch_index"], kind="stable")]
            row = points[row_of[i]]
            params = params_ds[int(row["params_start"]) : int(row["params_start"] + row["params_length"])].tobytes()
            if b'"report"' not in params:
                check_table(p, table, meta["report"])
            rows = np.empty(table.size, dtype=row_dtype)
            for name in row_dtype.names or ():
                rows[name] = table[name]
            rec = PointRecord(
                index=i,
                ground_distance_km=float(row["ground_distance_km"]),
                point_key=row["point_key"].decode(),
                params_json=params,
                rows=rows,
                default_report=meta["report"],
            )
            if b'"report"' in params:
                check_table(p, table, meta["report"], np.zeros(table.size, dtype=bool))
                check_rows(p, i, rows, rec.params["report"])
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
