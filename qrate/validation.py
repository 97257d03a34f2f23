"""Expected values of a two-party pass run, step by step, from the plans alone (no sampling).

The validation presets (``micius-2017-entanglement``, ``micius-2020-qkd``; qrate/MODELS.md,
"Validation presets") are compared with published measurements through these expectations: for
every step of every pass the two-downlink loss without and with the detectors, the coincidence
(two-photon) rate, the signal-to-noise ratio and the QBER that the plan's noise implies, and their
pass averages. The Monte Carlo run of the same scenario samples around these values (its tests
check that it does).

QBER of a Bell pair measured by two users: every Pauli flip of the plan is independent, so the
error rate in a basis is e = (1 - prod_i (1 - 2 e_i)) / 2 over the flips e_i that act in that basis:
a Z flip (``z_flip``) errs in X, an X flip in Z, a depolarisation p (X, Y, Z each p/3) errs in
either basis with probability 2p/3, a readout flip in both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepExpectation:
    """One pass step.

    Attributes:
        pass_index, time_utc, weight_s: which pass, the step's epoch, its trapezoid weight (s).
        range_km, elevation_deg: per station (link order).
        loss_db: two-downlink loss without detectors (channel, telescopes, optics, coupling).
        loss_with_detectors_db: the same with the users' effective detector efficiencies.
        coincidence_hz: expected two-photon (heralded) rate.
        noise_fraction: expected fraction of coincidences with at least one noise click.
        qber_x, qber_z: expected error rates in the X and Z bases.
    """

    pass_index: int
    time_utc: str
    weight_s: float
    range_km: tuple[float, ...]
    elevation_deg: tuple[float, ...]
    loss_db: float
    loss_with_detectors_db: float
    coincidence_hz: float
    noise_fraction: float
    qber_x: float
    qber_z: float

    @property
    def summed_range_km(self) -> float:
        """Sum of the slant ranges of the two downlinks."""
        return float(sum(self.range_km))

    @property
    def qber(self) -> float:
        """Mean of the two bases' error rates (BBM92 sifts both)."""
        return 0.5 * (self.qber_x + self.qber_z)

    @property
    def signal_to_noise(self) -> float:
        """Genuine to noise coincidences (inf without noise)."""
        return math.inf if self.noise_fraction == 0.0 else (1.0 - self.noise_fraction) / self.noise_fraction


def _xor(rates: Sequence[float]) -> float:
    return 0.5 * (1.0 - math.prod(1.0 - 2.0 * e for e in rates))


def step_expectation(plan: Any) -> StepExpectation:
    """The expectations of one pass-step plan (:class:`qrate.engine.plan.PointPlan`)."""
    noise = plan.noise
    in_x = [*noise.z_flip.values(), *(2.0 * p / 3.0 for p in noise.depolarize.values())]
    in_z = [*noise.x_flip.values(), *(2.0 * p / 3.0 for p in noise.depolarize.values())]
    readouts = [noise.readout(u.user) for u in plan.users]
    eta = [dl.mean_eta for dl in plan.downlinks]
    detectors = [u.detector_efficiency for u in plan.users]
    # heralded coincidences: genuine when both photons are detected, noise otherwise
    genuine = [u.detector_efficiency * u.fiber_eta * u.switch_eta * plan.downlinks[u.downlink].mean_eta for u in plan.users]
    clicks = [g + (1.0 - g) * u.noise_click_probability for g, u in zip(genuine, plan.users, strict=True)]
    noise_fraction = 1.0 - math.prod(g / c for g, c in zip(genuine, clicks, strict=True)) if all(clicks) else 0.0
    stations = plan.extra.get("stations", {})
    names = [dl.ground_station for dl in plan.downlinks]
    loss = -10.0 * math.log10(math.prod(eta))
    return StepExpectation(
        pass_index=int(plan.axes.get("pass", 0)),
        time_utc=str(plan.extra.get("time_utc", "")),
        weight_s=float(plan.extra.get("weight_s", 0.0)),
        range_km=tuple(float(stations[n]["range_km"]) for n in names) if stations else (),
        elevation_deg=tuple(float(stations[n]["elevation_deg"]) for n in names) if stations else (),
        loss_db=loss,
        loss_with_detectors_db=loss - 10.0 * math.log10(math.prod(detectors)),
        coincidence_hz=plan.p_success_expected * plan.repetition_rate_hz,
        noise_fraction=noise_fraction,
        qber_x=_xor([*in_x, *readouts]),
        qber_z=_xor([*in_z, *readouts]),
    )


