"""ResultsWriter and read_results in-process: atomic appearance, buffering, write failures, identity checks."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import qrate.store.writer as hdf5
from qrate.errors import InputError, ResultsFileError, ResultsWriteError
from qrate.outputs import check_output, in_use
from qrate.stats import BatchStats, batch_dtype
from qrate.store import ResultsWriter, read_results
from qrate.store.combine import combine_files
from qrate.store.reader import check_model_version
from tests.sweep._helpers import edit_row, sha256

COUNTERS = ("shots", "broadcast_errors")
REPORT = {
    "protocol": "broadcast",
    "carriers_per_use": 1,
    "estimators": [{"kind": "broadcast_bits", "rounds": "shots", "errors": "broadcast_errors"}],
}


def _writer(path: Path, **kw) -> ResultsWriter:  # type: ignore[no-untyped-def]
    args = dict(
        scenario_toml="x = 1\n",
        scenario_name="t",
        protocol="broadcast",
        seed=7,
        counter_names=COUNTERS,
        model_version=3,
        report=REPORT,
        argv=["qrate", "run"],
    )
    args.update(kw)
    return ResultsWriter(path, **args)


def _stats(i: int) -> BatchStats:
    return BatchStats(100, 40 + i, counts={"shots": 40 + i, "broadcast_errors": i % 3})


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_file_appears_once_initialised_and_carries_model_version_and_report(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    w = _writer(path)
    w.record_run("run", ["qrate", "run"])
    w.add_point(0, ground_distance_km=0.0, point_key=5, params={})
    assert not path.exists() and len(_temps(tmp_path)) == 1  # still under its temporary name, locked
    assert in_use(tmp_path / _temps(tmp_path)[0])
    w.append(0, 0, _stats(0))
    w.flush()
    assert path.exists() and not _temps(tmp_path) and in_use(path)
    w.close()
    assert not in_use(path)
    res = read_results(path)
    assert res.meta["model_version"] == 3 and res.meta["report"] == REPORT and res.meta["qrate_schema"] == 3
    assert res.points[0].rows.size == 1 and res.meta["complete"]
    with h5py.File(path, "r") as f:
        assert f.id.get_filesize() == path.stat().st_size  # the space reserved while writing is given back


def test_points_and_rows_are_buffered_and_written_in_one_resize_per_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hdf5, "FLUSH_INTERVAL_S", 3600.0)
    resizes: list[str] = []
    real = h5py.Dataset.resize

    def counting(self, size, axis=None):  # type: ignore[no-untyped-def]
        resizes.append(self.name)
        return real(self, size, axis)

    monkeypatch.setattr(h5py.Dataset, "resize", counting)
    path = tmp_path / "r.h5"
    with _writer(path) as w:
        for i in (0, 1):
            w.add_point(i, ground_distance_km=float(i), point_key=10 + i, params={})
        resizes.clear()
        for b in range(20):
            w.append(0, b, _stats(b))
        for b in range(5):
            w.append(1, b, _stats(b))
        assert resizes == []  # buffered
    assert sorted(resizes) == ["/batches", "/params", "/points"]  # everything at close, one write per table
    res = read_results(path)
    assert [p.rows["batch_index"].tolist() for p in res.points] == [list(range(20)), list(range(5))]


def test_rows_of_a_point_spread_over_the_table_come_back_together_and_sorted(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    with _writer(path) as w:
        for i in (0, 1):
            w.add_point(i, ground_distance_km=float(i), point_key=10 + i, params={})
        for b in (3, 0):
            w.append(1, b, _stats(b))
            w.append(0, b, _stats(b))
        w.flush()
        for b in (2, 1):
            w.append(0, b, _stats(b))
    res = read_results(path)
    assert [p.rows["batch_index"].tolist() for p in res.points] == [[0, 1, 2, 3], [0, 3]]
    assert [int(p.rows["successes"][-1]) for p in res.points] == [43, 43]


def test_rows_older_than_the_interval_are_written_at_the_next_append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the clock is the interval, not the machine: an hour-long interval buffers the first row whatever
    # the load; an interval of zero makes it older than the interval at the next append
    monkeypatch.setattr(hdf5, "FLUSH_INTERVAL_S", 3600.0)
    path = tmp_path / "r.h5"
    w = _writer(path)
    w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
    w.append(0, 0, _stats(0))
    assert not path.exists()  # buffered: nothing written yet
    monkeypatch.setattr(hdf5, "FLUSH_INTERVAL_S", 0.0)
    w.append(0, 1, _stats(1))
    assert path.exists() and w._pending == []  # both rows written (and the file appeared)
    w.close()
    assert read_results(path).points[0].rows.size == 2


def _fail_fallocate(monkeypatch: pytest.MonkeyPatch, code: int = errno.ENOSPC) -> None:
    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(hdf5.os, "posix_fallocate", full)


def test_disk_full_keeps_the_rows_written_before_and_resume_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.h5"
    w = _writer(path)
    w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
    for b in range(3):
        w.append(0, b, _stats(b))
    w.flush()
    with monkeypatch.context() as m:
        _fail_fallocate(m)
        monkeypatch.setattr(hdf5, "FLUSH_INTERVAL_S", 0.0)
        with pytest.raises(ResultsWriteError) as info:
            for b in range(3, 400):
                w.append(0, b, _stats(b))
        w.close(complete=False)  # after a failure: a no-op, never a second error
    msg = str(info.value)
    assert info.value.exit_code == 1 and "\n" not in msg and str(path) in msg
    assert "No space left on device" in msg and "MiB free" in msg and "--resume" in msg
    res = read_results(path)
    assert res.points[0].rows["batch_index"].tolist() == [0, 1, 2] and not res.meta["complete"]
    w = ResultsWriter.reopen(path)
    w.append(0, 3, _stats(3))
    w.close()
    assert read_results(path).points[0].rows.size == 4


def test_a_write_failure_before_the_file_appears_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.h5"
    path.write_bytes(b"old contents")
    _fail_fallocate(monkeypatch)
    with pytest.raises(ResultsWriteError, match="left unchanged"):
        _writer(path, overwrite=True)
    assert path.read_bytes() == b"old contents" and not _temps(tmp_path)


def test_combine_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _scenario_file(tmp_path / "a.h5", [0.0]), _scenario_file(tmp_path / "b.h5", [100.0])
    out = tmp_path / "c.h5"
    out.write_bytes(b"old")
    real = hdf5.ResultsWriter.append_table
    calls = []

    def fail_second(self, table):  # type: ignore[no-untyped-def]
        calls.append(table.size)
        if len(calls) == 2:  # the disk fills up while the second input's rows are written
            _fail_fallocate(monkeypatch)
        return real(self, table)

    monkeypatch.setattr(hdf5.ResultsWriter, "append_table", fail_second)
    with pytest.raises(ResultsWriteError):
        combine_files([a, b], out, overwrite=True)
    assert out.read_bytes() == b"old" and _temps(tmp_path) == []


def _scenario_file(path: Path, distances: list[float], *, model_version: int = 3, report: dict | None = None) -> Path:  # type: ignore[type-arg]
    from qrate.scenario import scenario_to_toml
    from tests.sweep._helpers import scenario

    sc = scenario(str(distances))
    with ResultsWriter(
        path,
        scenario_toml=scenario_to_toml(sc),
        scenario_name=sc.name,
        protocol=sc.protocol.name,
        seed=int(sc.sampling.seed or 5),
        counter_names=COUNTERS,
        model_version=model_version,
        report=report or REPORT,
    ) as w:
        w.record_run("run")
        for i, d in enumerate(distances):
            w.add_point(i, ground_distance_km=d, point_key=int(d) + 1, params={})
            for bi in range(3):
                w.append(i, bi, _stats(bi))
    return path


def test_combine_refuses_another_model_version_or_report(tmp_path: Path) -> None:
    a = _scenario_file(tmp_path / "a.h5", [0.0])
    b = _scenario_file(tmp_path / "b.h5", [100.0], model_version=4)
    c = _scenario_file(tmp_path / "c.h5", [100.0], report={**REPORT, "carriers_per_use": 1, "default_y": "x"})
    with pytest.raises(ResultsFileError) as info:
        combine_files([a, b], tmp_path / "out.h5")
    assert "model version 4" in str(info.value) and "model version 3" in str(info.value) and str(b) in str(info.value)
    with pytest.raises(InputError, match="different protocol reports"):
        combine_files([a, c], tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
    check_model_version(read_results(a), 3)
    with pytest.raises(ResultsFileError, match="model version 3, this needs model version 9"):
        check_model_version(read_results(a), 9)


def test_schema_1_files_are_refused_with_one_line(tmp_path: Path) -> None:
    path = _scenario_file(tmp_path / "old.h5", [0.0])
    with h5py.File(path, "r+") as f:
        f.attrs["qrate_schema"] = 1
        del f.attrs["report"], f.attrs["model_version"]
    with pytest.raises(ResultsFileError) as info:
        read_results(path)
    assert str(info.value) == f"{path}: written by an older qrate (schema 1); rerun it"


def test_the_shots_counter_follows_carriers_per_use(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    with _writer(path, report={**REPORT, "carriers_per_use": 3}) as w:
        w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
        w.append(0, 0, BatchStats(100, 31, counts={"shots": 10, "broadcast_errors": 2}))  # 31 // 3 uses
    assert read_results(path).points[0].rows.size == 1
    edit_row(path, 0, 0, c_shots=11)
    with pytest.raises(ResultsFileError, match="inconsistent counters.*damaged"):
        read_results(path)


def test_stale_temporary_files_are_removed_unless_locked(tmp_path: Path) -> None:
    stale, live = tmp_path / ".r.h5.aaaa.part.h5", tmp_path / ".r.h5.bbbb.part.h5"
    for p in (stale, live):
        p.write_bytes(b"x" * 10)
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer still at work on it
        _writer(tmp_path / "r.h5").close()
        assert not stale.exists() and live.exists()
    finally:
        os.close(fd)


def test_check_output(tmp_path: Path) -> None:
    ok = tmp_path / "new" / "r.h5"
    assert check_output(ok, overwrite=False, suffixes=(".h5",), field="out") == ok
    cases = {
        tmp_path / "r.txt": "expected a file name ending in .h5",
        tmp_path: "is a directory",
    }
    (tmp_path / "dir.h5").mkdir()
    cases[tmp_path / "dir.h5"] = "is a directory"
    existing = tmp_path / "e.h5"
    existing.write_bytes(b"")
    cases[existing] = "already exists; choose another --out or pass --overwrite"
    dangling = tmp_path / "d.h5"
    dangling.symlink_to(tmp_path / "nowhere.h5")
    cases[dangling] = "symbolic link"
    for path, needle in cases.items():
        with pytest.raises(InputError) as info:
            check_output(path, overwrite=False, suffixes=(".h5",), field="out")
        assert info.value.field == "out" and needle in info.value.message, (path, info.value.message)
    assert check_output(existing, overwrite=True, suffixes=(".h5",), field="out") == existing
    with pytest.raises(InputError, match="symbolic link"):
        check_output(dangling, overwrite=True, suffixes=(".h5",), field="out")
    fd = os.open(existing, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(InputError, match="in use by another process"):
            check_output(existing, overwrite=True, suffixes=(".h5",), field="out")
    finally:
        os.close(fd)
    with pytest.raises(InputError, match="not a writable folder"):
        check_output("/dev/null/x.h5", overwrite=False, suffixes=(".h5",), field="out")


def test_reading_a_file_being_written_says_in_use(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    w = _writer(path)
    w.flush()
    digest = sha256(path)
    with pytest.raises(ResultsFileError, match="in use by another process"):
        read_results(path)
    with pytest.raises(ResultsFileError, match="in use by another process"):
        ResultsWriter.reopen(path)
    with pytest.raises(InputError, match="in use by another process"):
        _writer(path, overwrite=True)
    w.close()
    assert read_results(path).meta["complete"]
    assert sha256(path) != digest  # closed normally: complete = True


def test_row_dtype_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    with _writer(path) as w:
        w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
        rows = np.zeros(2, dtype=batch_dtype(COUNTERS))
        rows["batch_index"] = [0, 1]
        rows["pulses"] = 10
        w.append_rows(0, rows)
    assert read_results(path).points[0].rows.dtype == batch_dtype(COUNTERS)


def test_ctrl_c_during_a_write_is_delivered_after_the_rows_are_flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    path = tmp_path / "r.h5"
    w = _writer(path)
    w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
    real = h5py.Dataset.resize

    def interrupted(self, size, axis=None):  # type: ignore[no-untyped-def]
        real(self, size, axis)
        os.kill(os.getpid(), signal.SIGINT)  # between the resize and the write of the rows

    monkeypatch.setattr(h5py.Dataset, "resize", interrupted)
    rows = np.zeros(3, dtype=batch_dtype(COUNTERS))
    rows["batch_index"], rows["pulses"] = [0, 1, 2], 10
    w.append_rows(0, rows)  # buffered
    with pytest.raises(KeyboardInterrupt):
        w.flush()
    monkeypatch.undo()
    w.close(complete=False)
    assert read_results(path).points[0].rows["pulses"].tolist() == [10, 10, 10]


def test_schema_2_files_one_group_per_point_are_refused_with_one_line_naming_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as f:  # the layout before the columnar store: /points/<NNNN>/batches
        f.attrs["qrate_format"] = "qrate-results"
        f.attrs["qrate_schema"] = 2
        f.create_group("points/0000").create_dataset("batches", data=np.zeros(1, dtype=batch_dtype(COUNTERS)))
    digest = sha256(path)
    with pytest.raises(ResultsFileError) as info:
        read_results(path)
    assert str(info.value) == (
        f"{path}: written by an older qrate (schema 2: one HDF5 group per point); this qrate reads schema 3 (columnar): rerun it"
    )
    from qrate.store.stream import iter_points, summarize

    with pytest.raises(ResultsFileError, match="schema 2"):
        summarize(path)
    with pytest.raises(ResultsFileError, match="schema 2"):
        next(iter_points(path))
    assert sha256(path) == digest


def test_appended_rows_are_to_row_of_their_batch_in_order_with_tables_between(tmp_path: Path) -> None:
    """append() buffers rows as tuples: the file holds exactly to_row's rows (mixed with append_rows)."""
    from qrate.stats import to_row

    path = tmp_path / "r.h5"
    stats = [
        BatchStats(10**6, 1234 + i, 1024, 0.1 + i / 7, 0.01 / (i + 1), 0.5 / 3, counts={"shots": 1234 + i, "broadcast_errors": i})
        for i in range(5)
    ]
    with _writer(path) as w:
        w.add_point(0, ground_distance_km=0.0, point_key=1, params={})
        w.append(0, 0, stats[0])
        w.append(0, 1, stats[1])
        w.append_rows(0, np.concatenate([to_row(stats[2], 2, COUNTERS), to_row(stats[3], 3, COUNTERS)]))
        w.append(0, 4, stats[4])
    rows = read_results(path).points[0].rows
    want = np.concatenate([to_row(s, b, COUNTERS) for b, s in enumerate(stats)])
    assert rows.dtype == want.dtype
    assert rows.tobytes() == want.tobytes()
