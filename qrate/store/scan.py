"""Read a results file's tables block by block, checked: what every large-file command reads with.

Memory holds one block of each table (:data:`BLOCK_ROWS` batch rows, :data:`POINT_BLOCK` points,
:data:`PARAMS_BLOCK` bytes of parameters) plus at most one 8-byte number per point (where the
points table is not in index order), never a whole table or one Python object per point.

What opening costs (:func:`opened`, :func:`index_points`, :func:`check_rows_of`):

* O(1): the root attributes and ``/runs`` (:func:`qrate.store.reader.read_meta`: format, schema,
  model version, report), the batches table's fields against the counters.
* O(points), vectorised per block: every point index once and >= 0, every point's slice inside
  ``/params``, which points store a report of their own (one scan of ``/params``).
* O(rows), vectorised per block (:func:`check_block`): every row names a point of the points table,
  counts are possible (:func:`qrate.store.check.check_values`), counters respect the report's roles
  (:func:`qrate.store.check.check_rows`), and no point holds a batch twice (O(1) memory while the
  rows come in (point, batch) order, as one run or ``combine`` writes them; else a second read of
  two columns, sorted: 16 bytes per row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.errors import ResultsFileError
from qrate.stats import batch_dtype
from qrate.store import schema
from qrate.store.check import InOrder, check_rows, check_values, repeated_pair
from qrate.store.reader import damaged_as_error, open_checked, read_meta

BLOCK_ROWS = 1 << 15
"""Batch rows read at once (~4.5 MiB for 10 counters; larger blocks gain little and fragment the heap)."""
POINT_BLOCK = 1 << 16
"""Rows of the points table read at once (4 MiB)."""
PARAMS_BLOCK = 1 << 22
"""Bytes of ``/params`` read at once."""
REPORT_MARK = b'"report"'
"""A point's parameters holding this store a report of their own (another one than the file's)."""


@dataclass(slots=True)
class Opened:
    """An open, checked results file (:func:`opened`): its path, h5py file and root attributes (parsed)."""

    path: Path
    file: h5py.File
    meta: dict[str, Any]

    @property
    def points(self) -> h5py.Dataset:
        return self.file[schema.POINTS_DATASET]

    @property
    def params(self) -> h5py.Dataset:
        return self.file[schema.PARAMS_DATASET]

    @property
    def batches(self) -> h5py.Dataset:
        return self.file[schema.BATCHES_DATASET]

    @property
    def row_dtype(self) -> np.dtype:
        """A point's rows' dtype (``qrate.stats.batch_dtype`` of the file's counters)."""
        return batch_dtype(self.meta["counter_names"])


def open_results(path: str | Path) -> Opened:
    """Open a results file read-only with its O(1) checks (see the module docstring); the caller
    closes ``.file`` (and reads inside :func:`qrate.store.reader.damaged_as_error` of its path).

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results`.
    """
    p = Path(path)
    f = open_checked(p)
    try:
        with damaged_as_error(p):
            meta = read_meta(p, f)
            o = Opened(p, f, meta)
            if o.batches.dtype != schema.batches_dtype(o.row_dtype):
                raise ValueError(
                    f"the batches table's fields {o.batches.dtype.names} do not match the counters {meta['counter_names']}"
                )
    except BaseException:
        f.close()
        raise
    return o


@contextmanager
def opened(path: str | Path) -> Iterator[Opened]:
    """:func:`open_results` as a context manager: the file is closed after the block, and low-level
    read failures inside it become one :class:`ResultsFileError` line naming the file.

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results`.
    """
    o = open_results(path)
    with o.file, damaged_as_error(o.path):
        yield o


def blocks(ds: h5py.Dataset, size: int, fields: list[str] | None = None, start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, rows)`` of a 1-D dataset read ``size`` rows at a time (only ``fields`` if given)."""
    source = ds.fields(fields) if fields else ds
    for a in range(start, ds.shape[0], size):
        yield a, source[a : a + size]


def report_marks(params: h5py.Dataset) -> np.ndarray:
    """Sorted offsets in ``/params`` where :data:`REPORT_MARK` starts (one block-wise scan)."""
    found: list[int] = []
    overlap = len(REPORT_MARK) - 1
    for a in range(0, params.shape[0], PARAMS_BLOCK):
        lo = max(a - overlap, 0)
        text = params[lo : a + PARAMS_BLOCK].tobytes()
        at = text.find(REPORT_MARK)
        while at >= 0:
            if lo + at >= a or a == 0:  # a mark across the boundary is found once
                found.append(lo + at)
            at = text.find(REPORT_MARK, at + 1)
    return np.unique(np.array(found, dtype=np.int64))


@dataclass(frozen=True, slots=True)
class PointsIndex:
    """Where each point is (:func:`index_points`).

    Attributes:
        size: 1 + the largest point index (0 for no points).
        count: rows of the points table.
        row_of: the points-table row of each index (-1 where none), or None where index == row
            (a file written by one run or by ``combine``): then nothing per point is held.
        own: sorted indices of the points that store a report of their own.
    """

    size: int
    count: int
    row_of: np.ndarray | None
    own: np.ndarray

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Points-table rows of (known) point indices."""
        return index if self.row_of is None else self.row_of[index]

    def known(self, index: np.ndarray) -> np.ndarray:
        """Which of ``index`` are points of the points table."""
        ok = (index >= 0) & (index < self.size)
        if self.row_of is not None:
            ok[ok] = self.row_of[index[ok]] >= 0
        return ok


def own_mask(marks: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Which parameter slices ``[start, start + length)`` hold a report mark (offsets ``marks``, sorted)."""
    if not marks.size:
        return np.zeros(start.size, dtype=bool)
    last = start + length - len(REPORT_MARK)  # the last offset a whole mark can start at
    return np.searchsorted(marks, start, "left") < np.searchsorted(marks, last, "right")


def index_points(o: Opened, *, own: bool = True) -> PointsIndex:
    """Read the points table block by block: every index once and >= 0, every parameter slice
    inside ``/params``, which points store their own report (O(points), 8 bytes per point while it
    runs; without ``own``, ``/params`` is not read and ``own`` is left empty for the caller to fill).

    Raises:
        ResultsFileError: one line naming the file (damaged).
    """
    p, n_params = o.path, o.params.shape[0]
    marks = report_marks(o.params) if own else np.zeros(0, np.int64)
    indices: list[np.ndarray] = []
    owners = []
    identity = True  # index == row so far: nothing per point is kept
    for a, block in blocks(o.points, POINT_BLOCK, ["index", "params_start", "params_length"]):
        s, n = block["params_start"], block["params_length"]
        if np.any(s < 0) or np.any(n < 0) or np.any(s + n > n_params):
            raise ResultsFileError(f"{p}: the points table points past the stored parameters; the file is damaged")
        if identity and not np.array_equal(block["index"], np.arange(a, a + block.size)):
            identity, indices = False, [np.arange(a)]
        if not identity:
            indices.append(block["index"])
        owners.append(block["index"][own_mask(marks, s, n)])
    count = int(o.points.shape[0])
    if identity:
        return PointsIndex(count, count, None, np.sort(np.concatenate(owners)) if owners else np.zeros(0, np.int64))
    index = np.concatenate(indices)
    del indices
    if index.min() < 0:
        raise ResultsFileError(f"{p}: the points table holds a negative point index; the file is damaged")
    row_of = np.full(int(index.max()) + 1, -1, dtype=np.int64)
    row_of[index] = np.arange(index.size)
    if np.count_nonzero(row_of >= 0) != index.size:
        raise ResultsFileError(f"{p}: the points table lists a point twice; the file is damaged")
    size = int(index.max()) + 1 if index.size else 0
    return PointsIndex(size, int(index.size), row_of, np.sort(np.concatenate(owners)) if owners else np.zeros(0, np.int64))


def check_known(o: Opened, idx: PointsIndex, points: np.ndarray) -> None:
    """Every batch row's ``point`` is in the points table.

    Raises:
        ResultsFileError: one line naming the file and the first unknown point (damaged).
    """
    known = idx.known(points)
    if not np.all(known):
        raise ResultsFileError(
            f"{o.path}: batch rows of point {int(points[~known][0])}, which is not in the points table; the file is damaged"
        )


def check_block(o: Opened, idx: PointsIndex, block: np.ndarray, own_rows: list[np.ndarray] | None = None) -> None:
    """The per-row checks of a block of batch rows (any order): every row names a point of the points
    table, its counts are possible, its counters respect the file's report; the rows of points with
    their own report go to ``own_rows`` (checked against it by :func:`check_own_rows`).

    Raises:
        ResultsFileError: one line naming the file, the point and the batch (damaged).
    """
    pts = block["point"]
    check_known(o, idx, pts)
    report = o.meta["report"]
    check_values(o.path, block, report)
    if idx.own.size:
        mine = np.isin(pts, idx.own)
        if own_rows is not None and np.any(mine):
            own_rows.append(block[mine])
        block = block[~mine]
    check_rows(o.path, None, block, report)


def point_params(o: Opened, idx: PointsIndex, index: int) -> bytes:
    """The stored parameters (JSON) of point ``index``."""
    row = o.points[int(idx.rows(np.array([index]))[0])]
    start = int(row["params_start"])
    return o.params[start : start + int(row["params_length"])].tobytes()


def check_own_rows(o: Opened, idx: PointsIndex, own_rows: list[np.ndarray]) -> None:
    """Check the rows of points with a report of their own against it (see :func:`check_block`)."""
    if not own_rows:
        return
    rows = np.concatenate(own_rows)
    for i in np.unique(rows["point"]).tolist():
        report = json.loads(point_params(o, idx, i)).get("report") or o.meta["report"]
        check_rows(o.path, int(i), rows[rows["point"] == i], report)


def check_rows_of(o: Opened, idx: PointsIndex, each: Callable[[np.ndarray], None] | None = None) -> bool:
    """Read every batch row block by block and apply every row check (module docstring), handing each
    checked block to ``each``. Returns whether the rows are in strictly increasing (point, batch) order.

    Raises:
        ResultsFileError: one line naming the file, the point and the batch (damaged).
    """
    order = InOrder()
    own_rows: list[np.ndarray] = []
    for _, block in blocks(o.batches, BLOCK_ROWS):
        check_block(o, idx, block, own_rows)
        order.add(block["point"], block["batch_index"])
        if each is not None:
            each(block)
    check_own_rows(o, idx, own_rows)
    if not order.ordered:
        check_repeats(o)
    return order.ordered


def check_repeats(o: Opened) -> None:
    """Refuse a point holding a batch twice, from the two columns of every row (sorted: 16 bytes per row).

    Raises:
        ResultsFileError: one line naming the file, the point and the batch (damaged).
    """
    pts, bis = [], []
    for _, block in blocks(o.batches, BLOCK_ROWS, ["point", "batch_index"]):
        pts.append(block["point"])
        bis.append(block["batch_index"])
    twice = repeated_pair(pts, bis)
    if twice is not None:
        raise ResultsFileError(f"{o.path}: point {twice[0]} holds batch {twice[1]} twice; the file is damaged")


@dataclass(frozen=True, slots=True)
class Checked:
    """A results file checked whole (:func:`check_file`): its root attributes, where its points are,
    its size, and whether its rows come in (point, batch) order."""

    path: Path
    meta: dict[str, Any]
    points: PointsIndex
    rows: int
    ordered: bool


def check_file(path: str | Path) -> Checked:
    """Every check :func:`qrate.store.reader.read_results` makes, block by block (O(rows) time,
    memory bounded by a block plus 8 bytes per point): what a command opening a large file runs
    instead of reading it whole.

    Raises:
        ResultsFileError: as :func:`qrate.store.reader.read_results`.
    """
    with opened(path) as o:
        idx = index_points(o)
        ordered = check_rows_of(o, idx)
        return Checked(o.path, o.meta, idx, int(o.batches.shape[0]), ordered)


def gather(ds: h5py.Dataset, starts: np.ndarray, lengths: np.ndarray, span: int) -> list[np.ndarray]:
    """Slices ``[start, start + length)`` of a 1-D dataset, in the given order, reading windows of at
    most ``span`` elements (one read for slices that lie close together, as a block's points do)."""
    order = np.argsort(starts, kind="stable")
    out: list[np.ndarray] = [np.empty(0, ds.dtype)] * starts.size
    i = 0
    while i < order.size:
        lo = int(starts[order[i]])
        hi = lo + int(lengths[order[i]])
        j = i + 1
        while j < order.size and int(starts[order[j]]) + int(lengths[order[j]]) - lo <= span:
            hi = max(hi, int(starts[order[j]]) + int(lengths[order[j]]))
            j += 1
        window = ds[lo:hi]
        for k in order[i:j].tolist():
            a = int(starts[k]) - lo
            out[k] = window[a : a + int(lengths[k])]
        i = j
    return out
