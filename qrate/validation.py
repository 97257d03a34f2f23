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
from collections.abc import Sequence
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
