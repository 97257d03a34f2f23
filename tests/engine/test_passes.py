"""Pass runs: each step of each pass is a point with its own geometry and duration."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.engine.passes import scenario_passes
from qrate.errors import InputError
from qrate.estimates import secret_fraction
from qrate.scenario import load_scenario
from qrate.store.load import read_passes
from tests.orbit._data import MICIUS_L1, MICIUS_L2

#: Micius-like pass over Delingha (GS1) and Lijiang (GS2), 2016-12-20 ~05:00 UTC (TLE of 2016-12-18)
PASS = [
    "nodes.ground_stations.GS1.latitude_deg=37.379", "nodes.ground_stations.GS1.longitude_deg=97.727",
    "nodes.ground_stations.GS1.altitude_m=3153.0",
    "nodes.ground_stations.GS2.latitude_deg=26.695", "nodes.ground_stations.GS2.longitude_deg=100.030",
    "nodes.ground_stations.GS2.altitude_m=3200.0",
    "nodes.platforms.leo.altitude_km=1.0",  # replaced below: a TLE places the platform
    "links.leo.aperture_radius_m=0.6",
    'passes={start_utc = "2016-12-20T04:55:00", end_utc = "2016-12-20T05:05:00", step_s = 20.0, min_elevation_deg = 15.0}',
    "sampling.pulses_per_batch=1000", "sampling.batches=4", "sampling.seed=5",
]


def _scenario(*extra: str):  # type: ignore[no-untyped-def]
    from qrate.scenario.load import apply_overrides, parse_toml, preset_text, validate_data

    data = apply_overrides(parse_toml(preset_text("khan-acka-leo")), [*PASS, *extra])
    data["nodes"]["platforms"]["leo"] = {"tle": [MICIUS_L1, MICIUS_L2]}
    return validate_data(data)


def test_each_step_has_its_geometry_and_its_duration_in_pulses() -> None:
    s = _scenario()
    found = scenario_passes(s)
    assert len(found.passes) == 1
    plans = plan_sweep(s)
    assert sum(p.extra["weight_s"] for p in plans) == pytest.approx(found.passes[0].duration_s, rel=1e-9)
    for p in plans:
        assert p.pulses_per_batch * 4 == pytest.approx(p.extra["weight_s"] * 1e6, abs=4)
        for dl in p.downlinks:
            st = p.extra["stations"][dl.ground_station]
            assert dl.budget.geometry.slant_range_km == pytest.approx(st["range_km"])
            assert dl.budget.geometry.elevation_deg == pytest.approx(st["elevation_deg"])
            assert st["elevation_deg"] >= 15.0 - 1e-3  # edges refined to 1 ms
    assert len({p.key for p in plans}) == len(plans)


def test_key_per_pass_is_the_integral_of_the_rate(tmp_path: Path) -> None:
    """Independent expectation: Σ_k R w_k P_k (1 − f) r∞(Q_X, 0), P_k the planned mean success
    probability of step k and Q_X = ½[1 − (1 − 2p)^4] (four fiber photons, p = 0.02)."""
    out = tmp_path / "p.h5"
    s = _scenario("sampling.batches=8", "sampling.pulses_per_batch=1")
    from qrate.sweep import run_to_file

    run_to_file(s, out, scheduler="sync", quiet=True)
    (p,), summary = read_passes(out)
    qx = 0.5 * (1 - (1 - 0.04) ** 4)
    expected = sum(1e6 * plan.extra["weight_s"] * plan.p_success_expected * 0.9 * float(secret_fraction(qx, 0.0))
                   for plan in plan_sweep(s))
    assert abs(p["key_bits"] - expected) < 4 * p["key_bits_stderr"] + 0.01 * expected
    assert 0 < p["finite_key_bits"] < p["key_bits"]
    # a 10-minute window: its per-day figures (144 passes a day) are flagged as not representative
    assert summary["passes"] == 1 and summary["key_bits_per_pass"] == pytest.approx(p["key_bits"])
    assert not summary["representative"] and "not representative" in summary["long_term_note"]
    assert p["night"] == (p["max_sun_elevation_deg"] <= -18.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("nodes.ground_stations.GS1.latitude_deg=95.0", "nodes.ground_stations.GS1.latitude_deg"),
        ('passes.end_utc="2016-12-20T04:00:00"', "passes.end_utc"),
        ("passes.step_s=0.0", "passes.step_s"),
    ],
)
def test_bad_pass_input_names_the_field(change: str, field: str) -> None:
    with pytest.raises(InputError) as exc:
        plan_sweep(_scenario(change))
    assert exc.value.field == field, exc.value


def test_bad_tle_checksum_exits_2_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tomli_w

    s = _scenario()
    data = s.model_dump(mode="json", exclude_none=True)
    bad = MICIUS_L2[:-1] + str((int(MICIUS_L2[-1]) + 1) % 10)
    data["nodes"]["platforms"]["leo"]["tle"] = [MICIUS_L1, bad]
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data))
    assert main(["run", str(path), "--out", str(tmp_path / "x.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "nodes.platforms.leo.tle.line2" in err and "checksum" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.h5").exists()


def test_no_pass_in_the_window_is_an_input_error() -> None:
    s = _scenario('passes.start_utc="2016-12-20T06:00:00"', 'passes.end_utc="2016-12-20T06:10:00"')
    with pytest.raises(InputError, match="no pass"):
        plan_sweep(s)


def test_show_steps_name_stations_sun_and_sky_and_long_term_needs_a_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each step row: UTC time, each station's elevation (named), Sun elevation and sky state; the
    per-day / per-year totals only from a window of at least a day, with the days and passes beside."""
    from qrate.sweep import run_to_file

    out = tmp_path / "p.h5"
    run_to_file(_scenario("sampling.batches=2", "sampling.pulses_per_batch=1"), out, scheduler="sync", quiet=True)
    assert main(["show", str(out)]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.split()[:3] == ["pass", "time_s", "time_utc"])
    assert {"GS1:elev", "GS1:sun", "GS1:sky", "GS2:elev", "GS2:sun", "GS2:sky"} <= set(header.split())
    step = text.splitlines()[text.splitlines().index(header) + 1].split()
    assert step[2].startswith("2016-12-20T04:5") and step[5] == "day" and float(step[4]) > 0  # 11:5x local time
    assert "long-term totals from 1 passes in 0.006944 days, clear-sky fraction 1, not representative" in text
    assert "passes per day" not in text  # no "144 passes per day" from a 10-minute window

    day = tmp_path / "d.h5"
    s = _scenario(
        "sampling.batches=2",
        "sampling.pulses_per_batch=1",
        'passes={start_utc = "2016-12-20T00:00:00", days = 1.0, step_s = 30.0, min_elevation_deg = 15.0,'
        " night_only = true, clear_sky_fraction = 0.5}",
    )
    run_to_file(s, day, scheduler="sync", quiet=True)
    passes, summary = read_passes(day)
    assert summary["window_days"] == pytest.approx(1.0) and summary["passes"] == len(passes) >= 2
    night = [p for p in passes if p["night"]]
    assert 0 < len(night) < len(passes) and summary["counted_passes"] == len(night)
    assert summary["key_bits_per_day"] == pytest.approx(0.5 * sum(p["key_bits"] for p in night))
    assert main(["show", str(day)]) == 0
    text = capsys.readouterr().out
    assert f"from {len(night)} night passes in 1 days, clear-sky fraction 0.5 (" in text and "not representative" not in text


def test_run_warns_when_the_window_is_far_from_the_tle_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`qrate run` of a pass scenario whose window lies > 30 days from its TLE epoch says so on stderr."""
    window = ['passes.start_utc="2019-01-01T00:00:00"', 'passes.end_utc="2019-01-01T00:01:00"']
    code = main(["run", "micius-2020-qkd", *(f"--set={w}" for w in window), "--out", str(tmp_path / "x.h5"), "--quiet"])
    err = capsys.readouterr().err
    assert "warning: the window reaches 108 days from the TLE epoch 2018-09-15" in err
    assert code == 2 and "no pass in the window" in err  # a minute without a pass