def pass_expectations(scenario: Any) -> list[StepExpectation]:
    """Every step of every pass of a two-party pass-run scenario."""
    from qrate.engine import plan_sweep

    return [step_expectation(p) for p in plan_sweep(scenario)]


def pass_averages(steps: Sequence[StepExpectation]) -> dict[str, float]:
    """Time averages over the steps (trapezoid weights): coincidence rate, and coincidence-weighted
    QBER, noise fraction (signal-to-noise) and loss; duration and coincidences per pass."""
    w = np.array([s.weight_s for s in steps])
    c = np.array([s.coincidence_hz for s in steps])
    duration = float(w.sum())
    pairs = float((w * c).sum())

    def weighted(values: Sequence[float]) -> float:
        return float((w * c * np.asarray(values)).sum() / pairs) if pairs > 0 else math.nan

    noise = weighted([s.noise_fraction for s in steps])
    return {
        "duration_s": duration,
        "pairs": pairs,
        "coincidence_hz": pairs / duration if duration else math.nan,
        "qber": weighted([s.qber for s in steps]),
        "qber_x": weighted([s.qber_x for s in steps]),
        "qber_z": weighted([s.qber_z for s in steps]),
        "noise_fraction": noise,
        "signal_to_noise": (1.0 - noise) / noise if noise > 0 else math.inf,
        "loss_db_min": float(min(s.loss_db for s in steps)),
        "loss_db_max": float(max(s.loss_db for s in steps)),
        "loss_with_detectors_db_min": float(min(s.loss_with_detectors_db for s in steps)),
        "loss_with_detectors_db_max": float(max(s.loss_with_detectors_db for s in steps)),
    }


# ------------------------------------------------------------------------------ published numbers
#: what the Micius experiments reported (value, unit); sources and tolerances: qrate/MODELS.md, "Validation presets"
PUBLISHED: dict[str, dict[str, tuple[float, str]]] = {
    "liao2017": {  # S.-K. Liao et al., Nature 549, 43 (2017): Xinglong downlink, 645-1200 km
        "loss_db_645km": (29.754, "dB"),
        "loss_db_1200km": (40.340, "dB"),
        # decoy-state BB84 on the pass of 2016-12-19 (273 s within 1200 km)
        "duration_s": (273.0, "s"),
        "detections_per_pass": (3_551_136.0, ""),
        "sifted_bits_per_pass": (1_671_072.0, "bit"),
        "qber": (0.011, ""),
        "final_key_bits_per_pass": (300_939.0, "bit"),
        "final_key_bps": (1.1e3, "bit/s"),
        "sifted_bps_645km": (12e3, "bit/s"),  # "~12 kbit/s at 645 km"
        "sifted_bps_1200km": (1e3, "bit/s"),  # "~1 kbit/s at 1200 km"
    },
    "yin2017": {  # J. Yin et al., Science 356, 1140 (2017): Delingha - Lijiang
        "summed_range_km_min": (1600.0, "km"),
        "summed_range_km_max": (2400.0, "km"),
        "loss_with_detectors_db_min": (64.0, "dB"),
        "loss_with_detectors_db_max": (82.0, "dB"),
        "coincidence_hz": (1.1, "Hz"),
        "qber": (0.081, ""),
    },
    "yin2020": {  # J. Yin et al., Nature 582, 501 (2020): Delingha - Nanshan
        "coincidence_hz": (2.2, "Hz"),
        "signal_to_noise": (15.0, ""),
        "sifted_hz": (1.1, "Hz"),
        "qber": (0.045, ""),
        "asymptotic_key_bps": (0.43, "bit/s"),
        "finite_key_bps": (0.12, "bit/s"),
        "finite_key_block_s": (3100.0, "s"),
        "error_correction_inefficiency": (1.19, ""),
    },
}


