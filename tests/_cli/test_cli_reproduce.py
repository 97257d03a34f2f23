"""`qrate reproduce`: recipes are valid, `--quick` writes every promised figure, README cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.image import imread

from qrate.cli import main
from qrate.engine import protocol_of
from qrate.estimates import quantity
from qrate.reproduce import FIGURES, FRONTIERS, FULL, QUICK, RUNS, promised_figures, readme_text, run_overrides
from qrate.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


def test_recipes_are_consistent() -> None:
    runs = {r.name: r for r in RUNS}
    assert len(runs) == len(RUNS)
    assert len(set(promised_figures())) == len(promised_figures())
    used = set()
    for fig in FIGURES:
        for curve in fig.curves:
            run = runs[curve.run]
            used.add(run.name)
            s = load_scenario(run.preset, run_overrides(run, QUICK, None), run.sweeps)
            if fig.kind != "budget":  # a loss budget is computed from the link, not from estimates
                quantity(protocol_of(s).report(), fig.y)  # raises if the quantity does not exist for the protocol
    assert used == set(runs)  # no run is simulated for nothing


def test_overrides_take_effect() -> None:
    by = {r.name: r for r in RUNS}
    run = by["leo-aperture-3m-diameter"]
    s = load_scenario(run.preset, run_overrides(run, QUICK, 7))
    leo = s.links["leo"]
    assert leo.aperture_diameter_m == 3.0 and leo.aperture_radius_m is None and leo.receiver_radius_m == 1.5
    assert s.sampling.seed == 7
    assert (s.sampling.pulses_per_batch, s.sampling.batches) == (QUICK.pulses_per_batch, QUICK.batches)
    d = load_scenario(by["leo-dephasing-rate"].preset, run_overrides(by["leo-dephasing-rate"], FULL, None))
    assert d.links["fiber"].dephasing == "rate_hz" and d.links["fiber"].dephasing_rate_hz == 0.02
    assert d.sampling == load_scenario("khan-acka-leo").sampling  # full mode: the preset's own sampling
    assert load_scenario("khan-broadcast-uav", by["uav-cn2-1e-15"].overrides).links["uav"].cn2 == 1e-15


def test_committed_results_readme_matches_the_recipes() -> None:
    committed = REPO / "results" / "README.md"
    if not committed.exists():
        pytest.skip("results/README.md not generated yet (run `qrate reproduce`)")
    assert committed.read_text(encoding="utf-8") == readme_text(quick=False), (
        "results/README.md is out of date with qrate/reproduce.py; rerun `qrate reproduce`"
    )


def test_bad_seed_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["reproduce", "--quick", "--seed", "-3", "--out-dir", str(tmp_path)]) == 2
    assert "--seed" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_quick_reproduce_writes_every_promised_figure(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "results"
    assert main(["reproduce", "--quick", "--out-dir", str(out), "--quiet"]) == 0
    stdout = capsys.readouterr().out.splitlines()
    for name in promised_figures():
        path = out / name
        assert path.is_file() and path.stat().st_size > 10_000, name
        image = imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 300, name
        assert float(image[..., :3].std()) > 0.01, name
        assert sum(line.startswith(str(path)) for line in stdout) == 1, name  # one summary line per figure
    assert (out / "README.md").read_text(encoding="utf-8") == readme_text(quick=True)
    assert sorted(p.name for p in (out / "h5").iterdir()) == sorted(f"{r.name}.h5" for r in (*RUNS, *FRONTIERS))
    text = readme_text(quick=True)
    for fig in FIGURES:
        assert fig.filename in text
    for run in RUNS:
        assert all(o in text for o in run.overrides)
