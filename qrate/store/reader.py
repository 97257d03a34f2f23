"""Read a results file (layout: :mod:`qrate.store.schema`) read-only, checked, grouped by point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from qrate.errors import ResultsFileError
from qrate.outputs import in_use
from qrate.stats import batch_dtype
from qrate.store import schema
from qrate.store.check import check_rows, check_table
from qrate.store.safe import in_use_error
from qrate.text import printable


@dataclass(frozen=True, slots=True)
class PointRecord:
    """One sweep point read back: its attributes and its batch rows (sorted by ``batch_index``).

    ``params`` (its stored parameters, JSON) is parsed on first use; its ``report`` is the file's
    where the point has none of its own (the writer stores only reports that differ).
    """

    index: int
    ground_distance_km: float
    point_key: str
    params_json: bytes = field(repr=False)
    rows: np.ndarray = field(repr=False)
    default_report: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _parsed: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def params(self) -> dict[str, Any]:
        """The point's parameters (geometry, link means, noise, axes, and its report if it has its own)."""
        if not self._parsed:
            value = json.loads(self.params_json)
            if not isinstance(value, dict):
                raise ResultsFileError(f"point {self.index}: its parameters are not a JSON object; the file is damaged")
            if self.default_report is not None and "report" not in value:
                value["report"] = self.default_report
            self._parsed.update(value)
            self._parsed.setdefault("_", None)  # parsed (an empty object stays parsed too)
        return {k: v for k, v in self._parsed.items() if k != "_"}


@dataclass(frozen=True, slots=True)
class Results:
    """A results file read back into memory."""

    path: Path
    meta: dict[str, Any]
    points: tuple[PointRecord, ...]


def check_model_version(results: Results | Tables, expected: int) -> None:
    """Refuse a results file written by another model version than ``expected``.

    Raises:
        ResultsFileError: one line naming the file and both versions.
    """
    found = results.meta.get("model_version")
    if found != expected:
        raise ResultsFileError(
            f"{results.path}: written by model version {found}, this needs model version {expected};"
            " rows of two models never mix: rerun it into a new file"
        )


READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError)
"""What h5py, numpy and JSON raise on a damaged or truncated file."""


@contextmanager
def damaged_as_error(p: Path) -> Iterator[None]:
    """Turn a low-level read failure (:data:`READ_ERRORS`) into one ResultsFileError line naming ``p``."""
    try:
        yield
    except ResultsFileError:
        raise
    except READ_ERRORS as exc:
        raise ResultsFileError(
            f"{p}: damaged or incomplete qrate results file ({type(exc).__name__}: {printable(exc)})"
        ) from None


def read_results(path: str | Path) -> Results:
    """Read (read-only) and check a results file.

    Rows come back grouped by point and sorted by ``batch_index``; ``meta["runs"]`` lists the
    invocation records, ``meta["report"]`` is the protocol report (parsed JSON),
    ``meta["model_version"]`` an int.

    Raises:
        ResultsFileError: the file is missing, a directory, in use by a running writer, not HDF5,
            truncated, not a qrate file, of another schema version, holds a batch twice or
            counters no run can produce (one line each).
    """
    p = Path(path)
    f = open_checked(p)
    with damaged_as_error(p), f:
        return _read_open(p, f)


def open_checked(p: Path) -> h5py.File:
    """Open a results file read-only after the checks every reader makes (exists, regular, not in use, HDF5).

    Raises:
        ResultsFileError: one line naming the file and what is wrong.
    """
    if p.is_dir():
        raise ResultsFileError(f"{p}: is a directory, not a results file")
    if not p.exists():
        raise ResultsFileError(f"{p}: no such results file")
    if not p.is_file():
        raise ResultsFileError(f"{p}: not a regular file")
    if in_use(p):
        raise ResultsFileError(f"{p}: in use by another process (a running qrate is writing it); try again when it has finished")
    try:
        f = h5py.File(p, "r")
    except (OSError, RuntimeError) as exc:
        if in_use_error(exc):
            raise ResultsFileError(
                f"{p}: in use by another process (a running qrate is writing it); try again when it has finished"
            ) from None
        raise ResultsFileError(f"{p}: not a readable HDF5 file (foreign or truncated: {printable(exc)})") from None
    return f