def xinglong_2017_link(*, coupled: bool = True) -> Any:
    """The Micius-Xinglong downlink of the calibration (850 nm, Gaussian beam of 10 urad, 0.5 urad pointing,
    1 m telescope, LOWTRAN7 rural 23 km, exact model, the fitted receiver efficiency), with the
    elevation-dependent coupling or without it (geometry alone)."""
    from qrate.channels.coupling import MICIUS_2017_RECEIVER_EFFICIENCY, micius_2017_coupling
    from qrate.channels.freespace import FreeSpaceLink

    return FreeSpaceLink(
        divergence_rad=10e-6,
        pointing_rad=0.5e-6,
        aperture_radius_m=0.5,
        wavelength_m=850e-9,
        beam="gaussian",
        model="exact",
        aerosol_model="rural_23km",
        receiver_efficiency=MICIUS_2017_RECEIVER_EFFICIENCY,
        elevation_coupling=micius_2017_coupling() if coupled else None,
    )


def xinglong_2017_loss_db(
    slant_range_km: Sequence[float] | np.ndarray, *, coupled: bool = True, altitude_km: float = 500.0
) -> np.ndarray:
    """qrate's loss (dB, no detector) of :func:`xinglong_2017_link` at each slant range (a 500 km orbit)."""
    from qrate.channels.budget import loss_budget_db
    from qrate.channels.measured import geometry_at_slant_range

    link = xinglong_2017_link(coupled=coupled)
    return np.array([loss_budget_db(link, geometry_at_slant_range(altitude_km, float(L))).total_db for L in slant_range_km])


def yin2020_key_rates(averages: dict[str, float], sifted_hz: float | None = None) -> tuple[float, float]:
    """``(asymptotic, finite)`` key rates (bit/s) the way Yin et al. (2020) computed theirs: sifted rate x
    (1 - f_e h(E) - h(E)) with f_e = 1.19, and the finite key of a 3100 s block
    (:func:`qrate.finite_key.yin2020_key_length_bits`); at the pass-average QBER E and the given sifted
    rate (default: half the pass-average coincidences)."""
    from qrate.finite_key import YIN2020_F_EC, yin2020_key_length_bits

    q = averages["qber"]
    sifted = averages["coincidence_hz"] / 2.0 if sifted_hz is None else sifted_hz
    h = -q * math.log2(q) - (1 - q) * math.log2(1 - q)
    block = PUBLISHED["yin2020"]["finite_key_block_s"][0]
    n = round(sifted * block)
    return sifted * max(0.0, 1.0 - YIN2020_F_EC * h - h), yin2020_key_length_bits(n, n // 2, q, q) / block


def liao2017_pass_numbers(passes: Sequence[Mapping[str, Any]], steps: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """qrate's numbers of a ``micius-2017-bb84`` run, named as in ``PUBLISHED["liao2017"]``: per pass (the
    first of ``passes``, :func:`qrate.store.load.read_passes`) the detections, sifted and final-key bits and
    the final-key rate; the QBER of the signal states pooled over ``steps``
    (:func:`qrate.store.load.read_estimates`)."""
    p = passes[0]
    errors = sum(s["counts"][f"errors:signal:{b}"] for s in steps for b in "ZX")
    sifted = sum(s["counts"][f"sifted:signal:{b}"] for s in steps for b in "ZX")
    return {
        "duration_s": float(p["duration_s"]),
        "detections_per_pass": float(p["heralded_pairs"]),
        "sifted_bits_per_pass": float(p["sifted_bits"]),
        "qber": errors / sifted if sifted else math.nan,
        "final_key_bits_per_pass": float(p["finite_key_bits"]),
        "final_key_bps": float(p["finite_key_bits"]) / float(p["duration_s"]),
    }
