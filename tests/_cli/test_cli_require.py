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
        (["--vary", "sampling.batches=2:30", "--target", "p_success >= 0.2"], "takes integers"),
        (["--vary", "links.leo.aperture_radius_m=0.5:3", "--target", "p_success >= 0.2", "--out", "x.h5"], "--over"),
        (
            [
                "--vary",
                "links.leo.aperture_radius_m=0.5:3",
                "--target",
                "p_success >= 0.2",
                "--minimise-cost",
                "bsm.success_probability",
            ],
            "without --vary",
        ),
        (
            [
                "--vary",
                "links.leo.aperture_radius_m=0.5:3",
                "--over",
                "links.leo.aperture_radius_m=1,2",
                "--target",
                "p_success >= 0.2",
            ],
            "already",
        ),
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


def test_frontier_over_an_integer_field(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    """Network size as the second field: more users need a larger aperture for the same key rate."""
    from qrate.scenario.load import preset_text

    text = preset_text("khan-acka-leo").replace('users = ["Alice", "Bob", "Charlie"]', "user_count = 3", 1)
    text = text.replace("lengths_km = { Alice = 1.0, Bob = 2.0, Charlie = 3.0, Dina = 2.0 }", "default_length_km = 2.0")
    text = text.replace('participants = ["Alice", "Bob", "Dina"]', 'participants = "all"').replace(
        'sender = "Alice"', 'sender = "GS1-u1"'
    )
    path = tmp_path / "users.toml"
    path.write_text(text)
    args = ["require", str(path), "--sweep", "ground_distance_km=500", "--vary", "links.leo.aperture_radius_m=0.1:3"]
    args += ["--over", "nodes.ground_stations.GS1.user_count=2,4,8", "--target", "key_rate_bps >= 5e4", "--no-confirm", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    thresholds = [r["crossings"][0]["threshold"] for r in data["requirements"]]
    assert thresholds == sorted(thresholds) and thresholds[0] < thresholds[-1]
    bad = [*args[:6], "--vary", "nodes.ground_stations.GS1.user_count=2:8", "--target", "key_rate_bps >= 5e4"]
    assert main(bad) == 2
    assert "takes integers" in capsys.readouterr().err
