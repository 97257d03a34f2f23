"""Decoy-state BB84: the exact pulse sampler against the closed forms, the decoy bounds in the
infinite-data limit, the key rates against hand calculations, and the protocol run like any other."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import qrate
from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.errors import InputError
from qrate.estimates import estimate_point
from qrate.protocols.decoy_bb84 import (
    BASES,
    INTENSITIES,
    DecoyBB84,
    DecoyParams,
    DecoyPulses,
    lim_key_length_bits,
    single_photon_yield_lower,
)
from qrate.scenario import load_scenario
from qrate.stats import BatchStats, to_row

MIDPOINT = str(Path(__file__).with_name("decoy_midpoint.toml"))
ETA, Y0, E_D = 1e-3, 1e-6, 0.01
MU = (0.8, 0.1, 0.0)
P = (0.5, 0.25, 0.25)


def _report() -> dict:
    layout = plan_sweep(load_scenario(MIDPOINT, ["sweep.ground_distance_km=[0]"]))[0].protocol.layout
    return {**DecoyBB84(layout, "Bob", DecoyParams(misalignment_error=E_D)).report().to_json(), "repetition_rate_hz": 1e8}


def _rows(counts: list[dict[str, int]], pulses: list[int]) -> np.ndarray:
    names = DecoyPulses.counter_names
    rows = []
    for i, (c, n) in enumerate(zip(counts, pulses, strict=True)):
        succ = sum(c[f"clicks:{k}"] for k in INTENSITIES)
        rows.append(to_row(BatchStats(n, succ, counts=c), i, names))
    return np.concatenate(rows)


@pytest.mark.parametrize(("eta", "y0"), [(ETA, Y0), (1e-4, 1e-3)])  # signal-dominated; noise-dominated
def test_monte_carlo_gains_and_errors_match_the_closed_forms(eta: float, y0: float) -> None:
    sampler = DecoyPulses(eta, y0, DecoyParams(misalignment_error=E_D))
    n = 10**10
    c = sampler.sample_pulses(n, np.random.default_rng(2024)).counts
    match = 0.5  # p_Z^2 + p_X^2
    for k, (mu, p) in enumerate(zip(MU, P, strict=True)):
        sent = n * p
        q = y0 + 1 - math.exp(-eta * mu)  # MQZL's gain; the sampler's exact form differs by Y0(1 - e^-eta mu)
        q_mc = c[f"clicks:{INTENSITIES[k]}"] / sent
        assert abs(q_mc - q) < 4 * math.sqrt(q / sent) + y0 * eta * mu, (k, q_mc, q)
        eq = 0.5 * y0 + E_D * (1 - math.exp(-eta * mu))
        sifted_sent = sent * match
        eq_mc = sum(c[f"errors:{INTENSITIES[k]}:{b}"] for b in BASES) / sifted_sent
        assert abs(eq_mc - eq) < 4 * math.sqrt(eq / sifted_sent) + y0 * eta * mu, (k, eq_mc, eq)


def test_every_counter_matches_its_expectation_and_the_draw_is_exact_in_cost() -> None:
    sampler = DecoyPulses(ETA, Y0, DecoyParams(misalignment_error=E_D))
    expected = sampler.expected_counts(10**12)
    got = sampler.sample_pulses(10**12, np.random.default_rng(7)).counts
    for k, e in expected.items():
        assert abs(got[k] - e) < 5 * math.sqrt(e), k
    # 2**60 pulses cost one multinomial draw: counts scale, no per-pulse work
    big = sampler.sample_pulses(2**60, np.random.default_rng(1))
    assert big.successes == pytest.approx(sampler.success_probability() * 2**60, rel=1e-6)
    assert sampler.sample_pulses(10**6, np.random.default_rng(3)) == sampler.sample_pulses(10**6, np.random.default_rng(3))


def _series_gap(eta: float, y0: float, mu: float, nu: float) -> float:
    """Y1 - Y1^L from the photon-number series: the terms n >= 3 that MQZL's bound drops."""
    total = 0.0
    for n in range(3, 60):
        y_n = 1 - (1 - y0) * (1 - eta) ** n
        total += y_n * (nu**2 * mu ** (n - 2) - nu**n) / math.factorial(n)
    return total / (nu - nu**2 / mu)