def read_meta(p: Path, f: h5py.File) -> dict[str, Any]:
    """The root attributes of an open results file, checked and parsed (``runs`` included)."""
    a = f.attrs
    if a.get("qrate_format") != schema.FORMAT:
        raise ResultsFileError(f"{p}: not a qrate results file (no qrate_format = {schema.FORMAT!r} attribute)")
    found = int(a.get("qrate_schema", -1))
    if found != schema.SCHEMA_VERSION:
        if found < schema.SCHEMA_VERSION:
            if found == 2:
                raise ResultsFileError(
                    f"{p}: written by an older qrate (schema 2: one HDF5 group per point); this qrate reads"
                    f" schema {schema.SCHEMA_VERSION} (columnar): rerun it"
                )
            raise ResultsFileError(f"{p}: written by an older qrate (schema {found}); rerun it")
        raise ResultsFileError(
            f"{p}: written by a newer qrate (schema {found}; this qrate reads schema {schema.SCHEMA_VERSION}); upgrade qrate"
        )
    meta: dict[str, Any] = {}
    for key, value in a.items():
        meta[key] = value.item() if isinstance(value, np.generic) else value
    for key in ("argv", "versions", "counter_names", "report"):
        meta[key] = json.loads(meta[key])
    if not isinstance(meta["report"], dict):
        raise ValueError("the report attribute is not a JSON object")
    meta["seed"] = int(meta["seed"])
    meta["model_version"] = int(meta["model_version"])
    runs = f[schema.RUNS_DATASET].asstr()[()] if schema.RUNS_DATASET in f else []
    meta["runs"] = [json.loads(r) for r in runs]
    return meta


@dataclass(slots=True)
class Tables:
    """A results file's tables, checked (:func:`read_tables`).

    Attributes:
        path, meta: the file and its root attributes (parsed).
        points: the points table sorted by ``index`` (:data:`qrate.store.schema.POINT_DTYPE`).
        params: the ``/params`` bytes the points table slices.
        batches: the batches table sorted by point, then batch index.
        own_report: per row of ``points``, whether the point stores a report of its own.

    Not frozen: a reader of many large files (``combine``) lets go of each batches table once it
    has copied it.
    """

    path: Path
    meta: dict[str, Any]
    points: np.ndarray
    params: bytes
    batches: np.ndarray
    own_report: np.ndarray

    def params_of(self, i: int) -> bytes:
        """The stored parameters (JSON) of the ``i``-th row of ``points``."""
        start, length = int(self.points["params_start"][i]), int(self.points["params_length"][i])
        return self.params[start : start + length]


def read_tables(path: str | Path) -> Tables:
    """Read (read-only) and check a results file's tables, without splitting them by point.

    Raises:
        ResultsFileError: as :func:`read_results`.
    """
    p = Path(path)
    f = open_checked(p)
    with damaged_as_error(p), f:
        return _tables(p, f)


def _tables(p: Path, f: h5py.File) -> Tables:
    meta = read_meta(p, f)
    points = f[schema.POINTS_DATASET][()]
    blob = f[schema.PARAMS_DATASET][()].tobytes()
    table = f[schema.BATCHES_DATASET][()]
    row_dtype = batch_dtype(meta["counter_names"])
    if table.dtype != schema.batches_dtype(row_dtype):
        raise ValueError(f"the batches table's fields {table.dtype.names} do not match the counters {meta['counter_names']}")
    points = points[np.argsort(points["index"], kind="stable")]
    index = points["index"]
    if index.size > 1 and np.any(np.diff(index) == 0):
        raise ResultsFileError(f"{p}: the points table lists a point twice; the file is damaged")
    start, length = points["params_start"], points["params_length"]
    if index.size and (np.any(start < 0) | np.any(length < 0) | np.any(start + length > len(blob))):
        raise ResultsFileError(f"{p}: the points table points past the stored parameters; the file is damaged")
    table = table[np.lexsort((table["batch_index"], table["point"]))]
    known = np.isin(table["point"], index)
    if not np.all(known):
        raise ResultsFileError(
            f"{p}: batch rows of point {int(table['point'][~known][0])}, which is not in the points table; the file is damaged"
        )
    own = np.array([b'"report"' in blob[int(a) : int(a + n)] for a, n in zip(start, length, strict=True)], dtype=bool)
    own_points = index[own]
    check_table(p, table, meta["report"], ~np.isin(table["point"], own_points) if own_points.size else None)
    tables = Tables(p, meta, points, blob, table, own)
    if own_points.size:  # a point with its own report: its counters' roles are checked against it
        bounds = np.searchsorted(table["point"], index)
        ends = np.append(bounds[1:], table.size)
        for j in np.flatnonzero(own).tolist():
            rows = table[bounds[j] : ends[j]]
            report = json.loads(tables.params_of(j)).get("report") or meta["report"]
            check_rows(p, int(index[j]), rows, report)
    return tables


def _read_open(p: Path, f: h5py.File) -> Results:
    t = _tables(p, f)
    row_dtype = batch_dtype(t.meta["counter_names"])
    table, points = t.batches, t.points
    rows = np.empty(table.size, dtype=row_dtype)
    for name in row_dtype.names or ():
        rows[name] = table[name]
    bounds = np.searchsorted(table["point"], points["index"])
    ends = np.append(bounds[1:], table.size)
    out = [
        PointRecord(
            index=int(points["index"][j]),
            ground_distance_km=float(points["ground_distance_km"][j]),
            point_key=points["point_key"][j].decode(),
            params_json=t.params_of(j),
            rows=rows[bounds[j] : ends[j]],
            default_report=t.meta["report"],
        )
        for j in range(points.size)
    ]
    return Results(path=p, meta=t.meta, points=tuple(out))
