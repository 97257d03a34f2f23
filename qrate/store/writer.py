"""Write a results file (layout: :mod:`qrate.store.schema`): the one writer of ``run`` and ``combine``.

Single writer: the process that runs the sweep (workers never open the file). It holds an
exclusive ``flock`` on the file while it writes, so other qrate processes see the file as *in use*
(whatever ``HDF5_USE_FILE_LOCKING`` says) and never read a half-written state or replace it.

What a crash can leave behind:

* A new file is written under a hidden temporary name in the same folder (``.NAME.*.part.h5``)
  and renamed onto its name at its first write of rows (:meth:`ResultsWriter.flush`, or the
  buffer's first write), holding its attributes, ``/runs`` record and every point added so far;
  with ``atomic`` (``combine``) only once complete. So a kill leaves no file, the old file
  (``--overwrite``), or a complete, readable one; leftover temporary files are removed by a later
  writer of the same name.
* Points and rows are buffered and written in large groups (at most :data:`FLUSH_INTERVAL_S`
  apart, or once :data:`FLUSH_ROWS` rows are waiting) and flushed after each write, so a killed run
  leaves a valid file whose root attribute ``complete`` is false, holding a prefix of every
  point's batches; :meth:`ResultsWriter.reopen` continues it (``qrate run --resume``) after
  :func:`qrate.store.reader.read_results` has checked it read-only.
* Before each write the file's free space is reserved (``posix_fallocate``): on a full disk (or a
  file size limit) the write is refused *before* HDF5 touches the file, so the rows written before
  stay complete and readable and ``--resume`` continues once space is freed.

Every invocation adds a ``/runs`` record.
"""

from __future__ import annotations

import contextlib
import errno
import json
import operator
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from qrate.errors import InputError, ResultsFileError, ResultsWriteError
from qrate.outputs import check_output, in_use, lock_exclusive, remove_stale_temps, replace_atomically, temp_path
from qrate.stats import BASE_FIELDS, BatchStats, batch_dtype
from qrate.store import schema
from qrate.store.safe import H5_SUFFIXES, in_use_error, package_versions, reason, reserve, sigint_deferred

_STATS_FIELDS = operator.attrgetter(*(name for name, _ in BASE_FIELDS[1:]))
"""A batch's fields of a row after ``batch_index``, in the row's order (:func:`qrate.stats.to_row`'s layout)."""
FLUSH_INTERVAL_S = 2.0
"""Buffered points and rows are written once this long has passed since the last write."""
FLUSH_ROWS = 2048
"""... or once this many batch rows are waiting."""
BULK_ROWS = 1 << 18
"""Rows per write of :meth:`ResultsWriter.append_table` (a whole table at once: ``combine``)."""


def _table(f: h5py.File, name: str, dtype: np.dtype | str, chunk: int) -> h5py.Dataset:
    return f.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(chunk,), **schema.COMPRESSION)


