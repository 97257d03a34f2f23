"""Sweep anything: grids of any scenario fields, network size, resume that extends, exports."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.scenario import load_scenario
from qrate.store import load, read_results
from qrate.sweep import run_sweep

SMALL = ["sampling.pulses_per_batch=20000", "sampling.batches=3", "sampling.seed=11"]
APERTURE = "links.leo.aperture_radius_m"
DIVERGENCE = "links.leo.divergence_rad"


def _rows_by_point(results: list) -> dict[tuple, np.ndarray]:
    return {(*r.plan.axes.values(), r.plan.ground_distance_km): r.rows for r in results}


def test_two_axis_grid_is_the_product_and_each_point_equals_a_one_point_run() -> None:
    s = load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[0.0, 800.0]", *SMALL],
                      [f"{APERTURE}=0.5,2.0", f"{DIVERGENCE}=4e-6,6e-6,8e-6"])
    points = s.sweep.points()
    assert len(points) == 2 * 3 * 2
    assert {(p[APERTURE], p[DIVERGENCE], p["ground_distance_km"]) for p in points} == {
        (a, d, g) for a in (0.5, 2.0) for d in (4e-6, 6e-6, 8e-6) for g in (0.0, 800.0)}
    grid = _rows_by_point(run_sweep(s, 11))
    for a, d, g in [(0.5, 8e-6, 800.0), (2.0, 4e-6, 0.0)]:
        one = load_scenario("khan-acka-leo", [f"sweep.ground_distance_km=[{g}]", f"{APERTURE}={a}", f"{DIVERGENCE}={d}", *SMALL])
        (res,) = run_sweep(one, 11)
        assert plan_sweep(one)[0].key == next(p.key for p in plan_sweep(s) if p.axes == {APERTURE: a, DIVERGENCE: d}
                                              and p.ground_distance_km == g)
        np.testing.assert_array_equal(_strip(res.rows), _strip(grid[(a, d, g)]))


def _strip(rows: np.ndarray) -> np.ndarray:
    """Rows without the wall-time field."""
    names = [n for n in rows.dtype.names if n != "seconds"]
    return rows[names]


def test_zip_pairs_axes_instead_of_a_grid() -> None:
    s = load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[0.0]", "sweep.zip=true", *SMALL],
                      [f"{APERTURE}=0.5,1.0,2.0", f"{DIVERGENCE}=4e-6,6e-6,8e-6"])
    assert [(p[APERTURE], p[DIVERGENCE]) for p in s.sweep.points()] == [(0.5, 4e-6), (1.0, 6e-6), (2.0, 8e-6)]


def test_range_axes_linear_and_log() -> None:
    s = load_scenario("khan-acka-leo", [f'sweep."{APERTURE}"={{start = 0.5, stop = 1.5, step = 0.5}}',
                                        f'sweep."{DIVERGENCE}"={{start = 1e-6, stop = 1e-5, num = 3, log = true}}'])
    axes = s.sweep.axes()
    assert axes[APERTURE] == (0.5, 1.0, 1.5)
    assert axes[DIVERGENCE] == pytest.approx((1e-6, math.sqrt(1e-11), 1e-5))


NETWORK = ["nodes.ground_stations.GS1.user_count=3", "links.fiber.lengths_km={Dina = 2.0}",
           "links.fiber.default_length_km=1.0", 'protocol.sender="GS1-u1"', 'protocol.participants="all"',
           "sweep.ground_distance_km=[500.0]", *SMALL]


def test_user_count_equals_the_hand_written_scenario() -> None:
    counted = load_scenario("khan-acka-leo", NETWORK)
    named = load_scenario("khan-acka-leo", [
        'nodes.ground_stations.GS1.users=["GS1-u1", "GS1-u2", "GS1-u3"]',
        'links.fiber.lengths_km={"GS1-u1" = 1.0, "GS1-u2" = 1.0, "GS1-u3" = 1.0, Dina = 2.0}',
        'protocol.sender="GS1-u1"', 'protocol.participants=["GS1-u1", "GS1-u2", "GS1-u3", "Dina"]',
        "sweep.ground_distance_km=[500.0]", *SMALL])
    (a,), (b,) = run_sweep(counted, 11), run_sweep(named, 11)
    np.testing.assert_array_equal(_strip(a.rows), _strip(b.rows))


@pytest.mark.parametrize("n", [2, 5, 12])
def test_qx_follows_the_parity_closed_form_for_every_network_size(n: int) -> None:
    """Q_X = ½[1 − (1 − 2p)^k], p = 0.02 per fiber traversal, k = n + 1 photons (n at GS1, Dina)."""
    from qrate.estimates import estimate_point

    s = load_scenario("khan-acka-leo", [*NETWORK[1:], f"nodes.ground_stations.GS1.user_count={n}",
                                        "sampling.pulses_per_batch=200000", "sampling.batches=5"])
    (res,) = run_sweep(s, 11)
    est = estimate_point(res.rows, res.plan.report())
    k, p = n + 1, 0.02
    q = 0.5 * (1 - (1 - 2 * p) ** k)
    rounds = est["counts"]["verify_rounds_x"]
    assert abs(est["qber_x"] - q) < 4 * math.sqrt(q * (1 - q) / rounds)


@pytest.mark.parametrize(
    ("sweep", "field"),
    [
        ("links.leo.nonexistent=1,2", "--sweep.links.leo.nonexistent"),
        ("links.leo.aperture_radius_m=big,small", "--sweep.links.leo.aperture_radius_m"),
        ("links.leo.aperture_radius_m=1,1", "--sweep.links.leo.aperture_radius_m"),
        ("links.leo.aperture_radius_m=-1,1", "--sweep.links.leo.aperture_radius_m"),
    ],
)
def test_bad_axes_exit_2_naming_the_axis_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             sweep: str, field: str) -> None:
    out = tmp_path / "r.h5"
    assert main(["run", "khan-acka-leo", "--sweep", sweep, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sweep." + sweep.split("=")[0] in err, err
    assert not out.exists()


def test_empty_axis_and_too_many_points_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.h5"
    assert main(["run", "khan-acka-leo", "--set", f'sweep."{APERTURE}"=[]', "--out", str(out)]) == 2
    assert f"sweep.{APERTURE}" in capsys.readouterr().err
    assert main(["run", "khan-acka-leo", "--set", "sweep.max_points=20", "--sweep", f"{APERTURE}=0.5,1,2",
                 "--out", str(out)]) == 2  # 9 distances x 3 apertures = 27 > 20
    err = capsys.readouterr().err
    assert "27 points" in err and "max_points" in err and "projected at" in err and "GiB file" in err
    assert not out.exists()


def test_csv_and_xarray_hold_the_numbers_of_show_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g.h5"
    args = ["run", "khan-acka-leo", *(f"--set={x}" for x in ["sweep.ground_distance_km=[0.0, 500.0]", *SMALL]),
            "--sweep", f"{APERTURE}=1.0,3.0", "--out", str(out), "--quiet", "--scheduler", "sync"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["show", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert main(["show", str(out), "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(table) == 4
    ds = load(out).to_xarray()
    assert dict(ds.sizes) == {APERTURE: 2, "ground_distance_km": 2}
    for r, c in zip(rows, table, strict=True):
        assert float(c[APERTURE]) == r[APERTURE] and float(c["ground_distance_km"]) == r["ground_distance_km"]
        assert float(c["key_rate_bps"]) == r["key_rate_bps"]
        cell = ds["key_rate_bps"].sel({APERTURE: r[APERTURE], "ground_distance_km": r["ground_distance_km"]})
        assert float(cell) == r["key_rate_bps"]
    assert len(load(out).batches()["pulses"]) == 4 * 3


def test_resume_adds_axis_values_and_batches_keeping_stored_rows(tmp_path: Path) -> None:
    base = [*(f"--set={x}" for x in ["sweep.ground_distance_km=[0.0, 500.0]", *SMALL]), "--quiet", "--scheduler", "sync"]
    part, whole = tmp_path / "part.h5", tmp_path / "whole.h5"
    assert main(["run", "khan-acka-leo", *base, "--sweep", f"{APERTURE}=1.0", "--out", str(part)]) == 0
    before = {p.point_key: p.rows.copy() for p in read_results(part).points}
    more = [*base, "--set=sampling.batches=5", "--sweep", f"{APERTURE}=1.0,3.0"]
    assert main(["run", "khan-acka-leo", *more, "--out", str(part), "--resume"]) == 0
    assert main(["run", "khan-acka-leo", *more, "--out", str(whole)]) == 0
    after = {p.point_key: p.rows for p in read_results(part).points}
    fresh = {p.point_key: p.rows for p in read_results(whole).points}
    assert set(after) == set(fresh) and len(after) == 4
    for key, rows in before.items():
        np.testing.assert_array_equal(after[key][: rows.size], rows)  # stored rows untouched
    for key in fresh:
        np.testing.assert_array_equal(_strip(after[key]), _strip(fresh[key]))
