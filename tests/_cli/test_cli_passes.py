"""``qrate passes`` in-process (capsys)."""

from __future__ import annotations

import json

import pytest

from qrate.cli import main

from tests.orbit._data import MICIUS_L1, MICIUS_L2

XL = "Xinglong:40.39587:117.57746:890"
WINDOW = ["--start", "2016-12-19T16:45", "--end", "2016-12-19T17:00"]
MICIUS = ["--tle", MICIUS_L1, MICIUS_L2]
"""Micius (NORAD 41731) by its two-line elements."""
MICIUS_XL = [*MICIUS, "--station", XL]
"""Micius seen from Xinglong, the setting of most tests here."""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["passes", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_one_row_per_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *MICIUS, "--name", "Micius", "--station", XL, *WINDOW, "--min-elevation-deg", "10")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("# qrate passes: Micius (TLE epoch 2016-12-18T21:38:11.330Z)")
    assert lines[1].split() == [
        "pass",
        "start_utc",
        "end_utc",
        "duration_s",
        "Xinglong:max_elev_deg",
        "Xinglong:min_range_km",
        "Xinglong:max_sun_deg",
        "Xinglong:sky",
    ]
    (row,) = [line.split() for line in lines[2:]]
    assert row[0] == "1" and row[1].startswith("2016-12-19T16:48:4") and row[2].startswith("2016-12-19T16:55:4")
    assert 400 < float(row[3]) < 430 and 47 < float(row[4]) < 48.5 and 630 < float(row[5]) < 660
    assert -75 < float(row[6]) < -50 and row[7] == "night"  # 00:50 local time in December


def test_json_passes_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, *MICIUS_XL, "--station", "Delingha:37.379:97.727:3153:5", *WINDOW, "--json", "--steps", "--step-s", "10"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    passes = [r for r in records if r["record"] == "pass"]
    steps = [r for r in records if r["record"] == "step"]
    assert len(passes) == 1 and len(steps) > 10
    p = passes[0]
    assert p["platform"] == "41731" and set(p["stations"]) == {"Xinglong", "Delingha"}
    assert {"max_elevation_deg", "min_range_km", "time_max_elevation_utc"} <= set(p["stations"]["Delingha"])
    assert p["stations"]["Delingha"]["max_elevation_deg"] >= 5.0
    assert steps[0]["time_utc"] == p["start_utc"] and steps[-1]["time_utc"] == p["end_utc"]
    assert sum(s["weight_s"] for s in steps) == pytest.approx(p["duration_s"], abs=1e-3)
    for s in steps:
        assert {"range_km", "elevation_deg", "azimuth_deg", "sun_elevation_deg"} == set(s["stations"]["Delingha"])
        assert s["stations"]["Delingha"]["elevation_deg"] >= 5.0 - 1e-3


def test_text_steps_block(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, *MICIUS_XL, "--start", "2016-12-19T16:52", "--end", "2016-12-19T16:52:03", "--steps")
    assert code == 0
    block = out.split("# pass 1: per-step geometry\n")[1].splitlines()
    assert block[0].split() == ["time_utc", "Xinglong:range_km", "Xinglong:elevation_deg", "Xinglong:sun_deg", "Xinglong:sky"]
    assert [line.split()[0] for line in block[1:]] == [f"2016-12-19T16:52:0{k}.000Z" for k in range(4)]
    assert {line.split()[4] for line in block[1:]} == {"night"}


def test_window_far_from_the_tle_epoch_warns(capsys: pytest.CaptureFixture[str]) -> None:
    """SGP4 degrades away from the elements' epoch: a window > 30 days from it prints one warning line."""
    args = ["--tle", MICIUS_L1, MICIUS_L2, "--station", XL, "--days", "0.2", "--json"]
    code, _, err = _run(capsys, *args, "--start", "2017-01-10")
    assert code == 0 and err == ""  # 22 days: fine
    code, out, err = _run(capsys, *args, "--start", "2017-03-01")
    assert code == 0 and out  # the passes are still printed
    assert err.startswith("qrate passes: warning: the window reaches 72 days from the TLE epoch 2016-12-18")
    assert "SGP4 accuracy degrades" in err