def test_decoy_bound_equals_the_single_photon_yield_within_the_known_gap() -> None:
    mu, nu = MU[0], MU[1]
    # infinite data: the exact gains of the photon-number model Y_n = 1 - (1 - Y0)(1 - eta)^n
    q = [1 - (1 - Y0) * math.exp(-ETA * m) for m in MU]
    y1 = 1 - (1 - Y0) * (1 - ETA)
    y1_lower = single_photon_yield_lower(q[0], q[1], q[2], mu, nu)
    assert y1_lower < y1
    assert y1 - y1_lower == pytest.approx(_series_gap(ETA, Y0, mu, nu), rel=1e-6)
    assert (y1 - y1_lower) / y1 < 0.06  # the gap of a 0.1 decoy: about eta nu mu / 2 over Y1
    # the Monte Carlo estimate converges to the bound (1e14 pulses: statistical error ~4e-5 of Y1)
    sampler = DecoyPulses(ETA, Y0, DecoyParams(misalignment_error=E_D))
    c = sampler.sample_pulses(10**14, np.random.default_rng(11)).counts
    est = estimate_point(_rows([c], [10**14]), _report())
    sigma = mu / (mu * nu - nu**2) * math.exp(nu) * math.sqrt(q[1] / (10**14 * P[1] * 0.5))
    assert abs(est["y1_lower"] - y1_lower) < 5 * sigma
    e1_true = (0.5 * Y0 + E_D * ETA * (1 - Y0)) / y1
    assert e1_true <= est["e1_upper"] < e1_true * 1.2


def _hand_asymptotic(n_sifted: np.ndarray, n_err: np.ndarray, pulses: float) -> float:
    """MQZL + GLLP by hand: R = p1 q [Q1 (1 - h(e1)) - f Q_mu h(E_mu)] per pulse."""

    def h(x: float) -> float:
        return -x * math.log2(x) - (1 - x) * math.log2(1 - x)

    q_match = 0.5
    gains = [n_sifted[k] / (pulses * P[k] * q_match) for k in range(3)]
    egains = [n_err[k] / (pulses * P[k] * q_match) for k in range(3)]
    mu, nu = MU[0], MU[1]
    y0 = gains[2]
    y1 = mu / (mu * nu - nu * nu) * (gains[1] * math.exp(nu) - gains[0] * math.exp(mu) * nu**2 / mu**2 - (mu**2 - nu**2) / mu**2 * y0)
    e1 = (egains[1] * math.exp(nu) - y0 / 2) / (y1 * nu)
    q1 = mu * math.exp(-mu) * y1
    return P[0] * q_match * (q1 * (1 - h(e1)) - 1.16 * gains[0] * h(egains[0] / gains[0]))


