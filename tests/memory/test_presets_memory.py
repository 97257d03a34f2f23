"""The memory presets validate, round-trip through TOML, plan memories and run a batch."""

from __future__ import annotations

import pytest

from qrate.engine.batch import run_batch
from qrate.engine import compile_protocol, plan_sweep
from qrate.scenario import load_scenario, load_scenario_text, scenario_to_toml

PRESETS = ("khan-acka-leo-memory", "khan-broadcast-uav-memory", "wallnoefer-2022-one-satellite")


@pytest.mark.parametrize("name", PRESETS)
def test_memory_preset_runs(name):
    s = load_scenario(name)
    assert load_scenario_text(scenario_to_toml(s)) == s
    plan = plan_sweep(s)[1]
    assert plan.memory is not None and plan.params()["memory"]["attempt_period_s"] > 0
    stats = run_batch(plan, compile_protocol(plan), 1, 0, 10 * int(plan.repetition_rate_hz))
    assert stats.successes > 0 and stats.counts["shots"] == stats.successes


def test_wallnoefer_attempts_once_per_round_trip():
    """The satellite's memories wait for the photon to go down and the herald to come back: 2 x slant / c."""
    plan = plan_sweep(load_scenario("wallnoefer-2022-one-satellite"))[0]
    mp = plan.memory
    assert mp.attempt_period_s == pytest.approx(2 * 400e3 / 299792458.0, rel=1e-3)
    assert len(mp.p_links) == 2 and mp.modes == (1000, 1000) and mp.parallel
    assert mp.cutoffs[0] == int(0.01 / mp.attempt_period_s)
