"""Large-file reading: ``qrate show --csv/--head/--where`` stream point by point, ``qrate run`` ends with a summary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

import qrate._cli.show as show
import qrate.store.scan as scan
import qrate.store.stream as stream
from qrate.cli import main
from qrate.store import read_results
from qrate.store.load import read_estimates
from tests.sweep._helpers import edit_row

APERTURE = "links.leo.aperture_radius_m"
SETS = ["sampling.pulses_per_batch=20000", "sampling.batches=4", "sampling.seed=5", "sweep.ground_distance_km=[0.0, 500.0]"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stream") / "g.h5"
    args = ["run", "khan-acka-leo", *(f"--set={x}" for x in SETS), "--sweep", f"{APERTURE}=1.0,3.0", "--out", str(out)]
    assert main([*args, "--quiet", "--scheduler", "sync"]) == 0
    return out


def _same_points(a: Path, b: Path) -> None:
    """Both files hold the same points (by key) with the same rows (every field but ``seconds``)."""
    pa, pb = ({p.point_key: p for p in read_results(f).points} for f in (a, b))
    assert sorted(pa) == sorted(pb)
    fields = [f for f in next(iter(pa.values())).rows.dtype.names or () if f != "seconds"]
    for k, p in pa.items():
        np.testing.assert_array_equal(p.rows[fields], pb[k].rows[fields])


def _csv(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    assert main(["show", *args, "--csv"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_streamed_points_hold_the_rows_of_read_results_even_when_split_over_blocks(grid: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "BLOCK_ROWS", 3)  # every point's 4 rows span two blocks
    whole = {p.index: p for p in read_results(grid).points}
    seen = []
    for _, rec in stream.iter_points(grid):
        np.testing.assert_array_equal(rec.rows, whole[rec.index].rows)
        assert rec.params == whole[rec.index].params and rec.point_key == whole[rec.index].point_key
        seen.append(rec.index)
    assert sorted(seen) == sorted(whole) and len(seen) == 4


def test_csv_head_and_where_stream_the_numbers_of_show(grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    _, rows = read_estimates(grid)
    table = _csv(capsys, str(grid))
    assert len(table) == 4
    for r, c in zip(rows, table, strict=True):
        assert float(c["key_rate_bps"]) == r["key_rate_bps"] and float(c[APERTURE]) == r[APERTURE]
    assert len(_csv(capsys, str(grid), "--head", "3")) == 3
    picked = _csv(capsys, str(grid), "--where", f"{APERTURE}=3", "--where", "ground_distance_km=500")
    assert [(float(c[APERTURE]), float(c["ground_distance_km"])) for c in picked] == [(3.0, 500.0)]
    assert main(["show", str(grid), "--head", "1"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert len(lines) == 2 and "p_success" in lines[0]  # the header and one point
    assert main(["show", str(grid), "--where", "nonsense"]) == 2
    assert "--where" in capsys.readouterr().err
    assert main(["show", str(grid), "--csv", "--where", "links.leo.divergence_rad=1e-6"]) == 2
    err = capsys.readouterr().err
    assert "not a sweep axis" in err and APERTURE in err and err.count("\n") == 1


def test_streaming_refuses_a_damaged_point(grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(grid.read_bytes())
    rows = read_results(grid).points[2].rows
    edit_row(bad, 2, 0, c_x_parity_errors=int(rows["c_verify_rounds_x"][0]) + 1)
    assert main(["show", str(bad), "--csv"]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and err.count("\n") == 1


def test_run_of_a_big_sweep_ends_with_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(show, "SUMMARY_POINTS", 3)
    out = tmp_path / "s.h5"
    args = ["run", "khan-acka-leo", *(f"--set={x}" for x in SETS), "--sweep", f"{APERTURE}=1.0,3.0", "--out", str(out)]
    assert main([*args, "--quiet", "--scheduler", "sync"]) == 0
    text = capsys.readouterr().out
    _, rows = read_estimates(out)
    p = [r["p_success"] for r in rows]
    assert "points: 4 of 4 hold batches; 16 batches" in text and "p_success" not in text.splitlines()[-1]
    assert f"p_success per point: {min(p):.5g} .. {max(p):.5g}" in text and str(out) in text
    assert len(text.splitlines()) <= 8  # a summary, not one row per point


def test_combine_of_grid_files_split_by_distance_keeps_the_axes_and_equals_one_run(tmp_path: Path) -> None:
    from qrate.scenario import load_scenario_text
    from qrate.store import load

    base = ["run", "khan-acka-leo", *(f"--set={x}" for x in SETS[:3]), "--sweep", f"{APERTURE}=1.0,3.0", "--quiet"]
    files = []
    for d in ("[0.0]", "[500.0]"):
        files.append(tmp_path / f"{d[1:-1]}.h5")
        assert main([*base, "--set", f"sweep.ground_distance_km={d}", "--scheduler", "sync", "--out", str(files[-1])]) == 0
    whole = tmp_path / "whole.h5"
    assert main([*base, "--set", "sweep.ground_distance_km=[0.0, 500.0]", "--scheduler", "sync", "--out", str(whole)]) == 0
    out = tmp_path / "c.h5"
    assert main(["combine", *map(str, files), "--out", str(out), "--quiet"]) == 0
    _same_points(whole, out)
    sweep = load_scenario_text(read_results(out).meta["scenario_toml"]).sweep
    assert sweep.distances_km() == (0.0, 500.0) and sweep.axes() == {APERTURE: (1.0, 3.0)}
    assert dict(load(out).to_xarray().sizes) == {APERTURE: 2, "ground_distance_km": 2}


def test_combine_pools_the_batches_of_a_point_held_by_two_files(grid: Path, tmp_path: Path) -> None:
    from qrate.store import ResultsWriter
    from qrate.store.combine import combine_files

    src = read_results(grid)
    halves = []
    for name, keep in (("low", slice(0, 2)), ("high", slice(2, None))):
        path = tmp_path / f"{name}.h5"
        m = src.meta
        with ResultsWriter(path, scenario_toml=m["scenario_toml"], scenario_name=m["scenario_name"], protocol=m["protocol"],
                           seed=m["seed"], counter_names=m["counter_names"], model_version=m["model_version"],
                           report=m["report"]) as w:
            for p in reversed(src.points):  # another point order than the source
                w.add_point(p.index, ground_distance_km=p.ground_distance_km, point_key=int(p.point_key, 16), params=p.params)
                w.append_rows(p.index, p.rows[keep])
        halves.append(path)
    out = combine_files(halves, tmp_path / "c.h5")
    pooled = {p.point_key: p for p in read_results(out).points}
    assert sorted(pooled) == sorted(p.point_key for p in src.points)
    for p in src.points:
        np.testing.assert_array_equal(pooled[p.point_key].rows, p.rows)
        assert pooled[p.point_key].params == p.params
    with pytest.raises(Exception, match="refusing to count the same batch twice"):
        combine_files([halves[0], halves[0]], tmp_path / "d.h5")
