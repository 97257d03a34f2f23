"""Files of expected values and of frontiers: written, read by qrate.load / show / plot, with units."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import qrate
from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.require.expected import expected_sweep
from qrate.scenario import load_scenario


def test_run_expected_writes_a_file_that_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "e.h5"
    assert main(["run", "khan-acka-leo", "--expected", "--sweep", "ground_distance_km=0,1000", "--out", str(out), "--quiet"]) == 0
    assert "EXPECTED VALUES" in capsys.readouterr().out
    res = qrate.load(out)
    assert res.meta["sampling_mode"] == "expected"
    sc = load_scenario("khan-acka-leo", [], ["ground_distance_km=0,1000"])
    want = expected_sweep(plan_sweep(sc), sc.sampling.pulses_per_batch, sc.sampling.batches)
    assert list(res["key_rate_bps"]) == pytest.approx([w["key_rate_bps"] for w in want], rel=1e-12)
    ds = res.to_xarray()
    assert ds["key_rate_bps"].attrs["units"] == "bit/s" and ds["ground_distance_km"].attrs["units"] == "km"
    # sampling.mode in the scenario does the same; --resume has nothing to resume
    out2 = tmp_path / "e2.h5"
    assert (
        main(
            [
                "run",
                "khan-acka-leo",
                "--set",
                'sampling.mode="expected"',
                "--sweep",
                "ground_distance_km=0,1000",
                "--out",
                str(out2),
                "--quiet",
            ]
        )
        == 0
    )
    assert list(qrate.load(out2)["key_rate_bps"]) == list(res["key_rate_bps"])
    capsys.readouterr()
    assert main(["run", "khan-acka-leo", "--expected", "--resume", "--out", str(out2), "--quiet"]) == 2
    assert main(["plot", str(out), "--out", str(tmp_path / "e.png")]) == 0


def test_frontier_file_loads_shows_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f.h5"
    args = ["require", "khan-acka-leo", "--vary", "links.leo.aperture_radius_m=0.1:3", "--over", "ground_distance_km=0,1000,2000"]
    assert main([*args, "--target", "key_rate_bps >= 1e5", "--batches", "4", "--out", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in answer["requirements"]] == ["found", "found", "unreachable"]
    res = qrate.load(out)
    assert res.axes == ("ground_distance_km",)
    th, lo, hi = res["threshold"], res["threshold_low"], res["threshold_high"]
    assert th[0] < th[1] and lo[0] < hi[0] and str(res["status"][2]) == "unreachable"
    assert res.to_xarray()["threshold"].attrs["units"] == "m"
    assert main(["show", str(out), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [float(r["ground_distance_km"]) for r in rows] == [0, 1000, 2000] and rows[2]["threshold"] == ""
    assert main(["plot", str(out), "--out", str(tmp_path / "f.png")]) == 0
    assert main([*args, "--target", "key_rate_bps >= 1e5", "--out", str(out)]) == 2  # exists, no --overwrite


def test_heatmap_and_unit_labels(tmp_path: Path) -> None:
    from qrate.units import field_label, format_value

    assert field_label("links.leo.divergence_rad", [2e-6, 1e-5]) == "LEO divergence (µrad)"
    assert format_value("links.leo.pointing_rad", 5e-7) == "500 nrad"
    assert format_value("sources.repetition_rate_hz", 1e8) == "100 MHz"
    assert field_label("ground_distance_km") == "ground distance (km)"
    out = tmp_path / "g.h5"
    assert (
        main(
            [
                "run",
                "khan-acka-leo",
                "--expected",
                "--sweep",
                "links.leo.divergence_rad=2e-6,5e-6",
                "--sweep",
                "ground_distance_km=0,1000",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(["plot", str(out), "--heatmap", "ground_distance_km", "links.leo.divergence_rad", "--out", str(tmp_path / "h.png")])
        == 0
    )
    assert (tmp_path / "h.png").stat().st_size > 0
    assert main(["plot", str(out), "--heatmap", "ground_distance_km", "links.leo.nope", "--out", str(tmp_path / "i.png")]) == 2
