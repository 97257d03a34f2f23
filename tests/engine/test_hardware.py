"""Realistic hardware at the engine level: every element against its closed form."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.estimates import estimate_point
from qrate.scenario import load_scenario
from qrate.sweep import run_sweep

ONE = ["sweep.ground_distance_km=[500.0]", "sampling.seed=3"]


def _plan(*sets: str):  # type: ignore[no-untyped-def]
    (plan,) = plan_sweep(load_scenario("khan-acka-leo", [*ONE, *sets]))
    return plan


def _qx(*sets: str, pulses: int = 400_000, batches: int = 5) -> tuple[float, float, int]:
    s = load_scenario("khan-acka-leo", [*ONE, f"sampling.pulses_per_batch={pulses}", f"sampling.batches={batches}", *sets])
    (res,) = run_sweep(s, 3)
    est = estimate_point(res.rows, res.plan.report())
    return est["qber_x"], est["p_success"], est["counts"]["verify_rounds_x"]


def test_background_at_the_forwarding_station_depolarises_dinas_photon() -> None:
    """Q_X = ½[1 − (1 − 2p)^4 (1 − q)]: four fiber photons (p = 0.02) and Dina's photon a noise click
    with q = (1 − τ) p_b / (τ + (1 − τ) p_b), τ her detection probability (a depolarised photon flips
    the X parity with probability q/2)."""
    p_b = 0.002
    sets = ["links.leo.background={click_probability = 0.002}", "links.leo.aperture_radius_m=0.5"]
    plan = _plan(*sets)
    dina = next(u for u in plan.users if u.user == "Dina")
    tau = dina.fiber_eta * dina.switch_eta * plan.downlinks[dina.downlink].mean_eta * dina.detector_efficiency
    q = (1 - tau) * p_b / (tau + (1 - tau) * p_b)
    assert plan.noise.depolarize["Dina"] == pytest.approx(0.75 * q, rel=1e-12)
    # the photon to GS1's BSM sees the same sky: its background clicks depolarise it too
    gs1 = next(d for d in plan.downlinks if d.to_user is None)
    assert gs1.noise_click_probability == pytest.approx(p_b)
    qx, _, rounds = _qx(*sets, pulses=2_000_000)
    q_bsm = (1 - gs1.mean_eta) * p_b / (gs1.mean_eta + (1 - gs1.mean_eta) * p_b)
    expected = 0.5 * (1 - (1 - 0.04) ** 4 * (1 - q) * (1 - q_bsm))
    assert abs(qx - expected) < 4 * math.sqrt(expected * (1 - expected) / rounds)


def test_spdc_source_emits_with_thermal_statistics_and_multi_pair_noise() -> None:
    mu = 0.2
    ideal, spdc = _plan(), _plan(f"sources.spdc_mean_pair_number={mu}")
    assert spdc.p_success_expected == pytest.approx(ideal.p_success_expected * mu / (1 + mu), rel=1e-12)
    from qrate.channels.sources import multipair_depolarising_probability

    eta = [d.mean_eta for d in spdc.downlinks]
    p_pair = multipair_depolarising_probability(mu, eta[0], eta[1])
    assert spdc.noise.depolarize["bell0.GS1"] == pytest.approx(0.75 * p_pair, rel=1e-12)
    qx, _, rounds = _qx(f"sources.spdc_mean_pair_number={mu}")
    expected = 0.5 * (1 - (1 - 0.04) ** 4 * (1 - p_pair))  # a depolarised pair flips the X parity with p/2
    assert abs(qx - expected) < 4 * math.sqrt(expected * (1 - expected) / rounds)


def test_linear_optics_bsm_succeeds_half_eta_squared_and_lowers_visibility() -> None:
    eta, v = 0.8, 0.9
    sets = ['bsm.model="linear_optics"', f"bsm.detector_efficiency={eta}", f"bsm.hom_visibility={v}"]
    ideal, lo = _plan(), _plan(*sets)
    assert lo.p_success_expected == pytest.approx(ideal.p_success_expected * 0.5 * eta**2, rel=1e-12)
    assert lo.noise.z_flip["bell0.GS1"] == pytest.approx((1 - v) / 2)
    qx, _, rounds = _qx(*sets)
    expected = 0.5 * (1 - (1 - 0.04) ** 4 * (1 - 2 * (1 - v) / 2))  # one more Z flip on the fused photon
    assert abs(qx - expected) < 4 * math.sqrt(expected * (1 - expected) / rounds)


def test_detector_window_dead_time_and_dark_count_rate() -> None:
    """Efficiency × erf window acceptance × 1/(1 + r τ_d); dark counts = 1 − exp(−rate × gate)."""
    from qrate.channels.detectors import dead_time_efficiency, window_acceptance

    sets = ["detectors.efficiency=0.8", "detectors.dark_count_rate_hz=1000.0", "detectors.gate_s=1e-9",
            "detectors.jitter_fwhm_s=1e-9", "detectors.dead_time_s=1e-7"]
    plan = _plan(*sets)
    alice = next(u for u in plan.users if u.user == "Alice")
    eta_w = 0.8 * window_acceptance(1e-9, 1e-9)
    clicks = 1e6 * (alice.fiber_eta * eta_w + (1 - alice.fiber_eta * eta_w) * (1 - math.exp(-1e-6)))
    assert alice.detector_efficiency == pytest.approx(eta_w * dead_time_efficiency(clicks, 1e-7), rel=1e-9)
    assert alice.noise_click_probability == pytest.approx(1 - math.exp(-1000.0 * 1e-9), rel=1e-9)


def test_hardware_factors_and_measured_table_enter_the_downlink_mean() -> None:
    base = _plan().downlinks[0].mean_eta
    lossy = _plan("links.leo.transmitter_efficiency=0.5", "links.leo.receiver_efficiency=0.4", "links.leo.extra_loss_db=3.0")
    assert lossy.downlinks[0].mean_eta == pytest.approx(base * 0.5 * 0.4 * 10 ** -0.3, rel=1e-12)
    table = _plan('links.leo.model="measured"', "links.leo.loss_table={slant_range_km = [400.0, 1000.0], loss_db = [20.0, 32.0]}")
    r = table.downlinks[0].budget.geometry.slant_range_km
    assert table.downlinks[0].mean_eta == pytest.approx(10 ** (-(20 + 12 * (r - 400) / 600) / 10), rel=1e-12)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("links.leo.receiver_efficiency=-0.1", "links.leo.receiver_efficiency"),
        ('links.leo.model="measured"', "links.leo.loss_table"),
        ("links.leo.loss_table={slant_range_km = [500.0], loss_db = [30.0]}", "links.leo.loss_table"),
        ("links.leo.background={radiance_w_m2_sr_nm = -1.0}", "links.leo.background.radiance_w_m2_sr_nm"),
        ("sources.spdc_mean_pair_number=0.0", "sources.spdc_mean_pair_number"),
        ("bsm.hom_visibility=1.5", "bsm.hom_visibility"),
    ],
)
def test_bad_hardware_input_exits_2_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     override: str, field: str) -> None:
    extra = ['--set=links.leo.model="measured"'] if "loss_table" in override and "model" not in override else []
    assert main(["run", "khan-acka-leo", f"--set={override}", *extra, "--out", str(tmp_path / "x.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err, err
    assert not (tmp_path / "x.h5").exists()


def test_non_monotone_loss_table_is_refused_naming_the_field() -> None:
    from qrate.errors import InputError

    with pytest.raises(InputError) as exc:
        plan_sweep(load_scenario("khan-acka-leo", [*ONE, 'links.leo.model="measured"',
                                                    "links.leo.loss_table={slant_range_km = [900.0, 500.0], loss_db = [30.0, 20.0]}"]))
    assert exc.value.field == "links.leo.loss_table.slant_range_km"


def test_micius_2017_preset_against_the_published_numbers() -> None:
    """Yin et al., Science 356, 1140 (2017): ~1.1 coincidences per second, two-downlink loss 64-82 dB
    (summed range 1600-2400 km). qrate's midpoint geometry at D = 1203 km is the short end (1600 km)."""
    s = load_scenario("micius-2017-entanglement", ["sampling.batches=4"])
    (plan,) = plan_sweep(s)
    loss_db = -10 * math.log10(plan.downlinks[0].mean_eta * plan.downlinks[1].mean_eta)
    assert 58.0 < loss_db < 82.0
    (res,) = run_sweep(s, 1)
    est = estimate_point(res.rows, plan.report())
    assert 0.5 < est["rate_bps"] < 2.5  # coincidences per second (published ~1.1 Hz)


