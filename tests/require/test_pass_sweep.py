"""Pass runs take sweep axes: key per pass and per day over a hardware axis."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.scenario import load_scenario
from qrate.store.load import read_passes

# hardware that heralds hundreds of states per pass (the preset heralds ~1e-3)
FAST = [
    "--set",
    "sampling.batches=3",
    "--set",
    "links.leo.aperture_radius_m=3",
    "--set",
    "links.leo.divergence_rad=1e-6",
    "--quiet",
]


def test_pass_run_with_a_hardware_axis_equals_one_run_per_value(tmp_path: Path) -> None:
    swept = tmp_path / "swept.h5"
    assert (
        main(["run", "micius-pass-acka", "--sweep", "sources.ghz_success_probability=0.01,0.1", *FAST, "--out", str(swept)]) == 0
    )
    passes, summary = read_passes(swept)
    assert summary["axes"] == ["sources.ghz_success_probability"] and len(summary["points"]) == 2
    for value in (0.01, 0.1):
        single = tmp_path / f"single-{value}.h5"
        assert (
            main(["run", "micius-pass-acka", "--set", f"sources.ghz_success_probability={value}", *FAST, "--out", str(single)])
            == 0
        )
        one, one_summary = read_passes(single)
        mine = [p for p in passes if p["sources.ghz_success_probability"] == value]
        assert [p["heralded_pairs"] for p in mine] == [p["heralded_pairs"] for p in one]  # same points, same streams
        point = next(s for s in summary["points"] if s["sources.ghz_success_probability"] == value)
        assert point["heralded_pairs_per_day"] == pytest.approx(one_summary["heralded_pairs_per_day"])
    low, high = (next(s for s in summary["points"] if s["sources.ghz_success_probability"] == v) for v in (0.01, 0.1))
    assert high["heralded_pairs_per_pass"] > 3 * low["heralded_pairs_per_pass"]
    # drawn like any estimate: a pass total versus the axis
    png = tmp_path / "per_day.png"
    assert main(["plot", str(swept), "--x", "sources.ghz_success_probability", "--y", "key_bits_per_day", "--out", str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert main(["plot", str(swept), "--y", "no_such_per_day", "--out", str(tmp_path / "x.png")]) == 2


def test_pass_sweep_plans_every_grid_point() -> None:
    sc = load_scenario("micius-pass-acka", [], ["sources.ghz_success_probability=1e-3,1e-2"])
    plans = plan_sweep(sc)
    assert [p.index for p in plans] == list(range(len(plans)))
    assert {p.axes["sources.ghz_success_probability"] for p in plans} == {1e-3, 1e-2}
    assert len({p.key for p in plans}) == len(plans)
