"""Write and read qrate results files (HDF5 via h5py); layout in :mod:`qrate.store.schema`.

Single writer: the process that runs the sweep (workers never open the file). Each batch row is
appended and flushed, so an interrupted run leaves a valid file whose root attribute ``complete``
is false; :meth:`ResultsWriter.reopen` continues it (``qrate run --resume``) after
:func:`read_results` has checked it read-only. Every invocation adds a ``/runs`` record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from qrate._versions import package_versions as _package_versions
from qrate.errors import InputError, ResultsFileError
from qrate.stats import BatchStats, batch_dtype, to_row
from qrate.store import schema

VERSIONED_PACKAGES = ("qrate", "numpy", "numba", "stim", "scipy", "h5py", "pydantic")


def package_versions() -> dict[str, str | None]:
    """Versions of qrate and the packages that shape its numbers."""
    return _package_versions(VERSIONED_PACKAGES)


class ResultsWriter:
    """Create a results file and append batch rows to it (use as a context manager).

    Args:
        path: file to create; its folder is created if needed.
        scenario_toml: the resolved scenario (after overrides) as TOML text.
        scenario_name, protocol: stored as root attributes for quick listing.
        seed: the root seed of the run.
        counter_names: protocol counters, fixing the row dtype.
        argv: the command line (stored as JSON).
        overwrite: replace an existing file instead of refusing.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        scenario_toml: str,
        scenario_name: str,
        protocol: str,
        seed: int,
        counter_names: Sequence[str],
        argv: Sequence[str] = (),
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise InputError("--out", f"{self.path} already exists; choose another --out or pass --overwrite")
        self.counter_names = tuple(counter_names)
        self._dtype = batch_dtype(self.counter_names)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self.path, "w", track_order=True)
        except OSError as exc:
            raise InputError("--out", f"cannot create {self.path}: {exc}") from None
        a = self._file.attrs
        a["qrate_format"] = schema.FORMAT
        a["qrate_schema"] = schema.SCHEMA_VERSION
        versions = package_versions()
        a["qrate_version"] = versions["qrate"] or "unknown"
        a["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        a["seed"] = str(int(seed))
        a["argv"] = json.dumps(list(argv))
        a["versions"] = json.dumps(versions)
        a["scenario_toml"] = scenario_toml
        a["scenario_name"] = scenario_name
        a["protocol"] = protocol
        a["counter_names"] = json.dumps(list(self.counter_names))
        a["complete"] = False
        self._points = self._file.create_group(schema.POINTS_GROUP, track_order=True)
        self._file.create_dataset(schema.RUNS_DATASET, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(16,))

    @classmethod
    def reopen(cls, path: str | Path) -> ResultsWriter:
        """Open an existing results file for appending (check it with :func:`read_results` first)."""
        self = cls.__new__(cls)
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r+")
        except OSError as exc:  # read-only file or folder, locked by another process, ...
            raise ResultsFileError(f"{self.path}: cannot open for writing ({exc})") from None
        self.counter_names = tuple(json.loads(self._file.attrs["counter_names"]))
        self._dtype = batch_dtype(self.counter_names)
        self._points = self._file[schema.POINTS_GROUP]
        self._file.attrs["complete"] = False
        self._file.flush()
        return self

    def record_run(self, action: str, argv: Sequence[str] = (), **extra: Any) -> None:
        """Append one invocation record (JSON) to ``/runs`` and flush."""
        if schema.RUNS_DATASET not in self._file:
            self._file.create_dataset(schema.RUNS_DATASET, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(16,))
        ds = self._file[schema.RUNS_DATASET]
        record = {
            "action": action,
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "argv": list(argv),
            "versions": package_versions(),
            **extra,
        }
        n = ds.shape[0]
        ds.resize(n + 1, axis=0)
        ds[n] = json.dumps(record, default=str)
        self._file.flush()

    def add_point(self, index: int, *, ground_distance_km: float, point_key: int, params: Mapping[str, Any]) -> None:
        """Create the group of sweep point ``index`` with an empty batch table (kept if it exists)."""
        name = schema.point_group_name(index)
        if name in self._points:
            stored = str(self._points[name].attrs["point_key"])
            if stored != f"{point_key:032x}":
                raise ResultsFileError(f"{self.path}: point {index} has key {stored}, expected {point_key:032x}")
            return
        g = self._points.create_group(name)
        g.attrs["index"] = int(index)
        g.attrs["ground_distance_km"] = float(ground_distance_km)
        g.attrs["point_key"] = f"{point_key:032x}"
        g.attrs["params"] = json.dumps(dict(params), default=float)
        g.create_dataset(
            schema.BATCHES_DATASET, shape=(0,), maxshape=(None,), dtype=self._dtype, chunks=(schema.CHUNK_ROWS,),
            fletcher32=True,  # a checksum per chunk: a corrupted batch table fails to read instead of giving numbers
        )

    def append(self, index: int, batch_index: int, stats: BatchStats) -> None:
        """Append one batch row to point ``index`` and flush."""
        ds = self._points[schema.point_group_name(index)][schema.BATCHES_DATASET]
        n = ds.shape[0]
        ds.resize(n + 1, axis=0)
        ds[n] = to_row(stats, batch_index, self.counter_names)[0]
        self._file.flush()

    def append_rows(self, index: int, rows: np.ndarray) -> None:
        """Append a table of batch rows (this file's row dtype) to point ``index`` and flush."""
        ds = self._points[schema.point_group_name(index)][schema.BATCHES_DATASET]
        n = ds.shape[0]
        ds.resize(n + rows.size, axis=0)
        ds[n:] = rows.astype(self._dtype)
        self._file.flush()

    def close(self, *, complete: bool = True) -> None:
        """Mark the file complete (or not) and close it."""
        if self._file.id.valid:
            self._file.attrs["complete"] = bool(complete)
            self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(complete=exc_type is None)


@dataclass(frozen=True, slots=True)
class PointRecord:
    """One sweep point read back: its attributes and its batch rows."""

    index: int
    ground_distance_km: float
    point_key: str
    params: dict[str, Any]
    rows: np.ndarray


@dataclass(frozen=True, slots=True)
class Results:
    """A results file read back into memory."""

    path: Path
    meta: dict[str, Any]
    points: tuple[PointRecord, ...]


def read_results(path: str | Path) -> Results:
    """Read (read-only) and check a results file.

    Rows come back sorted by ``batch_index``; ``meta["runs"]`` lists the invocation records.

    Raises:
        ResultsFileError: the file is missing, not HDF5, truncated, not a qrate file, of another
            schema version, or holds a batch twice.
    """
    p = Path(path)
    if not p.is_file():
        raise ResultsFileError(f"{p}: no such results file")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ResultsFileError(f"{p}: not a readable HDF5 file (foreign or truncated: {exc})") from None
    try:
        with f:
            return _read_open(p, f)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ResultsFileError(f"{p}: damaged or incomplete qrate results file ({type(exc).__name__}: {exc})") from None


def _check_rows(p: Path, name: str, rows: np.ndarray) -> None:
    """Refuse batch rows no run can have written (corruption that no checksum caught)."""
    counts = [rows[n] for n in rows.dtype.names or () if n in ("pulses", "successes", "eta_count") or n.startswith("c_")]
    bad = (rows["batch_index"] < 0) | (rows["pulses"] < 1) | (rows["successes"] > rows["pulses"])
    for c in counts:
        bad |= c < 0
    for n in ("eta_sum", "eta_sumsq", "seconds"):
        bad |= ~np.isfinite(rows[n]) | (rows[n] < 0)
    if np.any(bad):
        raise ResultsFileError(f"{p}: point {name} holds an impossible batch row (index {int(np.argmax(bad))}); the file is damaged")


def _read_open(p: Path, f: h5py.File) -> Results:
    a = f.attrs
    if a.get("qrate_format") != schema.FORMAT:
        raise ResultsFileError(f"{p}: not a qrate results file (no qrate_format = {schema.FORMAT!r} attribute)")
    if int(a.get("qrate_schema", -1)) != schema.SCHEMA_VERSION:
        raise ResultsFileError(
            f"{p}: written with qrate results schema {a.get('qrate_schema')}, this qrate reads schema {schema.SCHEMA_VERSION}"
        )
    meta: dict[str, Any] = {}
    for key, value in a.items():
        meta[key] = value.item() if isinstance(value, np.generic) else value
    for key in ("argv", "versions", "counter_names"):
        meta[key] = json.loads(meta[key])
    meta["seed"] = int(meta["seed"])
    runs = f[schema.RUNS_DATASET].asstr()[()] if schema.RUNS_DATASET in f else []
    meta["runs"] = [json.loads(r) for r in runs]
    points = []
    for name in f[schema.POINTS_GROUP]:
        g = f[schema.POINTS_GROUP][name]
        rows = g[schema.BATCHES_DATASET][()]
        rows = rows[np.argsort(rows["batch_index"], kind="stable")]
        _check_rows(p, name, rows)
        if rows.size > 1 and np.any(np.diff(rows["batch_index"]) == 0):
            dup = int(rows["batch_index"][1:][np.diff(rows["batch_index"]) == 0][0])
            raise ResultsFileError(f"{p}: point {name} holds batch {dup} twice")
        points.append(
            PointRecord(
                index=int(g.attrs["index"]),
                ground_distance_km=float(g.attrs["ground_distance_km"]),
                point_key=str(g.attrs["point_key"]),
                params=json.loads(g.attrs["params"]),
                rows=rows,
            )
        )
    return Results(path=p, meta=meta, points=tuple(sorted(points, key=lambda r: r.index)))
