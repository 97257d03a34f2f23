"""qrate plot --x/--hue/--facet: any sweep axis on x, the others as curves or panels."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrate.cli import main

SETS = ["sweep.ground_distance_km=[0.0, 500.0]", "sampling.pulses_per_batch=20000", "sampling.batches=3", "sampling.seed=2"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grid") / "g.h5"
    assert main(["run", "khan-acka-leo", *(f"--set={s}" for s in SETS), "--sweep", "links.leo.aperture_radius_m=1.0,3.0",
                 "--out", str(out), "--quiet", "--scheduler", "sync"]) == 0
    return out


def test_any_axis_on_x_with_hue_and_facet(grid: Path, tmp_path: Path) -> None:
    assert main(["plot", str(grid), "--x", "links.leo.aperture_radius_m", "--hue", "ground_distance_km", "--log",
                 "--out", str(tmp_path / "a.png")]) == 0
    assert main(["plot", str(grid), "--x", "ground_distance_km", "--facet", "links.leo.aperture_radius_m",
                 "--y", "qber", "--out", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "a.png").stat().st_size > 10_000 and (tmp_path / "b.png").stat().st_size > 10_000


def test_mixing_points_in_one_curve_or_an_unknown_axis_is_refused(grid: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(grid), "--out", str(tmp_path / "c.png")]) == 2
    assert "--hue" in capsys.readouterr().err
    assert main(["plot", str(grid), "--x", "links.leo.nope", "--out", str(tmp_path / "d.png")]) == 2
    err = capsys.readouterr().err
    assert "--x" in err and "links.leo.aperture_radius_m" in err
    assert not (tmp_path / "c.png").exists() and not (tmp_path / "d.png").exists()