class ResultsWriter:
    """Create a results file and append points and batch rows to it (use as a context manager).

    Args:
        path: ``.h5`` file to create; its folder is created if needed. It appears (atomically) at
            the first write of rows, at :meth:`flush` or at :meth:`close` (with ``atomic``: only at
            a successful :meth:`close`).
        scenario_toml: the resolved scenario (after overrides) as TOML text.
        scenario_name, protocol: stored as root attributes for quick listing.
        seed: the root seed of the run.
        counter_names: protocol counters, fixing the row dtype.
        model_version: :data:`qrate.model.MODEL_VERSION` of the numbers (root attribute).
        report: JSON-able description of the protocol's counters' roles and estimates (root
            attribute ``report``, JSON).
        argv: the command line (stored as JSON).
        overwrite: replace an existing file (never one held by another writer) instead of refusing.
        atomic: the file appears only once complete (``qrate combine``); a failure leaves no file.

    Raises:
        InputError: ``path`` is refused by :func:`qrate.outputs.check_output` (field ``out``) or
            cannot be created.
        ResultsWriteError: the file cannot be written (disk full, I/O error).
    """

    _tmp: Path | None
    _file: h5py.File | None

    def __init__(
        self,
        path: str | Path,
        *,
        scenario_toml: str,
        scenario_name: str,
        protocol: str,
        seed: int,
        counter_names: Sequence[str],
        model_version: int,
        report: Mapping[str, Any],
        argv: Sequence[str] = (),
        overwrite: bool = False,
        atomic: bool = False,
    ) -> None:
        self.path = check_output(path, overwrite=overwrite, suffixes=H5_SUFFIXES, field="out")
        self._setup(published=False, atomic=atomic, counter_names=counter_names, report=dict(report))
        self._overwrite = overwrite
        report_json = json.dumps(dict(report), default=str)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.path, min_age_s=10.0)  # a writer locks its temporary file at once
            self._tmp = temp_path(self.path)
            f = self._file = h5py.File(self._tmp, "w", track_order=True)
        except OSError as exc:
            self._discard()
            raise InputError("out", f"cannot create {self.path}: {reason(exc)}") from None
        self._fd = f.id.get_vfd_handle()
        lock_exclusive(self._fd)  # no-op where HDF5 locks the file itself

        def init() -> None:
            a = f.attrs
            a["qrate_format"] = schema.FORMAT
            a["qrate_schema"] = schema.SCHEMA_VERSION
            versions = package_versions()
            a["qrate_version"] = versions["qrate"] or "unknown"
            a["model_version"] = int(model_version)
            a["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
            a["seed"] = str(int(seed))
            a["argv"] = json.dumps(list(argv))
            a["versions"] = json.dumps(versions)
            a["scenario_toml"] = scenario_toml
            a["scenario_name"] = scenario_name
            a["protocol"] = protocol
            a["counter_names"] = json.dumps(list(self.counter_names))
            a["report"] = report_json
            a["complete"] = False
            f.create_dataset(schema.RUNS_DATASET, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(16,))
            _table(f, schema.POINTS_DATASET, schema.POINT_DTYPE, schema.POINT_CHUNK)
            _table(f, schema.PARAMS_DATASET, "u1", schema.PARAMS_CHUNK)
            _table(f, schema.BATCHES_DATASET, self._table_dtype, schema.BATCH_CHUNK)

        self._guarded(init, 2 * (len(scenario_toml) + len(report_json)))

    def _setup(self, *, published: bool, atomic: bool, counter_names: Sequence[str], report: Mapping[str, Any]) -> None:
        self.counter_names = tuple(counter_names)
        self._dtype = batch_dtype(self.counter_names)
        self._table_dtype = schema.batches_dtype(self._dtype)
        self._report = dict(report)
        self._published = published
        self._atomic = atomic
        self._overwrite = False
        self._tmp = None
        self._file = None
        self._fd = -1
        self._failed = False
        self._reserve_ok = True
        self._keys: dict[int, bytes] = {}  # point index -> key (hex) of every point in the file or buffered
        self._bulk = np.zeros(0, dtype=bool)  # indices added by add_points (no key kept per point)
        self._new_points: list[tuple[int, float, bytes, bytes]] = []
        self._pending: list[np.ndarray] = []  # batch rows (table dtype) waiting to be written
        self._pending_tuples: list[tuple[Any, ...]] = []  # rows of append() after those, as tuples (sealed in order)
        self._pending_rows = 0
        self._last_write = time.monotonic()

    @classmethod
    def reopen(cls, path: str | Path) -> ResultsWriter:
        """Open an existing results file for appending (check it with :func:`read_results` first).

        Raises:
            ResultsFileError: the file is in use by another process or cannot be opened for writing.
        """
        self = cls.__new__(cls)
        self.path = Path(path)
        self._setup(published=True, atomic=False, counter_names=(), report={})
        if in_use(self.path):
            raise ResultsFileError(f"{self.path}: in use by another process (a running qrate?); cannot resume it now")
        try:
            self._file = h5py.File(self.path, "r+")
        except OSError as exc:  # read-only file or folder, locked by another process, ...
            if in_use_error(exc):
                raise ResultsFileError(
                    f"{self.path}: in use by another process (a running qrate?); cannot resume it now"
                ) from None
            raise ResultsFileError(f"{self.path}: cannot open for writing ({reason(exc)})") from None
        self._fd = self._file.id.get_vfd_handle()
        if not lock_exclusive(self._fd):
            self._file.close()
            raise ResultsFileError(f"{self.path}: in use by another process (a running qrate?); cannot resume it now")
        f = self._file
        self._setup_names(tuple(json.loads(f.attrs["counter_names"])), json.loads(f.attrs["report"]))
        points = f[schema.POINTS_DATASET].fields(["index", "point_key"])[()]
        self._keys = dict(zip(points["index"].tolist(), points["point_key"].tolist(), strict=True))

        def mark() -> None:
            f.attrs["complete"] = False

        self._guarded(mark, 0)
        return self

    def _setup_names(self, counter_names: tuple[str, ...], report: dict[str, Any]) -> None:
        self.counter_names = counter_names
        self._dtype = batch_dtype(counter_names)
        self._table_dtype = schema.batches_dtype(self._dtype)
        self._report = report

    # -- guarded writes ---------------------------------------------------------------------------

    def _check_open(self) -> h5py.File:
        if self._failed or self._file is None or not self._file.id.valid:
            raise ResultsWriteError(f"{self.path}: the results file is closed")
        return self._file

    def _reserve(self, nbytes: int) -> None:
        """Make sure ``nbytes`` past HDF5's end of allocation are real disk blocks (raises OSError if not)."""
        if self._reserve_ok and self._file is not None:
            self._reserve_ok = reserve(self._fd, int(self._file.id.get_filesize()), nbytes)

    def _guarded(self, write: Callable[[], None], nbytes: int) -> None:
        """Reserve space, run ``write``, flush (an ``atomic`` file before it appears: once, at
        :meth:`close`); any failure becomes one :class:`ResultsWriteError`.

        Ctrl-C during the step is held back until it is flushed, so rows are never half written.
        """
        f = self._check_open()
        with sigint_deferred():
            try:
                self._reserve(nbytes)
            except OSError as exc:  # nothing written yet: the file is as the last flush left it
                self._fail(exc, dirty=False)
            try:
                write()
                if self._published or not self._atomic:  # an atomic file is flushed once, when it closes
                    f.flush()
            except (OSError, RuntimeError) as exc:
                self._fail(exc, dirty=True)

    def _fail(self, exc: BaseException, *, dirty: bool) -> None:
        """Stop writing after a failed write; close the file without letting HDF5 write again; raise."""
        self._failed = True
        self._pending.clear()
        self._pending_tuples.clear()
        self._new_points.clear()
        why = reason(exc)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            where = self.path.parent if str(self.path.parent) else Path(".")
            try:
                free = shutil.disk_usage(where).free
                why += f" (the disk holding {where} has {free / 2**20:.1f} MiB free)"
            except OSError:
                pass
        if dirty and self._fd >= 0:  # HDF5 may hold half-written state: let nothing more reach the file
            try:
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, self._fd)
                os.close(null)
            except OSError:
                pass
        self._close_quietly()
        if not self._published:
            self._discard()
            kept = f"{self.path} left unchanged" if self.path.exists() else "no file written"
            raise ResultsWriteError(f"{self.path}: cannot write ({why}); {kept}")
        raise ResultsWriteError(
            f"{self.path}: cannot write ({why}); the batches stored before are kept: free space, then continue with --resume"
        )

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):  # already failing: the first error is the one to report
                self._file.close()

    def _discard(self) -> None:
        """Remove the temporary file of a file that never appeared."""
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.unlink()
            self._tmp = None

    def _publish(self) -> None:
        """Give the temporary file its name (atomically; never through a link, never over a writer's file)."""
        if self._published or self._tmp is None:
            return
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        try:
            if self._overwrite:
                replace_atomically(self._tmp, self.path)
            else:
                try:
                    os.link(self._tmp, self.path)  # fails if the name was taken meanwhile
                except FileExistsError:
                    raise InputError("out", f"{self.path} already exists; choose another --out or pass --overwrite") from None
                except OSError:  # no hard links here: the name was checked free when the writer started
                    os.replace(self._tmp, self.path)
                else:
                    self._tmp.unlink()
        except BaseException:
            self._failed = True
            self._close_quietly()
            self._discard()
            raise
        self._tmp = None
        self._published = True

    # -- public API -------------------------------------------------------------------------------

    def record_run(self, action: str, argv: Sequence[str] = (), **extra: Any) -> None:
        """Append one invocation record (JSON) to ``/runs`` and flush."""
        f = self._check_open()
        record = {
            "action": action,
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "argv": list(argv),
            "versions": package_versions(),
            **extra,
        }
        text = json.dumps(record, default=str)

        def write() -> None:
            ds = f[schema.RUNS_DATASET]
            n = ds.shape[0]
            ds.resize(n + 1, axis=0)
            ds[n] = text

        self._guarded(write, 4 * len(text.encode()) + 4096)

    def update_scenario(self, scenario_toml: str) -> None:
        """Replace the stored resolved scenario (a resumed run that adds batches or sweep values) and flush."""
        f = self._check_open()

        def write() -> None:
            f.attrs["scenario_toml"] = scenario_toml

        self._guarded(write, 2 * len(scenario_toml.encode()))

    def add_point(
        self,
        index: int,
        *,
        ground_distance_km: float,
        point_key: int,
        params: Mapping[str, Any] | None = None,
        params_json: bytes | None = None,
    ) -> None:
        """Add sweep point ``index`` to the points table (buffered; kept as it is if the file holds it).

        Its protocol report is stored with it only where it differs from the file's. ``params_json``
        (instead of ``params``): the parameters as stored by another file of the same report
        (``combine``), copied as they are.

        Raises:
            ResultsFileError: the file holds point ``index`` with another key.
        """
        self._check_open()
        key = f"{point_key:032x}".encode()
        stored = self._keys.get(int(index))
        if stored is not None:
            if stored != key:
                raise ResultsFileError(f"{self.path}: point {index} has key {stored.decode()}, expected {key.decode()}")
            return
        if params_json is None:
            data = dict(params or {})
            if data.get("report") == self._report:
                del data["report"]
            params_json = json.dumps(data, default=float).encode()
        self._keys[int(index)] = key
        self._new_points.append((int(index), float(ground_distance_km), key, bytes(params_json)))
        if len(self._new_points) >= FLUSH_ROWS:  # bounded memory for a large sweep; the file does not appear yet
            self._write_pending()

    def append(self, index: int, batch_index: int, stats: BatchStats) -> None:
        """Append one batch row to point ``index`` (buffered: see :data:`FLUSH_INTERVAL_S`)."""
        self._check_open()
        if not self._added(int(index)):
            raise ResultsFileError(f"{self.path}: rows for point {index}, which was never added")
        counts = stats.counts
        self._pending_tuples.append(  # the table's fields in order: point, then batch_dtype's (as to_row fills them)
            (
                int(index),
                int(batch_index),
                *_STATS_FIELDS(stats),
                *(counts.get(n, 0) for n in self.counter_names),
            )
        )
        self._pending_rows += 1
        if self._pending_rows >= FLUSH_ROWS or time.monotonic() - self._last_write >= FLUSH_INTERVAL_S:
            self._write_pending()

    def append_rows(self, index: int, rows: np.ndarray) -> None:
        """Append a table of batch rows (this file's row dtype) to point ``index`` (buffered)."""
        self._check_open()
        self._queue(index, np.asarray(rows).astype(self._dtype))
        if self._pending_rows >= FLUSH_ROWS:
            self._write_pending()

    def add_points(self, table: np.ndarray, params: np.ndarray) -> None:
        """Add many new points at once (``combine``), written at once in one resize per table.

        Args:
            table: the points (:data:`qrate.store.schema.POINT_DTYPE`): ``index``,
                ``ground_distance_km``, ``point_key`` (hex) and ``params_length``; ``params_start``
                is set here.
            params: their stored parameters (JSON, uint8) back to back, in the table's order.

        Unlike :meth:`add_point`, no key is kept per point (memory stays flat for millions of
        points), so an index must be new to the file.

        Raises:
            ResultsFileError: an index is negative or already in the file.
        """
        self._check_open()
        self._write_pending()
        index = np.asarray(table["index"], dtype=np.int64)
        if not index.size:
            return
        if index.min() < 0 or self._known(index).any() or np.unique(index).size != index.size:
            raise ResultsFileError(f"{self.path}: add_points: point indices must be new and >= 0")
        top = int(index.max()) + 1
        if top > self._bulk.size:
            self._bulk = np.concatenate([self._bulk, np.zeros(max(top - self._bulk.size, self._bulk.size), dtype=bool)])
        self._write_points(table, np.asarray(params, dtype=np.uint8))
        self._bulk[index] = True
        self._last_write = time.monotonic()

    def _added(self, index: int) -> bool:
        """Whether point ``index`` was added (by :meth:`add_point` or :meth:`add_points`)."""
        return index in self._keys or (0 <= index < self._bulk.size and bool(self._bulk[index]))

    def _known(self, index: np.ndarray) -> np.ndarray:
        """Which point indices were added (by :meth:`add_point` or :meth:`add_points`)."""
        known = np.zeros(index.size, dtype=bool)
        inside = (index >= 0) & (index < self._bulk.size)
        known[inside] = self._bulk[index[inside]]
        if self._keys:
            known |= np.isin(index, np.fromiter(self._keys, dtype=np.int64, count=len(self._keys)))
        return known

    def _write_points(self, table: np.ndarray, params: np.ndarray) -> None:
        """Append points (``params_start`` set here) and their parameters: one guarded write."""
        f = self._check_open()
        pds, par = f[schema.POINTS_DATASET], f[schema.PARAMS_DATASET]
        nbytes = (pds.shape[0] % schema.POINT_CHUNK + table.size) * schema.POINT_DTYPE.itemsize
        nbytes += par.shape[0] % schema.PARAMS_CHUNK + params.size

        def write() -> None:
            out = np.zeros(table.size, dtype=schema.POINT_DTYPE)
            for name in ("index", "ground_distance_km", "point_key", "params_length"):
                out[name] = table[name]
            start = par.shape[0]
            out["params_start"] = start + np.cumsum(out["params_length"]) - out["params_length"]
            par.resize(start + params.size, axis=0)
            par[start:] = params
            n = pds.shape[0]
            pds.resize(n + table.size, axis=0)
            pds[n:] = out

        self._guarded(write, nbytes + nbytes // 8)

    def append_table(self, table: np.ndarray) -> None:
        """Append rows of many points at once: a batches table (``point`` first, this file's fields), buffered.

        Raises:
            ResultsFileError: a row names a point that was never added.
        """
        self._check_open()
        table = np.asarray(table).astype(self._table_dtype, copy=False)
        missing = table["point"][~self._known(table["point"])]
        if missing.size:
            raise ResultsFileError(f"{self.path}: rows for point {int(missing[0])}, which was never added")
        self._write_pending()
        for start in range(0, table.size, BULK_ROWS):  # large writes: few resizes, whole chunks
            self._pending, self._pending_rows = [table[start : start + BULK_ROWS]], min(BULK_ROWS, table.size - start)
            self._write_pending()

    def _seal(self) -> None:
        """Turn the rows appended as tuples into one table (before anything queued after them)."""
        if self._pending_tuples:
            self._pending.append(np.array(self._pending_tuples, dtype=self._table_dtype))
            self._pending_tuples = []

    def _queue(self, index: int, rows: np.ndarray) -> None:
        self._seal()
        if not self._added(int(index)):
            raise ResultsFileError(f"{self.path}: rows for point {index}, which was never added")
        table = np.zeros(rows.size, dtype=self._table_dtype)
        table["point"] = index
        for name in self._dtype.names or ():
            table[name] = rows[name]
        self._pending.append(table)
        self._pending_rows += table.size

    def flush(self) -> None:
        """Write the buffered points and rows and flush the file (it appears under its name, unless ``atomic``)."""
        self._check_open()
        self._write_pending(force=True)

    def _write_pending(self, *, force: bool = False) -> None:
        self._seal()
        rows = np.concatenate(self._pending) if self._pending else None
        points = self._new_points
        self._pending, self._pending_rows, self._new_points = [], 0, []
        if rows is not None or points:
            f = self._check_open()
            blob = b"".join(p[3] for p in points)
            table_rows = 0 if rows is None else rows.size
            # a partly filled last chunk of each table is rewritten whole (compressed, possibly elsewhere)
            nbytes = sum(
                (f[name].shape[0] % chunk + new) * size
                for name, chunk, new, size in (
                    (schema.BATCHES_DATASET, schema.BATCH_CHUNK, table_rows, self._table_dtype.itemsize),
                    (schema.POINTS_DATASET, schema.POINT_CHUNK, len(points), schema.POINT_DTYPE.itemsize),
                    (schema.PARAMS_DATASET, schema.PARAMS_CHUNK, len(blob), 1),
                )
                if new
            )

            def write() -> None:
                if points:
                    pds, par = f[schema.POINTS_DATASET], f[schema.PARAMS_DATASET]
                    start = par.shape[0]
                    table = np.zeros(len(points), dtype=schema.POINT_DTYPE)
                    lengths = np.array([len(p[3]) for p in points], dtype=np.int64)
                    table["index"] = [p[0] for p in points]
                    table["ground_distance_km"] = [p[1] for p in points]
                    table["point_key"] = [p[2] for p in points]
                    table["params_length"] = lengths
                    table["params_start"] = start + np.cumsum(lengths) - lengths
                    par.resize(start + len(blob), axis=0)
                    par[start:] = np.frombuffer(blob, dtype=np.uint8)
                    n = pds.shape[0]
                    pds.resize(n + len(points), axis=0)
                    pds[n:] = table
                if rows is not None:
                    ds = f[schema.BATCHES_DATASET]
                    n = ds.shape[0]
                    ds.resize(n + rows.size, axis=0)
                    ds[n:] = rows

            self._guarded(write, nbytes + nbytes // 8)
            self._last_write = time.monotonic()
        if (rows is not None or force) and not self._atomic:
            self._publish()

    def close(self, *, complete: bool = True) -> None:
        """Write the buffered rows, mark the file complete (or not) and close it (no-op if closed or failed)."""
        if self._failed or self._file is None or not self._file.id.valid:
            return
        f = self._file
        self._write_pending()

        def mark() -> None:
            f.attrs["complete"] = bool(complete)
            f.flush()  # an atomic file's only flush: complete on disk before it gets its name

        self._guarded(mark, 0)
        self._publish()
        keep = os.dup(self._fd)  # to trim the space reserved past the end once HDF5 has closed the file
        try:
            try:
                f.close()
            except (OSError, RuntimeError) as exc:
                self._failed = True
                raise ResultsWriteError(f"{self.path}: cannot write ({reason(exc)})") from None
            self._trim(keep)
        finally:
            os.close(keep)

    def _trim(self, fd: int) -> None:
        """Cut the reserved, unused bytes past the end of the closed file (only while nobody else holds it).

        HDF5 truncates a file to its end of allocation when it closes a file it found longer than
        that, so one more open and close does it (under our lock, hence ``locking=False``).
        """
        if not lock_exclusive(fd):
            return
        with contextlib.suppress(OSError, RuntimeError):
            h5py.File(self.path, "r+", locking=False).close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None and self._atomic and not self._published:
            self._failed = True  # an atomic file that failed half-way never appears
            self._close_quietly()
            self._discard()
            return
        self.close(complete=exc_type is None)

    # -- bulk rows of a large sweep (points added with add_points; nothing kept per point) --

    def append_batches(self, table: np.ndarray) -> None:
        """Append rows of points added with :meth:`add_points` (or stored in a resumed file): a batches
        table (buffered), unchecked against the points added (``qrate run`` adds a chunk's points first)."""
        self._check_open()
        self._seal()
        self._pending.append(np.asarray(table).astype(self._table_dtype, copy=False))
        self._pending_rows += table.size
        if self._pending_rows >= FLUSH_ROWS or time.monotonic() - self._last_write >= FLUSH_INTERVAL_S:
            self._write_pending()

    def read_batches(self, positions: np.ndarray) -> np.ndarray:
        """Rows of the batches table at sorted ``positions`` that the file held when it was opened
        (a resumed run reads its stored rows a chunk of points at a time)."""
        from qrate.store.index import read_rows

        return read_rows(self._check_open()[schema.BATCHES_DATASET], positions)
