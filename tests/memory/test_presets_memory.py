"""The memory presets validate, round-trip through TOML, plan memories and run a batch."""

from __future__ import annotations

import math

import pytest

from qrate.engine import compile_protocol, plan_sweep
from qrate.engine.batch import run_batch
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


def _memory_point(p_ghz: float, dead_time_s: float = 40e-9):
    s = load_scenario(
        "khan-acka-leo-memory",
        [f"sources.ghz_success_probability={p_ghz}", f"detectors.dead_time_s={dead_time_s}"],
        ["ground_distance_km=500"],
    )
    (plan,) = plan_sweep(s)
    users = math.prod(u.fiber_eta * u.detector_efficiency for u in plan.users if u.downlink < 0)
    return plan.memory, users


def test_better_ghz_source_lowers_the_memory_rate_by_dead_time_only():
    """With a memory the satellite link sets the timing (1/p_link >> 1/p_ghz), while the GHZ photons' flux
    saturates GS1's users' detectors (live fraction 1/(1 + R c tau_d)): the delivery rate falls exactly as
    the users' detection product; without dead time it no longer falls (qrate/MODELS.md, "GHZ source
    success probability with memories")."""
    (m0, u0), (m1, u1) = _memory_point(1e-4), _memory_point(1.0)
    assert 1 / m0.p_links[0] > 1000 / m0.p_trigger
    assert m1.expected_per_pulse / m0.expected_per_pulse == pytest.approx(u1 / u0, rel=1e-3)
    assert m1.expected_per_pulse < 0.05 * m0.expected_per_pulse
    rates = [_memory_point(p, 0.0)[0].expected_per_pulse for p in (1e-4, 1e-2, 1.0)]
    assert rates == sorted(rates)
