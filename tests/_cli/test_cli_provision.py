"""``qrate provision`` through the dispatcher, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qrate.cli import main


def test_json_output_has_required_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--apps", "30", "--seed", "3", "--oos-scenarios", "50", "--random-draws", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("sp_total", "evf_total", "random_total", "random_total_std", "uniform_x_curve", "sp_mean_reservation", "solve_seconds"):
        assert key in out
    assert [c["x"] for c in out["uniform_x_curve"]] == list(range(11))
    assert set(out["uniform_x_curve"][0]) == {"x", "stage1", "stage2", "total"}
    assert out["n_apps"] == 30 and len(out["sp"]["reservations"]) == 30


def test_table_output_all_pairs_exact(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--apps", "all-pairs", "--expectation", "exact", "--uniform-x", "3..5", "--random-draws", "2"]) == 0
    out = capsys.readouterr().out
    assert "276 apps" in out and "SP" in out and "EVF" in out and "Random" in out and "4:" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--apps", "-3"],
        ["--apps", "553"],
        ["--scenarios", "0"],
        ["--wl-mode", "exact"],
        ["--wl-mode", "fancy"],
        ["--wavelengths", "4"],
        ["--uniform-x", "0..12"],
        ["--quick"],
        ["--apps", "300", "--wl-mode", "exact", "--wavelengths", "300"],
    ],
)
def test_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", *argv]) == 2
    err = capsys.readouterr().err
    assert "error" in err and len(err.strip().splitlines()) == 1


def test_quick_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--figures", str(tmp_path), "--quick"]) == 0
    for name in ("fig4a_cost_structure.png", "fig4b_cost_vs_apps.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    fig = json.loads((tmp_path / "fig4_provision.json").read_text())
    b = fig["fig4b"]
    assert [r["n_apps"] for r in b] == [50, 100, 150, 200, 250, 300]
    assert all(r["sp_total"] <= r["evf_total"] <= r["random_total"] for r in b)