def test_key_rates_match_hand_calculations() -> None:
    pulses = 10**16
    sampler = DecoyPulses(ETA, Y0, DecoyParams(misalignment_error=E_D))
    c = {k: round(v) for k, v in sampler.expected_counts(pulses).items()}
    est = estimate_point(_rows([c], [pulses]), {**_report(), "key_block_s": pulses / 1e8})
    n = np.array([[c[f"sifted:{k}:{b}"] for b in BASES] for k in INTENSITIES], dtype=float)
    m = np.array([[c[f"errors:{k}:{b}"] for b in BASES] for k in INTENSITIES], dtype=float)
    assert est["key_rate_bps"] == pytest.approx(1e8 * _hand_asymptotic(n.sum(axis=1), m.sum(axis=1), pulses), rel=1e-9)
    # by hand with the true Y1 = 1e-3 and e1 = 1.05 %: Q1 = 0.8 e^-0.8 Y1 = 3.59e-4,
    # Q1 (1 - h(e1)) = 3.29e-4, f Q_mu h(E_mu) = 1.16 x 8e-4 x h(1.06 %) = 7.9e-5, x p1 q = 0.25,
    # x 1e8/s = 6.2e3 bit/s; the decoy bounds (Y1^L < Y1, e1^U > e1) take a little off
    assert 5.0e3 < est["key_rate_bps"] < 6.2e3
    # Lim et al.'s key (all intensities of a basis form key) over a huge block tends from below to
    # its own limit without statistical terms, s0 + s1 (1 - h(v1/s1)) - f n h(E), for each key basis
    mu, p = np.array(MU), np.array(P)
    t0, t1 = float(np.sum(p * np.exp(-mu))), float(np.sum(p * np.exp(-mu) * mu))

    def hb(x: float) -> float:
        return -x * math.log2(x) - (1 - x) * math.log2(1 - x)

    limit = 0.0
    for key in (0, 1):
        nn = np.exp(mu) / p * n[:, key]
        s0 = t0 * nn[2]
        s1 = t1 * mu[0] * (nn[1] - nn[2] - mu[1] ** 2 / mu[0] ** 2 * (nn[0] - s0 / t0)) / (mu[0] * mu[1] - mu[1] ** 2)
        v1 = t1 * (np.exp(mu[1]) / p[1] * m[1, 1 - key] - np.exp(mu[2]) / p[2] * m[2, 1 - key]) / mu[1]
        limit += s0 + s1 * (1 - hb(v1 / s1)) - 1.16 * n[:, key].sum() * hb(m[:, key].sum() / n[:, key].sum())
    limit_bps = limit / (pulses / 1e8)
    assert 0.99 * limit_bps < est["finite_key_rate_bps"] < limit_bps
    small = estimate_point(_rows([c], [pulses]), {**_report(), "key_block_s": 100.0})  # 1e10 pulses
    assert small["finite_key_rate_bps"] < 0.9 * est["finite_key_rate_bps"]


def test_lim_finite_key_by_hand() -> None:
    # a block: sifted clicks and errors per intensity (rows) and basis (Z, X)
    n = np.array([[2.0e6, 2.0e6], [1.5e5, 1.5e5], [300.0, 300.0]])
    m = np.array([[2.0e4, 2.0e4], [2.2e3, 2.2e3], [150.0, 150.0]])
    eps = 1e-10
    mu, p = np.array(MU), np.array(P)
    ln = math.log(21 / eps)
    t0, t1 = float(np.sum(p * np.exp(-mu))), float(np.sum(p * np.exp(-mu) * mu))

    def hb(x: float) -> float:
        return -x * math.log2(x) - (1 - x) * math.log2(1 - x)

    def nb(col: np.ndarray, sign: int) -> np.ndarray:
        return np.exp(mu) / p * (col + sign * math.sqrt(col.sum() / 2 * ln))

    lo, hi = nb(n[:, 0], -1), nb(n[:, 0], +1)
    s0 = max(0.0, t0 * lo[2])  # a negative lower bound on vacuum events is replaced by the trivial 0
    s1 = t1 * mu[0] * (lo[1] - hi[2] - mu[1] ** 2 / mu[0] ** 2 * (hi[0] - s0 / t0)) / (mu[0] * mu[1] - mu[1] ** 2)
    lox, hix = nb(n[:, 1], -1), nb(n[:, 1], +1)
    s0x = max(0.0, t0 * lox[2])
    s1x = t1 * mu[0] * (lox[1] - hix[2] - mu[1] ** 2 / mu[0] ** 2 * (hix[0] - s0x / t0)) / (mu[0] * mu[1] - mu[1] ** 2)
    mlo, mhi = nb(m[:, 1], -1), nb(m[:, 1], +1)
    v1 = t1 * (mhi[1] - mlo[2]) / mu[1]
    b = v1 / s1x
    gamma = math.sqrt((s1 + s1x) * (1 - b) * b / (s1 * s1x * math.log(2)) * math.log2((s1 + s1x) / (s1 * s1x * (1 - b) * b) * 21**2 / eps**2))
    phi = b + gamma
    ell = s0 + s1 * (1 - hb(phi)) - 1.16 * n[:, 0].sum() * hb(m[:, 0].sum() / n[:, 0].sum()) - 6 * math.log2(21 / eps) - math.log2(2 / 1e-15)
    got = lim_key_length_bits(n, m, MU, P, key=0)
    assert got["s1"] == pytest.approx(s1, rel=1e-12) and got["phase_error"] == pytest.approx(phi, rel=1e-12)
    assert got["length_bits"] == pytest.approx(ell, rel=1e-12) and ell > 0


