"""Write and read qrate results files (HDF5 via h5py); layout in :mod:`qrate.store.schema`.

Single writer: the process that runs the sweep (workers never open the file). It holds an
exclusive ``flock`` on the file while it writes, so other qrate processes see the file as *in use*
(whatever ``HDF5_USE_FILE_LOCKING`` says) and never read a half-written state or replace it.

What a crash can leave behind:

* A new file is written under a hidden temporary name in the same folder (``.NAME.*.part.h5``)
  and renamed onto its name once it holds its attributes, ``/runs`` record and every point group
  (and, for ``qrate run``, its first batch rows; for ``combine``, everything). So a kill leaves no
  file, the old file (``--overwrite``), or a complete, readable one; leftover temporary files are
  removed by a later writer of the same name.
* Rows are appended point by point (buffered up to :data:`FLUSH_INTERVAL_S`) and flushed after each
  write, so a killed run leaves a valid file whose root attribute ``complete`` is false, holding a
  prefix of every point's batches; :meth:`ResultsWriter.reopen` continues it (``qrate run
  --resume``) after :func:`read_results` has checked it read-only.
* Before each write the file's free space is reserved (``posix_fallocate``): on a full disk (or a
  file size limit) the write is refused *before* HDF5 touches the file, so the rows written before
  stay complete and readable and ``--resume`` continues once space is freed.

Every invocation adds a ``/runs`` record.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from qrate._versions import package_versions as _package_versions
from qrate.errors import InputError, ResultsFileError, ResultsWriteError
from qrate.outputs import check_output, in_use, lock_exclusive, remove_stale_temps, replace_atomically, temp_path
from qrate.stats import BatchStats, batch_dtype, to_row
from qrate.store import schema
from qrate.text import printable
from qrate.store.check import check_rows, point_report

VERSIONED_PACKAGES = ("qrate", "numpy", "numba", "stim", "scipy", "h5py", "pydantic")
H5_SUFFIXES = (".h5", ".hdf5")
FLUSH_INTERVAL_S = 0.5
"""Buffered rows are written once this long has passed since the last write (and at every new point)."""
_METADATA_SLACK = 64 * 1024
"""Bytes reserved on top of the raw data of one write, for HDF5 metadata (B-tree nodes, heaps, headers)."""
_NO_RESERVE = {
    errno.EOPNOTSUPP,
    errno.EINVAL,
    errno.ENOSYS,
    errno.ENODEV,
    errno.ESPIPE,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
}
_IN_USE = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES}


def package_versions() -> dict[str, str | None]:
    """Versions of qrate and the packages that shape its numbers."""
    return _package_versions(VERSIONED_PACKAGES)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, BlockingIOError):
        return os.strerror(exc.errno)
    return printable(exc)


def _in_use_error(exc: BaseException) -> bool:
    """Whether ``exc`` (from opening a file with HDF5) says another process holds its lock."""
    if isinstance(exc, BlockingIOError):
        return True
    return isinstance(exc, OSError) and (exc.errno in _IN_USE or "unable to lock file" in str(exc))


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold SIGINT (Ctrl-C) back for the duration of the block, then deliver it (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    caught: list[Any] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    except (ValueError, OSError):  # pragma: no cover - no signal handling here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, caught[0])
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt


class ResultsWriter:
    """Create a results file and append batch rows to it (use as a context manager).

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
        self.counter_names = tuple(counter_names)
        self._dtype = batch_dtype(self.counter_names)
        self._setup(published=False, atomic=atomic)
        self._overwrite = overwrite
        report_json = json.dumps(dict(report), default=str)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(self.path, min_age_s=10.0)  # a writer locks its temporary file at once
            self._tmp = temp_path(self.path)
            f = self._file = h5py.File(self._tmp, "w", track_order=True)
        except OSError as exc:
            self._discard()
            raise InputError("out", f"cannot create {self.path}: {_reason(exc)}") from None
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
            self._points = f.create_group(schema.POINTS_GROUP, track_order=True)
            f.create_dataset(schema.RUNS_DATASET, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(16,))

        self._guarded(init, 2 * (len(scenario_toml) + len(report_json)))

    def _setup(self, *, published: bool, atomic: bool) -> None:
        self._published = published
        self._atomic = atomic
        self._overwrite = False
        self._tmp = None
        self._file = None
        self._fd = -1
        self._failed = False
        self._reserve_ok = True
        self._pending: dict[int, list[np.ndarray]] = {}
        self._seen: set[int] = set()
        self._last_write = time.monotonic()

    @classmethod
    def reopen(cls, path: str | Path) -> ResultsWriter:
        """Open an existing results file for appending (check it with :func:`read_results` first).

        Raises:
            ResultsFileError: the file is in use by another process or cannot be opened for writing.
        """
        self = cls.__new__(cls)
        self.path = Path(path)
        self._setup(published=True, atomic=False)
        if in_use(self.path):
            raise ResultsFileError(f"{self.path}: in use by another process (a running qrate?); cannot resume it now")
        try:
            self._file = h5py.File(self.path, "r+")
        except OSError as exc:  # read-only file or folder, locked by another process, ...
            if _in_use_error(exc):
                raise ResultsFileError(
                    f"{self.path}: in use by another process (a running qrate?); cannot resume it now"
                ) from None
            raise ResultsFileError(f"{self.path}: cannot open for writing ({_reason(exc)})") from None
        self._fd = self._file.id.get_vfd_handle()
        if not lock_exclusive(self._fd):
            self._file.close()
            raise ResultsFileError(f"{self.path}: in use by another process (a running qrate?); cannot resume it now")
        self.counter_names = tuple(json.loads(self._file.attrs["counter_names"]))
        self._dtype = batch_dtype(self.counter_names)
        self._points = self._file[schema.POINTS_GROUP]

        def mark() -> None:
            self._file.attrs["complete"] = False  # type: ignore[union-attr]

        self._guarded(mark, 0)
        return self

    # -- guarded writes ---------------------------------------------------------------------------

    def _check_open(self) -> h5py.File:
        if self._failed or self._file is None or not self._file.id.valid:
            raise ResultsWriteError(f"{self.path}: the results file is closed")
        return self._file

    def _reserve(self, nbytes: int) -> None:
        """Make sure ``nbytes`` past HDF5's end of allocation are real disk blocks (raises OSError if not)."""
        if not self._reserve_ok or self._file is None:
            return
        need = int(nbytes) + _METADATA_SLACK
        eoa = int(self._file.id.get_filesize())
        if os.fstat(self._fd).st_size >= eoa + need:
            return
        try:
            os.posix_fallocate(self._fd, eoa, need)
        except OSError as exc:
            if exc.errno in _NO_RESERVE:
                self._reserve_ok = False  # this filesystem cannot reserve: write unprotected
                return
            raise

    def _guarded(self, write: Callable[[], None], nbytes: int) -> None:
        """Reserve space, run ``write``, flush; any failure becomes one :class:`ResultsWriteError`.

        Ctrl-C during the step is held back until it is flushed, so rows are never half written.
        """
        f = self._check_open()
        with _sigint_deferred():
            try:
                self._reserve(nbytes)
            except OSError as exc:  # nothing written yet: the file is as the last flush left it
                self._fail(exc, dirty=False)
            try:
                write()
                f.flush()
            except (OSError, RuntimeError) as exc:
                self._fail(exc, dirty=True)

    def _fail(self, exc: BaseException, *, dirty: bool) -> None:
        """Stop writing after a failed write; close the file without letting HDF5 write again; raise."""
        self._failed = True
        self._pending.clear()
        reason = _reason(exc)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            where = self.path.parent if str(self.path.parent) else Path(".")
            try:
                free = shutil.disk_usage(where).free
                reason += f" (the disk holding {where} has {free / 2**20:.1f} MiB free)"
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
            raise ResultsWriteError(f"{self.path}: cannot write ({reason}); {kept}")
        raise ResultsWriteError(
            f"{self.path}: cannot write ({reason}); the batches stored before are kept: free space, then continue with --resume"
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
            if schema.RUNS_DATASET not in f:
                f.create_dataset(schema.RUNS_DATASET, shape=(0,), maxshape=(None,), dtype=h5py.string_dtype(), chunks=(16,))
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

    def add_point(self, index: int, *, ground_distance_km: float, point_key: int, params: Mapping[str, Any]) -> None:
        """Create the group of sweep point ``index`` with an empty batch table (kept if it exists)."""
        self._check_open()
        name = schema.point_group_name(index)
        if name in self._points:
            stored = str(self._points[name].attrs["point_key"])
            if stored != f"{point_key:032x}":
                raise ResultsFileError(f"{self.path}: point {index} has key {stored}, expected {point_key:032x}")
            return
        params_json = json.dumps(dict(params), default=float)

        def write() -> None:
            g = self._points.create_group(name)
            g.attrs["index"] = int(index)
            g.attrs["ground_distance_km"] = float(ground_distance_km)
            g.attrs["point_key"] = f"{point_key:032x}"
            g.attrs["params"] = params_json
            g.create_dataset(
                schema.BATCHES_DATASET,
                shape=(0,),
                maxshape=(None,),
                dtype=self._dtype,
                chunks=(schema.CHUNK_ROWS,),
                fletcher32=True,  # a checksum per chunk: a corrupted batch table fails to read instead of giving numbers
            )

        self._guarded(write, 2 * len(params_json))

    def append(self, index: int, batch_index: int, stats: BatchStats) -> None:
        """Append one batch row to point ``index`` (buffered: see :data:`FLUSH_INTERVAL_S`).

        Buffered rows are written, one resize and write per point, when :data:`FLUSH_INTERVAL_S`
        has passed since the last write, when a point gets its first row, and at :meth:`flush` /
        :meth:`close`. Rows of one point are written in the order appended.
        """
        self._check_open()
        row = to_row(stats, batch_index, self.counter_names)
        if index not in self._seen:
            self._seen.add(index)
            if self._pending:  # a new point starts: the rows of the others go out now
                self._write_pending()
        self._pending.setdefault(index, []).append(row)
        if time.monotonic() - self._last_write >= FLUSH_INTERVAL_S:
            self._write_pending()

    def append_rows(self, index: int, rows: np.ndarray) -> None:
        """Append a table of batch rows (this file's row dtype) to point ``index`` now, and flush."""
        self._check_open()
        self._pending.setdefault(index, []).append(np.asarray(rows).astype(self._dtype))
        self._write_pending()

    def flush(self) -> None:
        """Write the buffered rows and flush the file (it appears under its name, unless ``atomic``)."""
        self._check_open()
        self._write_pending(force=True)

    def _write_pending(self, *, force: bool = False) -> None:
        tables = {i: np.concatenate(rows) for i, rows in self._pending.items() if rows}
        self._pending.clear()
        if tables:
            nbytes = 0
            for t in tables.values():  # whole chunks: a new chunk is allocated whole, plus one partly filled
                nbytes += (t.size // schema.CHUNK_ROWS + 2) * schema.CHUNK_ROWS * self._dtype.itemsize

            def write() -> None:
                for i, t in tables.items():
                    ds = self._points[schema.point_group_name(i)][schema.BATCHES_DATASET]
                    n = ds.shape[0]
                    ds.resize(n + t.size, axis=0)
                    ds[n:] = t

            self._guarded(write, nbytes)
            self._last_write = time.monotonic()
        if (tables or force) and not self._atomic:
            self._publish()

    def close(self, *, complete: bool = True) -> None:
        """Write the buffered rows, mark the file complete (or not) and close it (no-op if closed or failed)."""
        if self._failed or self._file is None or not self._file.id.valid:
            return
        f = self._file
        self._write_pending()

        def mark() -> None:
            f.attrs["complete"] = bool(complete)

        self._guarded(mark, 0)
        self._publish()
        keep = os.dup(self._fd)  # to trim the space reserved past the end once HDF5 has closed the file
        try:
            try:
                f.close()
            except (OSError, RuntimeError) as exc:
                self._failed = True
                raise ResultsWriteError(f"{self.path}: cannot write ({_reason(exc)})") from None
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


def check_model_version(results: Results, expected: int) -> None:
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


def read_results(path: str | Path) -> Results:
    """Read (read-only) and check a results file.

    Rows come back sorted by ``batch_index``; ``meta["runs"]`` lists the invocation records,
    ``meta["report"]`` is the protocol report (parsed JSON), ``meta["model_version"]`` an int.

    Raises:
        ResultsFileError: the file is missing, a directory, in use by a running writer, not HDF5,
            truncated, not a qrate file, of another schema version, holds a batch twice or
            counters no run can produce (one line each).
    """
    p = Path(path)
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
        if _in_use_error(exc):
            raise ResultsFileError(
                f"{p}: in use by another process (a running qrate is writing it); try again when it has finished"
            ) from None
        raise ResultsFileError(f"{p}: not a readable HDF5 file (foreign or truncated: {printable(exc)})") from None
    try:
        with f:
            return _read_open(p, f)
    except ResultsFileError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ResultsFileError(
            f"{p}: damaged or incomplete qrate results file ({type(exc).__name__}: {printable(exc)})"
        ) from None


def _read_open(p: Path, f: h5py.File) -> Results:
    a = f.attrs
    if a.get("qrate_format") != schema.FORMAT:
        raise ResultsFileError(f"{p}: not a qrate results file (no qrate_format = {schema.FORMAT!r} attribute)")
    found = a.get("qrate_schema", -1)
    if int(found) != schema.SCHEMA_VERSION:
        if int(found) < schema.SCHEMA_VERSION:
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
    points = []
    for name in f[schema.POINTS_GROUP]:
        g = f[schema.POINTS_GROUP][name]
        rows = g[schema.BATCHES_DATASET][()]
        rows = rows[np.argsort(rows["batch_index"], kind="stable")]
        check_rows(p, name, rows, point_report(meta["report"], g.attrs["params"]))
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
