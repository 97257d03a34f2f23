"""Block-wise reading at scale: combine, show, summaries and qrate.load read in blocks give what the
whole-file reader gives, whatever the block sizes (tiny here: every table spans many blocks), and
refuse the same damage."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import h5py
import numpy as np
import pytest

import qrate._cli.show as show
import qrate.store.lazy as lazy
import qrate.store.scan as scan
from qrate.cli import main
from qrate.errors import InputError, ResultsFileError
from qrate.stats import BatchStats
from qrate.store import ResultsWriter, read_results
from qrate.store.combine import combine_files
from qrate.store.load import LoadedResults, load, read_estimates
from qrate.store.stream import iter_points, summarize

COUNTERS = ("shots", "broadcast_errors")
REPORT = {
    "protocol": "broadcast",
    "repetition_rate_hz": 1e6,
    "carriers_per_use": 1,
    "estimators": [{"kind": "broadcast_bits", "rounds": "shots", "errors": "broadcast_errors"}],
}


def _stats(i: int, b: int) -> BatchStats:
    s = 30 + (7 * i + 3 * b) % 40
    return BatchStats(100, s, counts={"shots": s, "broadcast_errors": (i + b) % 3})


def _file(path: Path, distances: list[float], *, batches: range = range(3), spread: bool = False) -> Path:
    """A results file of one point per distance; with ``spread`` the batches of every point are
    written in two passes (as a resumed run leaves them: rows out of (point, batch) order)."""
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
        model_version=3,
        report=REPORT,
    ) as w:
        w.record_run("run")
        for i, d in enumerate(distances):
            w.add_point(i, ground_distance_km=d, point_key=int(d * 10) + 1, params={"slant_range_km": 500.0 + d})
        passes = [list(batches)[::2], list(batches)[1::2]] if spread else [list(batches)]
        for part in passes:
            for i, _ in enumerate(distances):
                for b in part:
                    w.append(i, b, _stats(i, b))
    return path


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 2 rows, 2 points and 7 bytes of parameters."""
    monkeypatch.setattr(scan, "BLOCK_ROWS", 2)
    monkeypatch.setattr(scan, "POINT_BLOCK", 2)
    monkeypatch.setattr(scan, "PARAMS_BLOCK", 7)


def _content(path: Path) -> dict[str, tuple[float, bytes, np.ndarray]]:
    """Every point by key: distance, stored parameters and rows (all fields but ``seconds``)."""
    res = read_results(path)
    return {p.point_key: (p.ground_distance_km, p.params_json, p.rows) for p in res.points}


