"""Counters -> estimates: every formula against a hand calculation from the published expressions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from qrate.estimates import (
    binary_entropy,
    estimate_point,
    finite_key_length_bits,
    inconsistency,
    proportion,
    quantities,
    quantity,
)
from qrate.stats import BatchStats, to_row

NAMES = ("key_rounds", "verify_rounds_x", "x_parity_errors", "z_err:A:B", "z_err:A:D")
ACKA: dict[str, Any] = {
    "protocol": "acka", "default_y": "key_rate", "carriers_per_use": 1, "repetition_rate_hz": 1e6,
    "estimators": [{
        "kind": "conference_key", "key_rounds": "key_rounds", "test_rounds": "verify_rounds_x",
        "x_errors": "x_parity_errors", "z_errors": {"A-B": "z_err:A:B", "A-D": "z_err:A:D"},
        "verification_fraction": 0.1, "parties": 3,
    }],
}


def h(x: float) -> float:
    return -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def _rows(batches: list[dict[str, int]], names: tuple[str, ...] = NAMES) -> np.ndarray:
    rows = [
        to_row(BatchStats(b["pulses"], b["successes"], counts={n: b.get(n, 0) for n in names}), i, names)
        for i, b in enumerate(batches)
    ]
    return np.concatenate(rows)


BATCHES = [
    {"pulses": 1000, "successes": 400, "key_rounds": 360, "verify_rounds_x": 20, "x_parity_errors": 2, "z_err:A:B": 3},
    {"pulses": 1000, "successes": 440, "key_rounds": 396, "verify_rounds_x": 22, "x_parity_errors": 1, "z_err:A:D": 4},
    {"pulses": 2000, "successes": 820, "key_rounds": 738, "verify_rounds_x": 41, "x_parity_errors": 3},
]


def test_binary_entropy_matches_definition() -> None:
    for p in (1e-6, 0.075327, 0.3, 0.5):
        assert binary_entropy(p) == pytest.approx(h(p), rel=1e-12)
    assert binary_entropy(0.0) == 0.0 and binary_entropy(1.0) == 0.0


def test_clopper_pearson_matches_scipy_binomtest() -> None:
    for k, n in ((0, 36), (3, 83), (40, 40), (12345, 10**6)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        _, lo, hi = proportion(k, n)
        assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12)


def test_conference_key_estimates_follow_the_formulas() -> None:
    est = estimate_point(_rows(BATCHES), ACKA)
    assert est["pulses"] == 4000 and est["successes"] == 1660
    p = 1660 / 4000
    assert est["p_success"] == p and est["rate_bps"] == pytest.approx(1e6 * p)
    batch_rates = 1e6 * np.array([0.4, 0.44, 0.41])
    assert est["rate_std_bps"] == pytest.approx(np.std(batch_rates, ddof=1))
    assert est["rate_sem_bps"] == pytest.approx(np.std(batch_rates, ddof=1) / math.sqrt(3))
    qx, qz = 6 / 83, max(3, 4) / 1494
    assert est["qber_x"] == pytest.approx(qx) and est["qber_z_max"] == pytest.approx(qz)
    assert est["qber_z"] == {"A-B": pytest.approx(3 / 1494), "A-D": pytest.approx(4 / 1494)}
    assert est["key_rate_bps"] == pytest.approx(1e6 * p * 0.9 * (1 - h(qx) - h(qz)))
    assert est["key_rate_f0_bps"] == pytest.approx(1e6 * p * (1 - h(qx) - h(qz)))
    assert est["qber_x_ci_low"] < qx < est["qber_x_ci_high"]
    assert "broadcast_rate_bps" not in est
    assert est["finite_key_rate_bps"] == 0.0  # 83 test rounds cannot beat the finite-size terms


def test_key_rate_std_is_the_spread_of_per_batch_keys_with_the_key_round_fraction() -> None:
    """Per batch: R · P_b · (1 − f) · [1 − h(Q_X,b) − h(max_i Q_Z,b)]; batch 3 has no Z errors."""
    est = estimate_point(_rows(BATCHES), ACKA)
    per_batch = [
        1e6 * 0.40 * 0.9 * (1 - h(2 / 20) - h(3 / 360)),
        1e6 * 0.44 * 0.9 * (1 - h(1 / 22) - h(4 / 396)),
        1e6 * 0.41 * 0.9 * (1 - h(3 / 41)),
    ]
    assert est["key_rate_std_bps"] == pytest.approx(float(np.std(per_batch, ddof=1)), rel=1e-12)
    assert est["key_rate_sem_bps"] == pytest.approx(float(np.std(per_batch, ddof=1)) / math.sqrt(3), rel=1e-12)


def test_worst_case_key_uses_the_upper_ends_of_both_intervals() -> None:
    """36 verification rounds, 0 errors: Q_X = 0 but its 95% interval reaches 1 − 0.025^(1/36)."""
    rows = _rows([{"pulses": 10**6, "successes": 400, "key_rounds": 360, "verify_rounds_x": 36}])
    est = estimate_point(rows, ACKA)
    qx_hi = 1 - 0.025 ** (1 / 36)
    qz_hi = 1 - 0.025 ** (1 / 360)
    assert est["qber_x"] == 0.0 and est["qber_x_ci_high"] == pytest.approx(qx_hi, rel=1e-9)
    assert est["key_rate_bps"] == pytest.approx(1e6 * 4e-4 * 0.9)
    assert est["key_rate_worst_bps"] == pytest.approx(1e6 * 4e-4 * 0.9 * (1 - h(qx_hi) - h(qz_hi)), rel=1e-9)


@pytest.mark.parametrize(
    ("n", "k", "qx", "qz", "parties", "expected"),
    [
        # ℓ = n[1 − h(Q_X + μ)] − n·1.16·h(Q_Z) − log2(2(N−1)/1e-10) − 2·log2(1/(2·1e-10)),
        # μ = sqrt((n+k)/(nk) · (k+1)/k · ln(1e10)); values computed by hand with the math module:
        (10**6, 10**5, 0.05, 0.01, 3, 555689.4442807552),  # μ = 0.0159149895718768
        (10**9, 10**8, 0.075327, 0.0, 4, 612686179.9846106),  # μ = 0.000503273646004029
        (10**8, 2 * 10**6, 0.02, 0.03, 5, 61423310.89821554),  # μ = 0.003426833793148075
    ],
)
def test_finite_key_length_against_the_published_formula(n: int, k: int, qx: float, qz: float, parties: int, expected: float) -> None:
    assert finite_key_length_bits(n, k, qx, qz, parties) == pytest.approx(expected, rel=1e-12)


def test_finite_key_approaches_asymptotic_and_is_bounded_by_it() -> None:
    qx, qz = 0.075327, 0.0
    asym = 1 - binary_entropy(qx)
    previous = 0.0
    for n in (10**5, 10**7, 10**9, 10**11):
        frac = finite_key_length_bits(n, n // 9, qx, qz, 3) / n
        assert previous <= frac < asym
        previous = frac
    assert previous == pytest.approx(asym, rel=2e-3)
    assert finite_key_length_bits(0, 10, qx, qz, 3) == 0.0 and finite_key_length_bits(10, 0, qx, qz, 3) == 0.0


def test_p_success_interval_covers_overdispersed_batches() -> None:
    """Block-correlated fading: batch means scatter far more than binomial; the interval follows them."""
    succ = [300_000, 500_000, 420_000, 380_000]
    est = estimate_point(_rows([{"pulses": 1_000_000, "successes": k} for k in succ]), ACKA)
    p_b = np.array(succ) / 1e6
    half = stats.t.ppf(0.975, 3) * np.std(p_b, ddof=1) / 2.0
    assert est["p_success_ci_low"] == pytest.approx(p_b.mean() - half)
    assert est["p_success_ci_high"] == pytest.approx(p_b.mean() + half)
    assert est["p_success_stderr"] == pytest.approx(np.std(p_b, ddof=1) / 2.0)


def test_p_success_stderr_never_below_the_binomial_floor() -> None:
    """Five batches that happen to agree closely: the displayed error stays the binomial one."""
    succ = [1000, 1001, 999, 1000, 1000]
    est = estimate_point(_rows([{"pulses": 10**6, "successes": k} for k in succ]), ACKA)
    p = sum(succ) / 5e6
    assert est["p_success_stderr"] == pytest.approx(math.sqrt(p * (1 - p) / 5e6))


def test_single_batch_has_no_spread_but_binomial_stderr() -> None:
    est = estimate_point(_rows([{"pulses": 10_000, "successes": 2_500}]), ACKA)
    assert est["rate_std_bps"] is None
    assert est["p_success_stderr"] == pytest.approx(math.sqrt(0.25 * 0.75 / 10_000))
    assert est["qber_x"] is None and est["key_rate_bps"] == 0.0


def test_broadcast_estimates() -> None:
    report = {"protocol": "broadcast", "repetition_rate_hz": 2e6,
              "estimators": [{"kind": "broadcast_bits", "rounds": "shots", "errors": "broadcast_errors"}]}
    names = ("shots", "broadcast_errors")
    rows = _rows([{"pulses": 1000, "successes": 500, "shots": 500, "broadcast_errors": 40},
                  {"pulses": 1000, "successes": 520, "shots": 520, "broadcast_errors": 36}], names)
    est = estimate_point(rows, report)
    q = 76 / 1020
    assert est["broadcast_rate_bps"] == pytest.approx(2e6 * 1020 / 2000)
    assert est["broadcast_correct_rate_bps"] == pytest.approx(2e6 * 1020 / 2000 * (1 - q))
    assert est["broadcast_error_rate"] == pytest.approx(q)
    per_batch = [2e6 * 0.5 * (1 - 0.08), 2e6 * 0.52 * (1 - 36 / 520)]
    assert est["broadcast_correct_rate_std_bps"] == pytest.approx(np.std(per_batch, ddof=1))
    assert "key_rate_bps" not in est


def test_bell_fidelity_and_its_standard_error() -> None:
    """F = 1 − (e_xx + e_yy + e_zz)/2; se² = Σ e(1−e)/n / 4."""
    report = {"protocol": "anonymous-entanglement", "repetition_rate_hz": 1e6, "estimators": [{
        "kind": "bell_pair", "rounds": {p: f"{p}_rounds" for p in ("xx", "yy", "zz")},
        "errors": {p: f"{p}_errors" for p in ("xx", "yy", "zz")}}]}
    names = ("xx_rounds", "yy_rounds", "zz_rounds", "xx_errors", "yy_errors", "zz_errors")
    rows = _rows([{"pulses": 10**4, "successes": 3000, "xx_rounds": 1000, "yy_rounds": 1100, "zz_rounds": 900,
                   "xx_errors": 50, "yy_errors": 110, "zz_errors": 9}], names)
    est = estimate_point(rows, report)
    e = [(50, 1000), (110, 1100), (9, 900)]
    assert est["bell_fidelity"] == pytest.approx(1 - sum(k / n for k, n in e) / 2, rel=1e-12)
    assert est["bell_fidelity_stderr"] == pytest.approx(math.sqrt(sum(k / n * (1 - k / n) / n for k, n in e)) / 2, rel=1e-12)
    assert est["pair_rate_bps"] == pytest.approx(3e5)


def test_teleportation_rate_counts_three_carriers_per_qubit() -> None:
    states = ("+x", "-x", "+y", "-y", "+z", "-z")
    report = {"protocol": "teleportation", "repetition_rate_hz": 1e6, "carriers_per_use": 3, "estimators": [{
        "kind": "teleported_qubit", "rounds": {s: f"rounds:{s}" for s in states}, "errors": {s: f"errors:{s}" for s in states}}]}
    names = tuple(f"rounds:{s}" for s in states) + tuple(f"errors:{s}" for s in states)
    counts = {f"rounds:{s}": 100 for s in states} | {"errors:+x": 10, "errors:-z": 4}
    est = estimate_point(_rows([{"pulses": 10**4, "successes": 1800, **counts}], names), report)
    assert est["teleport_rate_bps"] == pytest.approx(1e6 * 0.18 / 3)
    assert est["teleport_fidelity"] == pytest.approx(1 - (0.10 + 0.04) / 6)


def test_notification_session_probabilities() -> None:
    report = {"protocol": "notification", "repetition_rate_hz": 1e6, "estimators": [{
        "kind": "notification_session", "receiver_rounds": "rr", "receiver_ones": "r1", "other_rounds": "or", "other_ones": "o1",
        "repetitions": 8, "rounds_per_session": 32}]}
    rows = _rows([{"pulses": 10**5, "successes": 6400, "rr": 1600, "r1": 800, "or": 4800, "o1": 48}], ("rr", "r1", "or", "o1"))
    est = estimate_point(rows, report)
    assert est["p_miss"] == pytest.approx(0.5**8) and est["p_false"] == pytest.approx(1 - 0.99**8)
    assert est["p_miss_ci_low"] < est["p_miss"] < est["p_miss_ci_high"]
    assert est["session_rate_hz"] == pytest.approx(1e6 * 0.064 / 32)


def test_inconsistent_counters_are_named() -> None:
    rows = _rows([{"pulses": 100, "successes": 50, "key_rounds": 40, "verify_rounds_x": 3, "x_parity_errors": 4}])
    assert inconsistency(ACKA, rows) == "batch 0 counts more 'x_parity_errors' than 'verify_rounds_x'"
    assert inconsistency(ACKA, _rows(BATCHES)) is None


def test_quantities_declare_plot_and_show_names() -> None:
    assert quantity(ACKA, "key_rate").key == "key_rate_bps"
    assert quantity(ACKA, "rate").std == "rate_std_bps"
    with pytest.raises(ValueError, match="broadcast_rate"):
        quantity(ACKA, "broadcast_rate")
    assert [q.column for q in quantities(ACKA)][:2] == ["p_success", "rate_kbps"]


def test_finite_key_rate_is_for_a_physical_block_not_the_simulated_time() -> None:
    """The same rates simulated for 1 s or 100 s give the same finite-key rate for a 300 s block:
    ℓ(n·T/t, k·T/t, Q_X, Q_Z) / T with T = key_block_s and t the simulated seconds."""
    report = {**ACKA, "key_block_s": 300.0}
    short = _rows([{"pulses": 10**6, "successes": 400_000, "key_rounds": 360_000, "verify_rounds_x": 20_000,
                    "x_parity_errors": 1_500, "z_err:A:B": 700}])
    long = _rows([{"pulses": 10**8, "successes": 40_000_000, "key_rounds": 36_000_000, "verify_rounds_x": 2_000_000,
                   "x_parity_errors": 150_000, "z_err:A:B": 70_000}])
    a, b = estimate_point(short, report), estimate_point(long, report)
    assert a["finite_key_rate_bps"] == pytest.approx(b["finite_key_rate_bps"], rel=1e-9)
    expected = finite_key_length_bits(360_000 * 300, 20_000 * 300, 0.075, 0.00194444444444444, 3) / 300
    assert a["finite_key_rate_bps"] == pytest.approx(expected, rel=1e-6)
    assert 0 < a["finite_key_rate_bps"] < a["key_rate_bps"]