def test_sky_background_clicks_scale_with_the_detector_efficiency() -> None:
    """p_b = 1 − exp(−n_b), n_b = H Ω A Δλ Δt η_rx η_det λ/(h c) with Ω = 2π(1 − cos(θ/2)), A = π r²:
    the detector's efficiency counts sky photons exactly as it counts signal photons (closed form,
    CODATA h and c; no qrate code), at the users' detectors and at the BSM's."""
    h, c = 6.62607015e-34, 299_792_458.0
    radiance, fov, band, gate, lam, radius, eta_rx = 1e-5, 200e-6, 2.0, 2e-9, 1.55e-6, 0.5, 0.8

    def p_b(eta_det: float) -> float:
        omega = 2 * math.pi * (1 - math.cos(fov / 2))
        n_b = radiance * omega * math.pi * radius**2 * band * gate * eta_rx * eta_det * lam / (h * c)
        return -math.expm1(-n_b)

    sets = [f"links.leo.background={{radiance_w_m2_sr_nm = {radiance}, fov_full_angle_rad = {fov}, "
            f"filter_bandwidth_nm = {band}, gate_s = {gate}}}",
            f"links.leo.aperture_radius_m={radius}", f"links.leo.receiver_efficiency={eta_rx}",
            "detectors.dark_count_probability=0.0"]
    for eta_det in (1.0, 0.3):
        plan = _plan(*sets, f"detectors.efficiency={eta_det}", f"bsm.detector_efficiency={eta_det}")
        assert 1e-4 < p_b(eta_det) < 0.1  # noticeable, far from saturation
        gs1 = next(d for d in plan.downlinks if d.to_user is None)
        assert gs1.noise_click_probability == pytest.approx(p_b(eta_det), rel=1e-6)
        dina = next(u for u in plan.users if u.user == "Dina")
        assert dina.noise_click_probability == pytest.approx(p_b(eta_det), rel=1e-6)