def test_combine_in_tiny_blocks_writes_what_whole_blocks_write(
    tmp_path: Path, tiny: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _file(tmp_path / "a.h5", [0.0, 50.0, 100.0])
    b = _file(tmp_path / "b.h5", [150.0, 200.0], spread=True)
    small = combine_files([b, a], tmp_path / "small.h5")
    monkeypatch.undo()
    whole = combine_files([b, a], tmp_path / "whole.h5")
    got, want = _content(small), _content(whole)
    assert list(got) == list(want) and len(got) == 5
    for key, (d, params, rows) in want.items():
        assert got[key][0] == d and got[key][1] == params
        np.testing.assert_array_equal(got[key][2], rows)
    assert [p.ground_distance_km for p in read_results(small).points] == [0.0, 50.0, 100.0, 150.0, 200.0]
    for src in (a, b):  # every input's rows, unchanged
        for key, (_, params, rows) in _content(src).items():
            np.testing.assert_array_equal(got[key][2], rows)
            assert got[key][1] == params


def test_combine_pools_batch_halves_and_refuses_a_batch_in_two_inputs_across_blocks(tmp_path: Path, tiny: None) -> None:
    lo = _file(tmp_path / "lo.h5", [0.0, 50.0], batches=range(0, 3))
    hi = _file(tmp_path / "hi.h5", [0.0, 50.0], batches=range(3, 7))
    out = combine_files([lo, hi], tmp_path / "c.h5")
    for p in read_results(out).points:
        assert p.rows["batch_index"].tolist() == list(range(7))
    over = _file(tmp_path / "over.h5", [0.0, 50.0], batches=range(6, 8))  # batch 6 is in hi too
    with pytest.raises(InputError, match="batch 6 of the point at 0 km is in both .*hi.h5 and .*over.h5"):
        combine_files([lo, hi, over], tmp_path / "d.h5")
    assert not (tmp_path / "d.h5").exists()


def _duplicate_last_row(path: Path) -> None:
    """Append a copy of the first row at the end of the batches table (a batch held twice, out of order)."""
    with h5py.File(path, "r+") as f:
        ds = f["batches"]
        first = ds[0]
        ds.resize(ds.shape[0] + 1, axis=0)
        ds[-1] = first


def test_a_batch_held_twice_out_of_order_is_found_by_every_block_reader(
    tmp_path: Path, tiny: None, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _file(tmp_path / "bad.h5", [0.0, 50.0, 100.0])
    _duplicate_last_row(bad)
    good = _file(tmp_path / "good.h5", [150.0])
    for call in (
        lambda: summarize(bad),
        lambda: scan.check_file(bad),
        lambda: list(iter_points(bad)),
        lambda: combine_files([good, bad], tmp_path / "c.h5"),
    ):
        with pytest.raises(ResultsFileError, match="point 0 holds batch 0 twice; the file is damaged"):
            call()
    assert not (tmp_path / "c.h5").exists()
    assert main(["show", str(bad), "--csv"]) == 2
    assert "twice" in capsys.readouterr().err


def test_an_impossible_row_in_the_last_block_is_refused_and_combine_writes_nothing(tmp_path: Path, tiny: None) -> None:
    bad = _file(tmp_path / "bad.h5", [0.0, 50.0, 100.0])
    with h5py.File(bad, "r+") as f:
        row = f["batches"][-1]
        row["c_broadcast_errors"] = row["successes"] + 1
        f["batches"][-1] = row
    good = _file(tmp_path / "good.h5", [150.0])
    (tmp_path / "c.h5").write_bytes(b"old")
    with pytest.raises(ResultsFileError, match="point 2 holds an impossible batch row"):
        combine_files([good, bad], tmp_path / "c.h5", overwrite=True)
    assert (tmp_path / "c.h5").read_bytes() == b"old"
    with pytest.raises(ResultsFileError, match="impossible batch row"):
        scan.check_file(bad)
    assert scan.check_file(good).ordered


def test_spread_rows_stream_like_the_whole_file_reader(tmp_path: Path, tiny: None) -> None:
    path = _file(tmp_path / "s.h5", [0.0, 50.0, 100.0], batches=range(5), spread=True)
    assert not scan.check_file(path).ordered
    whole = {p.index: p for p in read_results(path).points}
    seen = []
    for _, rec in iter_points(path):
        np.testing.assert_array_equal(rec.rows, whole[rec.index].rows)
        assert rec.params == whole[rec.index].params
        seen.append(rec.index)
    assert sorted(seen) == [0, 1, 2]
    s = summarize(path)
    assert (s.points, s.batches, s.pulses) == (3, 15, 1500)


def test_show_of_a_large_file_prints_a_summary_and_csv_the_rows(
    tmp_path: Path, tiny: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path / "s.h5", [0.0, 50.0, 100.0])
    monkeypatch.setattr(show, "SUMMARY_POINTS", 2)
    assert main(["show", str(path)]) == 0
    text = capsys.readouterr().out
    assert "points: 3 of 3 hold batches; 9 batches" in text and len(text.splitlines()) <= 8
    assert main(["show", str(path), "--all"]) == 0
    assert len([ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]) == 4  # header + 3 points
    assert main(["show", str(path), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    _, est = read_estimates(path)
    assert [float(r["p_success"]) for r in rows] == [e["p_success"] for e in est]


def test_load_of_a_large_file_is_lazy_and_gives_the_numbers_of_a_small_one(
    tmp_path: Path, tiny: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path / "s.h5", [0.0, 50.0, 100.0, 150.0, 200.0], spread=True)
    eager = load(path)
    assert isinstance(eager, LoadedResults)
    monkeypatch.setattr(lazy, "LAZY_POINTS", 2)
    monkeypatch.setattr(lazy, "CHUNK_POINTS", 2)
    monkeypatch.setattr(lazy, "PROBE_POINTS", 1)
    calls = []
    real = lazy.LazyResults.chunk
    monkeypatch.setattr(lazy.LazyResults, "chunk", lambda self, k: calls.append(k) or real(self, k))
    lz = load(path)
    assert isinstance(lz, lazy.LazyResults) and lz.axes == eager.axes and calls == []
    ds = lz.to_xarray()
    assert ds.sizes == {"point": 5} and calls == []  # nothing computed yet
    part = ds.isel(point=slice(2, 4)).compute()
    assert sorted(set(calls)) == [1]  # only the chunk holding points 2 and 3
    np.testing.assert_array_equal(part["p_success"].values, eager["p_success"][2:4])
    np.testing.assert_array_equal(part["ground_distance_km"].values, [100.0, 150.0])
    assert set(eager) <= set(lz)
    for name in eager:
        np.testing.assert_array_equal(lz[name], eager[name])
    assert list(lz.to_pandas()["p_success"]) == list(eager["p_success"])


def test_add_points_refuses_an_index_the_file_holds(tmp_path: Path) -> None:
    from qrate.store import schema

    with ResultsWriter(
        tmp_path / "w.h5",
        scenario_toml="x = 1\n",
        scenario_name="t",
        protocol="broadcast",
        seed=1,
        counter_names=COUNTERS,
        model_version=3,
        report=REPORT,
    ) as w:
        table = np.zeros(2, dtype=schema.POINT_DTYPE)
        table["index"], table["point_key"], table["params_length"] = [0, 1], [b"a" * 32, b"b" * 32], [2, 2]
        w.add_points(table, np.frombuffer(b"{}{}", np.uint8))
        with pytest.raises(ResultsFileError, match="must be new"):
            w.add_points(table[:1], np.frombuffer(b"{}", np.uint8))
        w.append(1, 0, _stats(1, 0))
        with pytest.raises(ResultsFileError, match="never added"):
            w.append_table(_bad_rows(w))
    assert [p.params for p in read_results(tmp_path / "w.h5").points][0] == {"report": REPORT}


def _bad_rows(w: ResultsWriter) -> np.ndarray:
    from qrate.store import schema

    rows = np.zeros(1, dtype=schema.batches_dtype(w._dtype))
    rows["point"], rows["pulses"] = 7, 1
    return rows
