"""``qrate link`` in-process (capsys) and once as a subprocess."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from qrate.cli import main

BASE = ["link", "--altitude-km", "450", "--divergence-rad", "5e-6", "--pointing-rad", "5e-7", "--beam", "far-field", "--seed", "7", "--samples", "200000"]
KEYS = {"slant_range_km", "elevation_deg", "beam_radius_m", "eta0", "mean_transmittance", "mean_transmittance_stderr", "analytic_mean_transmittance", "quantiles"}


def run_json(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    assert main([*BASE, *extra, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("model", ["exact", "weibull"])
def test_json_one_distance(capsys: pytest.CaptureFixture[str], model: str) -> None:
    (row,) = run_json(capsys, "--ground-distance-km", "1000", "--aperture-radius-m", "3", "--model", model)
    assert KEYS <= row.keys()
    assert set(row["quantiles"]) == {"0.05", "0.5", "0.95"}
    assert row["slant_range_km"] == pytest.approx(685.581, abs=1e-3)
    assert row["eta0"] == pytest.approx(1 - math.exp(-2 * 9 / (5e-6 * 685.5806e3) ** 2), rel=1e-6)
    assert abs(row["mean_transmittance"] - row["analytic_mean_transmittance"]) < 5 * row["mean_transmittance_stderr"]
    q = row["quantiles"]
    assert q["0.05"] <= q["0.5"] <= q["0.95"] <= row["eta0"]
    assert row["model"] == model and row["seed"] == 7 and row["samples"] == 200_000


def test_distance_list_and_diameter(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "--ground-distance-km", "0,500,1000", "--aperture-diameter-m", "6")
    assert [r["ground_distance_km"] for r in rows] == [0.0, 500.0, 1000.0]
    assert all(r["aperture_radius_m"] == 3.0 for r in rows)
    assert rows[0]["elevation_deg"] == 90.0
    assert rows[0]["mean_transmittance"] > rows[1]["mean_transmittance"] > rows[2]["mean_transmittance"]


def test_same_seed_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    a = run_json(capsys, "--ground-distance-km", "500", "--aperture-radius-m", "1")
    b = run_json(capsys, "--ground-distance-km", "500", "--aperture-radius-m", "1")
    assert a == b


def test_coherence_blocks_widen_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--ground-distance-km", "1000", "--aperture-radius-m", "3", "--model", "exact")
    (iid,) = run_json(capsys, *args)
    (blk,) = run_json(capsys, *args, "--coherence-time-s", "1e-4", "--rate-hz", "1e6")
    assert blk["shots_per_block"] == 100 and blk["blocks"] == 2000
    # block means are i.i.d.: SE = std(draws)/sqrt(blocks) ~ sqrt(100) times the i.i.d. SE
    assert blk["mean_transmittance_stderr"] == pytest.approx(10 * iid["mean_transmittance_stderr"], rel=0.1)
    assert abs(blk["mean_transmittance"] - blk["analytic_mean_transmittance"]) < 5 * blk["mean_transmittance_stderr"]
    (one,) = run_json(capsys, *args, "--coherence-time-s", "10")
    assert one["blocks"] == 1 and one["mean_transmittance_stderr"] is None


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--ground-distance-km", "0,2000", "--aperture-radius-m", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("qrate link:") and "radius" in lines[0]
    assert lines[1].split()[:3] == ["D_km", "L_km", "elev_deg"]
    assert len(lines) == 4 and lines[3].split()[0] == "2000"


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--ground-distance-km", "1000", "--aperture-radius-m", "abc"], "--aperture-radius-m"),
        (["--ground-distance-km", "-5", "--aperture-radius-m", "3"], "--ground-distance-km"),
        (["--ground-distance-km", "0,5000", "--aperture-radius-m", "3"], "--ground-distance-km"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--aperture-diameter-m", "6"], "--aperture-diameter-m"),
        (["--ground-distance-km", "1000"], "--aperture-radius-m"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--model", "yehia"], "--model"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--t-atm-zenith", "1.5"], "--t-atm-zenith"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--samples", "0"], "--samples"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--coherence-time-s", "-1"], "--coherence-time-s"),
        (["--ground-distance-km", "1000", "--aperture-radius-m", "3", "--wavelength-m", "nan"], "--wavelength-m"),
        (["--aperture-radius-m", "3"], "--ground-distance-km"),
    ],
)
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], extra: list[str], option: str) -> None:
    assert main([*BASE, *extra]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and option in err and "Traceback" not in err


def test_subprocess() -> None:
    code = "import sys; from qrate.cli import main; sys.exit(main(sys.argv[1:]))"
    args = [*BASE, "--ground-distance-km", "1000", "--aperture-radius-m", "3", "--samples", "1000", "--json"]
    ok = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert KEYS <= json.loads(ok.stdout).keys()
    bad = subprocess.run([sys.executable, "-c", code, *args, "--aperture-diameter-m", "6"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert "--aperture-radius-m" in bad.stderr and "Traceback" not in bad.stderr
