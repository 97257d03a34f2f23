"""End-to-end engine physics: success probability, QBERs, the binomial-block path, seeding.

Expected values come from tests/engine/_reference.py (closed forms and quad, no qrate code).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from qrate.engine import herald, herald_per_pulse, plan_sweep, run_batch
from qrate.estimates import estimate_point
from qrate.sweep import run_sweep
from qrate.engine.plan import compile_protocol
from qrate.scenario import Scenario, load_scenario

from . import _reference as ref

pytestmark = pytest.mark.statistical

LEO = dict(theta=5e-6, pointing_rad=5e-7, a=3.0, beam="far_field", model="weibull")
UAV = dict(theta=1e-6, pointing_rad=5e-7, a=3.0, beam="gaussian", model="weibull")
FIBER_ACKA = ref.fiber(1) * ref.fiber(2) * ref.fiber(3) * ref.fiber(2)
FIBER_QAB = ref.fiber(1) ** 2 * ref.fiber(2) ** 2


def _scenario(name: str, distances: list[float], *overrides: str, pulses: int = 10**6, batches: int = 3) -> Scenario:
    sweep = "sweep.ground_distance_km=[" + ", ".join(str(d) for d in distances) + "]"
    return load_scenario(name, [sweep, f"sampling.pulses_per_batch={pulses}", f"sampling.batches={batches}", *overrides])


def _run(s: Scenario, seed: int = 12345) -> list[dict]:
    return [estimate_point(r.rows, r.plan.report(), extra={"ground_distance_km": r.plan.ground_distance_km}) for r in run_sweep(s, seed)]


def _assert_p(est: dict, expected: float, k: float = 4.0) -> None:
    se = math.sqrt(expected * (1 - expected) / est["pulses"])
    assert abs(est["p_success"] - expected) < k * se, (est["ground_distance_km"], est["p_success"], expected, se)


# --------------------------------------------------------------------- end-to-end P_success
CASES = {
    "leo-preset": ("khan-acka-leo", [0.0, 1000.0, 2000.0], (), 450.0, LEO, FIBER_ACKA),
    "leo-aperture-1.5": ("khan-acka-leo", [0.0, 1500.0], ("links.leo.aperture_radius_m=1.5",), 450.0, {**LEO, "a": 1.5}, FIBER_ACKA),
    "leo-exact-model": ("khan-acka-leo", [500.0, 2000.0], ("links.leo.model=exact",), 450.0, {**LEO, "model": "exact"}, FIBER_ACKA),
    "leo-no-dephasing": ("khan-acka-leo", [1000.0], ("links.fiber.dephasing_probability=0.0",), 450.0, LEO, FIBER_ACKA),
    "uav-preset": ("khan-broadcast-uav", [0.0, 100.0, 200.0], (), 30.0, UAV, FIBER_QAB),
    "uav-turbulence": (
        "khan-broadcast-uav", [60.0, 140.0, 200.0], ("links.uav.cn2=1e-15",), 30.0, {**UAV, "cn2": 1e-15}, FIBER_QAB),
    "uav-aperture-0.5": (
        "khan-broadcast-uav", [0.0, 200.0], ("links.uav.aperture_radius_m=0.5",), 30.0, {**UAV, "a": 0.5}, FIBER_QAB),
}


@pytest.mark.parametrize("case", list(CASES))
def test_success_probability_is_product_of_link_means(case: str) -> None:
    name, distances, overrides, altitude, link, fibers = CASES[case]
    s = _scenario(name, distances, *overrides)
    for est in _run(s):
        eta = ref.downlink_mean(altitude, est["ground_distance_km"], **link)
        _assert_p(est, eta * eta * fibers)


@pytest.mark.parametrize("case", list(CASES))
def test_heralding_mean_is_sharp(case: str) -> None:
    """The same comparison at 1e11 pulses (heralding only: relative SE ~ 1e-5)."""
    name, distances, overrides, altitude, link, fibers = CASES[case]
    s = _scenario(name, distances, *overrides)
    rng = np.random.default_rng(np.random.SeedSequence(2026))
    n = 10**11
    for plan in plan_sweep(s):
        eta = ref.downlink_mean(altitude, plan.ground_distance_km, **link)
        p = eta * eta * fibers
        k = herald(plan, n, rng).successes
        assert abs(k / n - p) < 4 * math.sqrt(p * (1 - p) / n), (case, plan.ground_distance_km, k / n, p)


def test_hardware_efficiencies_and_dark_counts_enter_as_in_physics() -> None:
    """Yehia-like hardware: P = p_src η_s² η_F-product p_BSM η_d⁴ p_sw, plus dark counts per detector."""
    hw = ("detectors.efficiency=0.95", "bsm.success_probability=0.9", "switch.efficiency=0.9",
          "sources.ghz_success_probability=0.8", "sources.bell_success_probability=0.7")
    d = 1000.0
    eta = ref.downlink_mean(450.0, d, **LEO)
    s = _scenario("khan-acka-leo", [d], *hw)
    _assert_p(_run(s)[0], 0.8 * 0.7 * eta * eta * FIBER_ACKA * 0.9 * 0.95**4 * 0.9)
    pd = 0.01
    s = _scenario("khan-acka-leo", [d], *hw, f"detectors.dark_count_probability={pd}")
    click = [(t := ref.fiber(L) * 0.95) + (1 - t) * pd for L in (1, 2, 3)]
    dina = ref.fiber(2) * 0.9 * 0.95 * eta * (1 - pd) + pd
    _assert_p(_run(s)[0], 0.8 * 0.7 * eta * 0.9 * math.prod(click) * dina)


# ------------------------------------------------------------------------------------ QBERs
def test_acka_qber_x_is_dephasing_parity_and_qber_z_is_zero() -> None:
    s = _scenario("khan-acka-leo", [0.0, 1500.0], "protocol.verification_fraction=0.8", batches=2)
    expected = ref.parity_flip([0.02] * 4)  # A, B, C, D fibers
    assert expected == pytest.approx(0.075327, abs=1e-6)
    for est in _run(s):
        n = est["counts"]["verify_rounds_x"]
        assert abs(est["qber_x"] - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
        assert est["qber_z_max"] == 0.0 and est["counts"]["key_errors"] == 0
        r_inf = 1 + expected * math.log2(expected) + (1 - expected) * math.log2(1 - expected)
        assert est["key_rate_bps"] == pytest.approx(1e6 * est["p_success"] * 0.2 * (1 - ref_h(est["qber_x"])))
        assert 0.6145 - 0.02 < est["secret_fraction"] < 0.6145 + 0.02 and r_inf == pytest.approx(0.614505, abs=1e-5)


def ref_h(x: float) -> float:
    return -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def test_readout_flips_give_qber_z_and_extra_parity_flips() -> None:
    f = 0.01
    s = _scenario("khan-acka-leo", [0.0], f"detectors.readout_flip={f}", "links.fiber.dephasing_probability=0.03",
                  "protocol.verification_fraction=0.5", batches=2)
    est = _run(s)[0]
    qz = 2 * f * (1 - f)
    n_key = est["counts"]["key_rounds"]
    for pair in ("Alice-Bob", "Alice-Dina"):
        assert abs(est["qber_z"][pair] - qz) < 4 * math.sqrt(qz * (1 - qz) / n_key)
    qx = ref.parity_flip([0.03] * 4 + [f] * 4)
    assert abs(est["qber_x"] - qx) < 4 * math.sqrt(qx * (1 - qx) / est["counts"]["verify_rounds_x"])


def test_broadcast_error_rate_is_dephasing_parity() -> None:
    s = _scenario("khan-broadcast-uav", [0.0, 200.0], batches=2)
    q = ref.parity_flip([0.02] * 4)  # A, B, H, D fibers
    for est in _run(s):
        n = est["counts"]["shots"]
        assert abs(est["broadcast_error_rate"] - q) < 4 * math.sqrt(q * (1 - q) / n)
        assert est["broadcast_correct_rate_bps"] == pytest.approx(est["broadcast_rate_bps"] * (1 - est["broadcast_error_rate"]))
        assert "key_rate_bps" not in est


def test_no_dephasing_no_errors() -> None:
    s = _scenario("khan-broadcast-uav", [100.0], "links.fiber.dephasing_probability=0.0", pulses=10**5, batches=2)
    assert _run(s)[0]["broadcast_error_rate"] == 0.0


# ---------------------------------------------------------------- binomial vs per-pulse paths
@pytest.mark.parametrize("coherence", ["0.0", "2e-3"])
def test_binomial_path_and_per_pulse_path_agree_in_distribution(coherence: str) -> None:
    s = _scenario("khan-acka-leo", [1500.0], "links.leo.pointing_rad=2e-6",
                  f"links.leo.coherence_time_s={coherence}", "detectors.dark_count_probability=0.002",
                  "switch.efficiency=0.9")
    (plan,) = plan_sweep(s)
    n, m = 20_000, 300
    fast = np.array([herald(plan, n, np.random.default_rng([1, i])).successes for i in range(m)])
    slow = np.array([herald_per_pulse(plan, n, np.random.default_rng([2, i])).successes for i in range(m)])
    assert stats.ks_2samp(fast, slow).pvalue > 1e-3
    se = math.sqrt(fast.var(ddof=1) / m + slow.var(ddof=1) / m)
    assert abs(fast.mean() - slow.mean()) < 4 * se
    assert abs(fast.mean() / n - plan.p_success_expected) < 4 * fast.std(ddof=1) / math.sqrt(m) / n
    binomial_var = n * plan.p_success_expected * (1 - plan.p_success_expected)
    assert stats.levene(fast, slow).pvalue > 1e-3
    if coherence != "0.0":  # block fading over-disperses the counts; i.i.d. fading does not
        assert fast.var(ddof=1) > 3 * binomial_var and slow.var(ddof=1) > 3 * binomial_var
    else:
        assert 0.7 < fast.var(ddof=1) / binomial_var < 1.3


def test_block_moments_estimate_the_joint_mean() -> None:
    s = _scenario("khan-acka-leo", [1000.0], "links.leo.coherence_time_s=1e-3", pulses=10**7, batches=1)
    (plan,) = plan_sweep(s)
    h = herald(plan, 10**7, np.random.default_rng(7))
    assert h.eta_count == 10**4
    mean = h.eta_sum / h.eta_count
    sd = math.sqrt(h.eta_sumsq / h.eta_count - mean**2)
    expected = ref.downlink_mean(450.0, 1000.0, **LEO) ** 2
    assert abs(mean - expected) < 4 * sd / math.sqrt(h.eta_count)


def test_huge_pulse_counts_cost_successes_only() -> None:
    """1e13 pulses at 70 dB total loss: one binomial draw plus Stim on ~1e6 successes."""
    s = _scenario("khan-acka-leo", [0.0], "links.leo.t_atm_zenith=0.0003", pulses=10**13, batches=1)
    (plan,) = plan_sweep(s)
    stats_ = run_batch(plan, compile_protocol(plan), 1, 0, 10**13)
    expected = plan.p_success_expected
    assert 10 * math.log10(1 / expected) > 70
    assert abs(stats_.successes - 10**13 * expected) < 4 * math.sqrt(10**13 * expected)


# --------------------------------------------------------------------------------- seeding
def test_same_seed_same_rows_and_order_independent() -> None:
    s = _scenario("khan-broadcast-uav", [0.0, 180.0], "links.uav.coherence_time_s=1e-4", pulses=10**5, batches=3)
    a, b = run_sweep(s, 99), run_sweep(s, 99)
    for ra, rb in zip(a, b, strict=True):
        fields = [f for f in ra.rows.dtype.names if f != "seconds"]
        for f in fields:
            np.testing.assert_array_equal(ra.rows[f], rb.rows[f])
    # batch 2 of point 1 alone, without running anything before it
    plan = a[1].plan
    alone = run_batch(plan, compile_protocol(plan), 99, 2, 10**5)
    assert (alone.successes, dict(alone.counts)) == (int(a[1].rows["successes"][2]),
                                                    {k: int(a[1].rows["c_" + k][2]) for k in alone.counts})
    # a sweep with other points does not change this point's streams
    other = run_sweep(_scenario("khan-broadcast-uav", [180.0], "links.uav.coherence_time_s=1e-4", pulses=10**5, batches=3), 99)
    np.testing.assert_array_equal(other[0].rows["successes"], a[1].rows["successes"])


def test_different_seeds_differ_but_agree_statistically() -> None:
    s = _scenario("khan-acka-leo", [1000.0], batches=4)
    e1, e2 = _run(s, seed=1)[0], _run(s, seed=2)[0]
    assert e1["successes"] != e2["successes"]
    p1, p2, n = e1["p_success"], e2["p_success"], e1["pulses"]
    assert abs(p1 - p2) < 4 * math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
    q1, q2 = e1["qber_x"], e2["qber_x"]
    n1, n2 = e1["counts"]["verify_rounds_x"], e2["counts"]["verify_rounds_x"]
    assert abs(q1 - q2) < 4 * math.sqrt(q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2)


def test_target_relative_error_stops_early() -> None:
    s = _scenario("khan-acka-leo", [0.0], "sampling.target_relative_error=0.01", "sampling.min_batches=3",
                  pulses=10**5, batches=50)
    (res,) = run_sweep(s, 5)
    assert res.rows.size == 3  # relative SEM of a 1e5-pulse batch at P = 0.44 is ~ 0.2 % << 1 %
