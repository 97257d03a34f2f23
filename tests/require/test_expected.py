"""Expected-value evaluation against the Monte Carlo mean, at every point of every preset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.engine import plan_sweep
from qrate.errors import InputError
from qrate.estimates import estimate_point, quantities
from qrate.require.expected import expected_estimates, expected_passes, expected_row, point_pulses
from qrate.require.montecarlo import mc_passes, point_rows, standard_error
from qrate.scenario import load_scenario


def _sweep_presets() -> list[str]:
    from qrate.scenario.presets import preset_names

    return [n for n in preset_names() if load_scenario(n).passes is None]


SWEEP_PRESETS = _sweep_presets()


def _compare(expected: dict, sampled: dict, keys: list[str], se_of) -> list[str]:
    bad = []
    for key in keys:
        e, m = expected.get(key), sampled.get(key)
        if e is None or m is None:
            assert e is None and m is None or key.endswith("_bps") and (e or 0) == 0 == (m or 0), (key, e, m)
            continue
        se = se_of(key)
        if not math.isfinite(se) or se == 0:
            if abs(e - m) > 1e-9 * max(abs(e), abs(m), 1e-300):
                bad.append(f"{key}: expected {e!r} vs {m!r} with no spread")
        elif abs(e - m) > 4 * se:
            bad.append(f"{key}: expected {e:.6g} vs Monte Carlo {m:.6g} ± {se:.3g} ({abs(e - m) / se:.1f} SE)")
    return bad


@pytest.mark.parametrize("name", SWEEP_PRESETS)
def test_expected_equals_monte_carlo_mean_at_every_point(name: str) -> None:
    sc = load_scenario(name, [], [])
    # the largest sample a point may have: the plug-in bias of the nonlinear estimates (binary entropy,
    # clipping at zero) falls as 1/N, their standard error as 1/sqrt(N) (see "Expected values" in MODELS.md);
    # 40 batches, so that the batch spreads behind the standard errors are themselves well estimated
    batches = 40
    most = (2**60 // batches) // 10**9 * 10**9
    # memories: the Monte Carlo draws every attempt's outcome (cost grows with the operating time), so the
    # preset's own sample
    memory = bool(sc.memories)
    pulses = sc.sampling.pulses_per_batch if memory else min(sc.sampling.pulses_per_batch * 1000, most)
    sc = load_scenario(name, [f"sampling.pulses_per_batch={pulses}", f"sampling.batches={batches}"], [])
    s = sc.sampling
    for plan in plan_sweep(sc):
        pulses = point_pulses(plan, s.pulses_per_batch, s.batches)
        try:
            exp = expected_estimates(plan, pulses)
        except InputError as exc:  # memories without a closed form (parallel modes, several stored photons)
            assert memory and "run it by Monte Carlo" in exc.message, exc
            continue
        rows = point_rows(plan, s.seed, s.batches, s.pulses_per_batch)
        report = plan.report()
        mc = estimate_point(rows, report, extra={"ground_distance_km": plan.ground_distance_km})
        keys = [q.key for q in quantities(report) if not q.key.endswith("_stderr")] + ["mean_eta_free_space"]
        bad = _compare(exp, mc, keys, lambda k: standard_error(mc, k, rows, report))
        assert not bad, f"{name} at {plan.ground_distance_km:g} km: " + "; ".join(bad)
        assert exp["mode"] == "expected" and exp["batches"] == 0


PASS_RUNS = {
    # hardware good enough for millions of heralded states per pass (the preset's are ~1e-3), so that
    # every step holds enough test rounds for the plug-in estimates to be unbiased
    "micius-pass-acka": [
        "sources.ghz_success_probability=1",
        "links.leo.aperture_radius_m=3",
        "links.leo.divergence_rad=1e-6",
        "sources.repetition_rate_hz=1e10",
        "detectors.dead_time_s=0",
        "passes.step_s=30",
    ],
    "micius-2017-bb84": [],  # as shipped: hundreds of kbit per pass
}


@pytest.mark.parametrize("name", list(PASS_RUNS))
def test_expected_pass_totals_equal_monte_carlo_mean(name: str) -> None:
    sc = load_scenario(name, [*PASS_RUNS[name], "sampling.batches=8"], [])
    plans = plan_sweep(sc)
    ep, es = expected_passes(plans, sc.sampling.pulses_per_batch, sc.sampling.batches)
    mp, ms = mc_passes(plans, sc.sampling.seed, sc.sampling.batches, sc.sampling.pulses_per_batch)
    assert len(ep) == len(mp) >= 1
    for e, m in zip(ep, mp, strict=True):
        keys = [k for k in m if k + "_stderr" in m and isinstance(m[k], float)]
        assert {"heralded_pairs", "key_bits", "finite_key_bits"} <= set(keys), keys
        bad = _compare(e, m, keys, lambda k: float(m[k + "_stderr"]))
        assert not bad, "; ".join(bad)
    assert es["key_bits_per_day"] == pytest.approx(sum(p["key_bits"] for p in ep) / es["window_days"])


def test_expected_counts_are_the_plan_closed_form() -> None:
    """E[successes] = N·P and every counter sums its rounds' flag probabilities (Table I: Q_X from fiber dephasing)."""
    sc = load_scenario("khan-acka-leo", [], ["ground_distance_km=1000"])
    (plan,) = plan_sweep(sc)
    row = expected_row(plan, 1e6)
    assert row["successes"][0] == pytest.approx(1e6 * plan.p_success_expected, rel=1e-14)
    shots = row["c_shots"][0]
    assert row["c_key_rounds"][0] + row["c_verify_rounds_x"][0] + row["c_verify_rounds_z"][0] == pytest.approx(shots)
    assert row["c_verify_rounds_x"][0] / shots == pytest.approx(0.05)
    # X parity of the users' GHZ state (non-participant Charlie included) after fiber dephasing:
    # an odd number of Z flips among the four photons
    est = expected_estimates(plan, 1e6)
    flips = [plan.noise.z_flip[u] for u in ("Alice", "Bob", "Charlie", "Dina")]
    odd = (1 - np.prod([1 - 2 * p for p in flips])) / 2
    assert est["qber_x"] == pytest.approx(odd, rel=1e-12)