def test_no_pass_is_a_message_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *MICIUS_XL, "--start", "2016-12-19T16:45", "--end", "2016-12-19T16:46", "--json")
    assert code == 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("qrate passes: no pass of 41731")


def test_circular_and_fixed_platforms(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--circular", "500:0:0:0", "--station", "eq:0:0", "--start", "2020-03-01", "--days", "0.3", "--json"
    )
    assert code == 0 and len(out.splitlines()) >= 2
    code, out, _ = _run(
        capsys, "--fixed", "40.5:117.6:20000", "--station", XL, "--start", "2021-01-01", "--days", "0.01", "--json"
    )
    (p,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and p["clipped_start"] and p["clipped_end"] and p["duration_s"] == pytest.approx(864.0)
    # southern / western coordinates start with '-': accepted as option values
    code, out, _ = _run(
        capsys,
        "--fixed",
        "-33.9:-151.2:20000",
        "--station",
        "S:-34:-151.3:10",
        "--start",
        "2021-01-01",
        "--days",
        "0.01",
        "--min-elevation-deg",
        "-1",
    )
    assert code == 0 and "S:max_elev_deg" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tle", MICIUS_L1, MICIUS_L2[:68] + "7", "--station", XL, *WINDOW], ["--tle", "line 2", "checksum"]),
        (["--tle", MICIUS_L1[:68] + "1", MICIUS_L2, "--station", XL, *WINDOW], ["--tle", "line 1", "checksum"]),
        (["--tle", MICIUS_L1[:50], MICIUS_L2, "--station", XL, *WINDOW], ["--tle", "line 1", "69 characters"]),
        ([*MICIUS, "--station", "X:95:117", *WINDOW], ["--station", "latitude_deg"]),
        ([*MICIUS, "--station", "X:40:190:0:100", *WINDOW], ["--station"]),
        ([*MICIUS, "--station", "X:40", *WINDOW], ["--station", "NAME:LAT_DEG:LON_DEG"]),
        ([*MICIUS, "--station", "X:north:117", *WINDOW], ["--station", "not a number"]),
        ([*MICIUS, *WINDOW], ["--station", "at least one"]),
        ([*MICIUS_XL, "--station", XL, *WINDOW], ["--station", "unique"]),
        (
            [*MICIUS_XL, "--start", "2016-12-19T16:45", "--end", "2016-12-19T16:00"],
            ["--end", "reversed"],
        ),
        (
            [*MICIUS_XL, "--start", "2016-12-19T16:45", "--end", "2016-12-19T16:45"],
            ["--end", "empty"],
        ),
        ([*MICIUS_XL, "--start", "yesterday", "--days", "1"], ["--start", "ISO 8601"]),
        ([*MICIUS_XL, "--start", "2016-12-19T16:45"], ["--end"]),
        ([*MICIUS_XL, "--start", "2016-12-19T16:45", "--days", "0"], ["--days"]),
        ([*MICIUS_XL, *WINDOW, "--days", "1"], ["--days", "not both"]),
        ([*MICIUS_XL, *WINDOW, "--step-s", "0"], ["--step-s"]),
        ([*MICIUS_XL, *WINDOW, "--step-s", "-5"], ["--step-s"]),
        ([*MICIUS_XL, *WINDOW, "--min-elevation-deg", "95"], ["--min-elevation-deg"]),
        (["--station", XL, *WINDOW], ["--tle/--circular/--fixed"]),
        (["--circular", "500:0:0", "--station", XL, *WINDOW], ["--circular"]),
        (["--circular", "-5:0:0:0", "--station", XL, *WINDOW], ["--circular", "altitude_km"]),
        (["--fixed", "40:117:-3", "--station", XL, *WINDOW], ["--fixed", "altitude_m"]),
        (["khan-acka-leo", "--station", XL, *WINDOW], ["SCENARIO"]),
        (["--tle", MICIUS_L1, "--station", XL, *WINDOW], ["--tle"]),
    ],
)
def test_bad_input_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("qrate passes: error: ")
    for w in words:
        assert w in err


def test_help_lists_the_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "passes" in capsys.readouterr().out
    assert main(["passes", "--help"]) == 0
    assert "--station" in capsys.readouterr().out