def test_parameters_are_validated_by_the_protocol() -> None:
    with pytest.raises(InputError) as exc:
        load_scenario(MIDPOINT, ["protocol.decoy-bb84.intensities=[0.1, 0.8, 0.0]"])
    assert exc.value.field.startswith("protocol.decoy-bb84")
    with pytest.raises(InputError) as exc:
        load_scenario(MIDPOINT, ["protocol.decoy-bb84.probabilities=[0.5, 0.5, 0.5]"])
    assert exc.value.field.startswith("protocol.decoy-bb84")
    with pytest.raises(InputError, match="protocol.sender"):
        plan_sweep(load_scenario(MIDPOINT, ['protocol.sender="Bob"']))
    with pytest.raises(InputError, match="forwarding station"):
        plan_sweep(load_scenario(MIDPOINT, ["nodes.ground_stations.A.forward=false"]))
    with pytest.raises(InputError, match="coherence_time_s"):
        plan_sweep(load_scenario(MIDPOINT, ["links.down.coherence_time_s=0.01"]))


@pytest.mark.parametrize("per_receiver", [1, 4])
def test_the_receiver_is_the_scenarios_detector(per_receiver: int) -> None:
    """Y₀ and η come from ``[detectors]`` (the Detector object): n detectors' dark counts add."""
    s = load_scenario(
        MIDPOINT, ["sweep.ground_distance_km=[0]", f"detectors.per_receiver={per_receiver}", "detectors.efficiency=0.4"]
    )
    plan = plan_sweep(s)[0]
    sampler = plan.protocol.pulse_sampler(plan)
    p_dark = 1 - math.exp(-25.0 * 2e-9)  # one detector: 25 Hz over the 2 ns gate (no background in this scenario)
    assert sampler.y0 == pytest.approx(1 - (1 - p_dark) ** per_receiver, rel=1e-12)
    assert sampler.eta == pytest.approx(plan.downlinks[0].mean_eta * s.switch.efficiency * 0.4, rel=1e-12)


def test_the_old_detectors_parameter_is_refused_naming_its_replacement(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as exc:
        load_scenario(MIDPOINT, ["protocol.decoy-bb84.detectors=4"])
    assert exc.value.field == "protocol.decoy-bb84.detectors" and "detectors.per_receiver" in exc.value.message
    out = tmp_path / "old.h5"
    assert main(["run", MIDPOINT, "--set", "protocol.decoy-bb84.detectors=4", "--out", str(out), "--quiet"]) == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "protocol.decoy-bb84.detectors" in err and "detectors.per_receiver" in err


def test_sweep_show_plot_and_load_work_as_for_any_protocol(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bb84.h5"
    assert main(["run", MIDPOINT, "--scheduler", "sync", "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "key_kbps" in table and "QBER_mu" in table
    assert main(["show", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["ground_distance_km"] for r in rows] == [0.0, 1000.0]
    near, far = rows
    assert near["key_rate_bps"] > far["key_rate_bps"] > 0 and near["sifted_rate_bps"] > far["sifted_rate_bps"]
    loaded = qrate.load(out)
    assert loaded["key_rate_bps"][0] == pytest.approx(near["key_rate_bps"])
    assert main(["plot", str(out), "--out", str(tmp_path / "k.png")]) == 0
    # the planned click probability is the sampler's, and the stored successes agree with it
    plan = plan_sweep(load_scenario(MIDPOINT))[0]
    assert near["successes"] == pytest.approx(plan.p_success_expected * near["pulses"], rel=5 / math.sqrt(near["successes"]))
