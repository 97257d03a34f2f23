"""Additive batch statistics and the estimates derived from them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qrate.stats import (
    BatchStats,
    CounterRoles,
    binary_entropy,
    estimate_point,
    finite_key_length_bits,
    sum_stats,
    to_row,
    total,
)

NAMES = ("key_rounds", "verify_rounds_x", "x_parity_errors", "z_err:A:B", "z_err:A:D")
ROLES = CounterRoles(
    key_rounds="key_rounds", test_rounds="verify_rounds_x", x_errors="x_parity_errors",
    z_errors={"A-B": "z_err:A:B", "A-D": "z_err:A:D"},
)


def _stats(draw: st.DrawFn) -> BatchStats:
    pulses = draw(st.integers(0, 10**12))
    succ = draw(st.integers(0, pulses))
    counts = {n: draw(st.integers(0, 10**6)) for n in ("a", "b")}
    return BatchStats(pulses, succ, draw(st.integers(0, 100)), draw(st.floats(0, 100)), draw(st.floats(0, 100)), 0.0, counts)


stats_strategy = st.composite(_stats)()


@settings(max_examples=50, deadline=None)
@given(stats_strategy, stats_strategy, stats_strategy)
def test_batch_stats_add_is_commutative_associative_with_zero(x: BatchStats, y: BatchStats, z: BatchStats) -> None:
    assert x + y == y + x
    left, right = (x + y) + z, x + (y + z)
    assert (left.pulses, left.successes, left.counts, left.eta_count) == (right.pulses, right.successes, right.counts, right.eta_count)
    assert left.eta_sum == pytest.approx(right.eta_sum)
    assert x + BatchStats(0, 0) == x
    assert sum_stats([x, y]) == x + y


def test_batch_stats_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError):
        BatchStats(pulses=10, successes=11)


def test_binary_entropy_matches_definition() -> None:
    for p in (1e-6, 0.075327, 0.3, 0.5):
        assert binary_entropy(p) == pytest.approx(-p * math.log2(p) - (1 - p) * math.log2(1 - p), rel=1e-12)
    assert binary_entropy(0.0) == 0.0 and binary_entropy(1.0) == 0.0


def _rows(batches: list[dict[str, int]]) -> np.ndarray:
    rows = [
        to_row(BatchStats(b["pulses"], b["successes"], counts={n: b.get(n, 0) for n in NAMES}), i, NAMES)
        for i, b in enumerate(batches)
    ]
    return np.concatenate(rows)


def test_estimates_from_rows_follow_the_formulas() -> None:
    batches = [
        {"pulses": 1000, "successes": 400, "key_rounds": 360, "verify_rounds_x": 20, "x_parity_errors": 2, "z_err:A:B": 3},
        {"pulses": 1000, "successes": 440, "key_rounds": 396, "verify_rounds_x": 22, "x_parity_errors": 1, "z_err:A:D": 4},
        {"pulses": 2000, "successes": 820, "key_rounds": 738, "verify_rounds_x": 41, "x_parity_errors": 3},
    ]
    rows = _rows(batches)
    est = estimate_point(rows, protocol="acka", repetition_rate_hz=1e6, verification_fraction=0.1, roles=ROLES, n_parties=3)
    assert est["pulses"] == 4000 and est["successes"] == 1660
    p = 1660 / 4000
    assert est["p_success"] == p and est["rate_bps"] == pytest.approx(1e6 * p)
    batch_rates = 1e6 * np.array([0.4, 0.44, 0.41])
    assert est["rate_std_bps"] == pytest.approx(np.std(batch_rates, ddof=1))
    assert est["rate_sem_bps"] == pytest.approx(np.std(batch_rates, ddof=1) / math.sqrt(3))
    qx, qz = 6 / 83, max(3, 4) / 1494
    assert est["qber_x"] == pytest.approx(qx) and est["qber_z_max"] == pytest.approx(qz)
    assert est["qber_z"] == {"A-B": pytest.approx(3 / 1494), "A-D": pytest.approx(4 / 1494)}
    h = lambda x: -x * math.log2(x) - (1 - x) * math.log2(1 - x)  # noqa: E731
    assert est["key_rate_bps"] == pytest.approx(1e6 * p * 0.9 * (1 - h(qx) - h(qz)))
    assert est["key_rate_f0_bps"] == pytest.approx(1e6 * p * (1 - h(qx) - h(qz)))
    assert est["qber_x_ci_low"] < qx < est["qber_x_ci_high"]
    assert est["broadcast_rate_bps"] is None and est["broadcast_error_rate"] is None
    assert est["finite_key_rate_bps"] == 0.0  # 83 test rounds cannot beat the finite-size terms


def test_p_success_interval_covers_overdispersed_batches() -> None:
    """Block-correlated fading: batch means scatter far more than binomial; the interval follows them."""
    from scipy import stats

    succ = [300_000, 500_000, 420_000, 380_000]
    rows = _rows([{"pulses": 1_000_000, "successes": k} for k in succ])
    est = estimate_point(rows, protocol="acka", repetition_rate_hz=1e6, verification_fraction=0.1, roles=ROLES, n_parties=3)
    p_b = np.array(succ) / 1e6
    half = stats.t.ppf(0.975, 3) * np.std(p_b, ddof=1) / 2.0
    assert est["p_success_ci_low"] == pytest.approx(p_b.mean() - half)
    assert est["p_success_ci_high"] == pytest.approx(p_b.mean() + half)
    exact = stats.binomtest(sum(succ), 4_000_000).proportion_ci(method="exact")
    assert est["p_success_ci_high"] - est["p_success_ci_low"] > 50 * (exact.high - exact.low)


def test_single_batch_has_no_spread_but_binomial_stderr() -> None:
    rows = _rows([{"pulses": 10_000, "successes": 2_500}])
    est = estimate_point(rows, protocol="anonymous-entanglement", repetition_rate_hz=1e6, verification_fraction=0.0,
                         roles=CounterRoles(), n_parties=2)
    assert est["rate_std_bps"] is None
    assert est["p_success_stderr"] == pytest.approx(math.sqrt(0.25 * 0.75 / 10_000))
    assert est["key_rate_bps"] is None and est["qber_x"] is None


def test_broadcast_estimates() -> None:
    names = ("shots", "broadcast_errors")
    rows = np.concatenate([
        to_row(BatchStats(1000, 500, counts={"shots": 500, "broadcast_errors": 40}), 0, names),
        to_row(BatchStats(1000, 520, counts={"shots": 520, "broadcast_errors": 36}), 1, names),
    ])
    roles = CounterRoles(broadcast_rounds="shots", broadcast_errors="broadcast_errors")
    est = estimate_point(rows, protocol="broadcast", repetition_rate_hz=2e6, verification_fraction=0.0, roles=roles, n_parties=4)
    q = 76 / 1020
    assert est["broadcast_rate_bps"] == pytest.approx(2e6 * 1020 / 2000)
    assert est["broadcast_correct_rate_bps"] == pytest.approx(2e6 * 1020 / 2000 * (1 - q))
    assert est["broadcast_error_rate"] == pytest.approx(q)
    per_batch = [2e6 * 0.5 * (1 - 0.08), 2e6 * 0.52 * (1 - 36 / 520)]
    assert est["broadcast_correct_rate_std_bps"] == pytest.approx(np.std(per_batch, ddof=1))
    assert est["key_rate_bps"] is None


def test_finite_key_approaches_asymptotic_and_is_bounded_by_it() -> None:
    qx, qz = 0.075327, 0.0
    asym = 1 - binary_entropy(qx)
    previous = 0.0
    for n in (10**5, 10**7, 10**9, 10**11):
        k = n // 9
        frac = finite_key_length_bits(n, k, qx, qz, 3) / n
        assert previous <= frac < asym
        previous = frac
    assert previous == pytest.approx(asym, rel=2e-3)
    assert finite_key_length_bits(0, 10, qx, qz, 3) == 0.0 and finite_key_length_bits(10, 0, qx, qz, 3) == 0.0


def test_total_sums_rows() -> None:
    rows = _rows([{"pulses": 5, "successes": 1, "key_rounds": 1}, {"pulses": 7, "successes": 2, "key_rounds": 2}])
    t = total(rows)
    assert (t.pulses, t.successes, t.counts["key_rounds"]) == (12, 3, 3)
