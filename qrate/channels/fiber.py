"""Optical fiber: transmittance and dephasing (see "Fiber transmittance" and "Fiber dephasing" in qrate/MODELS.md)."""

from __future__ import annotations

import math

from qrate.errors import InputError

SPEED_OF_LIGHT_KM_PER_S = 299_792.458
"""c in km/s (exact by the SI definition of the metre; the value of ``scipy.constants.c``)."""
DEPHASING_MODES = ("per_traversal", "rate_hz")


def _finite(field: str, value: float, lo: float = 0.0, hi: float = math.inf) -> float:
    value = float(value)
    if not math.isfinite(value) or value < lo or value > hi:
        raise InputError(field, f"expected a finite number in [{lo:g}, {hi:g}], got {value!r}")
    return value


def fiber_transmittance(length_km: float, *, loss_db_per_km: float = 0.18, coupling: float = 0.9) -> float:
    """Power transmittance of ``length_km`` of fiber: coupling * 10^(-loss_db_per_km * length_km / 10).

    This is NetSquid's ``FibreLossModel(p_loss_init=1-coupling, p_loss_length=loss_db_per_km)``.
    """
    length_km = _finite("length_km", length_km)
    loss_db_per_km = _finite("loss_db_per_km", loss_db_per_km)
    coupling = _finite("coupling", coupling, 0.0, 1.0)
    return coupling * 10.0 ** (-loss_db_per_km * length_km / 10.0)


def dephasing_probability(
    length_km: float,
    *,
    mode: str = "per_traversal",
    p_per_traversal: float = 0.02,
    rate_hz: float = 0.0,
    group_index: float = 1.468,
) -> float:
    """Probability of a Z flip on one fiber traversal.

    Modes:
        ``per_traversal``: ``p_per_traversal`` whatever the length (what the Yehia et al. code does
            with ``DephaseNoiseModel(0.02, time_independent=True)``).
        ``rate_hz``: p = 1 - exp(-rate_hz * group_index * length_km / c), the flight time in fiber
            times a dephasing rate in 1/s.
    """
    length_km = _finite("length_km", length_km)
    if mode == "per_traversal":
        return _finite("p_per_traversal", p_per_traversal, 0.0, 1.0)
    if mode == "rate_hz":
        rate_hz = _finite("rate_hz", rate_hz)
        group_index = _finite("group_index", group_index, 1.0)
        return -math.expm1(-rate_hz * group_index * length_km / SPEED_OF_LIGHT_KM_PER_S)
    raise InputError("mode", f"expected one of {', '.join(map(repr, DEPHASING_MODES))}, got {mode!r}")
