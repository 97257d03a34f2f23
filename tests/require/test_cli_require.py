"""``qrate require``: bad requests exit 2 with one line; answers in text and JSON."""

from __future__ import annotations

import json

import pytest

from qrate.cli import main

BASE = ["require", "khan-acka-leo", "--sweep", "ground_distance_km=1000"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--vary", "links.leo.no_such_m=1:2", "--target", "p_success >= 0.2"], "no such scenario field"),
        (["--vary", "links.leo.model=1:2", "--target", "p_success >= 0.2"], "not numeric"),
        (["--vary", "links.leo.aperture_radius_m=3:1", "--target", "p_success >= 0.2"], "LO < HI"),
        (["--vary", "links.leo.aperture_radius_m=1:1", "--target", "p_success >= 0.2"], "LO < HI"),
        (["--vary", "links.leo.aperture_radius_m=0.5:3", "--target", "broadcast_rate_bps >= 1"], "not an estimate"),
        (["--vary", "links.leo.aperture_radius_m=0.5:3", "--target", "p_success >= 1.5"], "outside its range"),
        (["--vary", "links.leo.aperture_radius_m=0.5:3", "--target", "p_success = 0.5"], "--target"),
        (["--vary", "links.leo.aperture_radius_m=-1:3", "--target", "p_success >= 0.2"], "--vary"),
        (["--vary", "links.leo.aperture_radius_m=0:3", "--log", "--target", "p_success >= 0.2"], "--log"),
    ],
)
def test_bad_requests_exit_2_with_one_line(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle in err, err


def test_several_distances_need_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["require", "khan-acka-leo", "--vary", "links.leo.aperture_radius_m=0.5:3", "--target", "p_success >= 0.2"]) == 2
    assert "ground_distance_km" in capsys.readouterr().err


def test_answer_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--vary", "links.leo.divergence_rad=1e-6:1e-4", "--log", "--target", "key_rate_bps >= 1e5"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "µrad" in text and "95% interval" in text and "met at or below" in text
    assert main([*args, "--json", "--no-confirm"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "found" and data["crossings"][0]["confirmation"] is None
    assert 1e-6 < data["crossings"][0]["threshold"] < 1e-4
