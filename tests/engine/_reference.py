"""Independent expectations for the engine tests: closed forms from PHYSICS.md §2-4, by hand.

Nothing here imports qrate: geometry, beam radius, jitter, the exact and Vasylyev means, fiber
transmittance and the Pauli bookkeeping are re-derived with numpy/scipy only.
"""

from __future__ import annotations

import math

from scipy import integrate, special

R_E = 6371.0


def slant_range_km(altitude_km: float, ground_distance_km: float) -> float:
    """L = sqrt(R^2 + (R+H)^2 - 2 R (R+H) cos(D / 2R)) (platform above the midpoint)."""
    alpha = ground_distance_km / (2 * R_E)
    return math.sqrt(R_E**2 + (R_E + altitude_km) ** 2 - 2 * R_E * (R_E + altitude_km) * math.cos(alpha))


def beam_radius_m(length_m: float, theta: float, wavelength_m: float, beam: str) -> float:
    if beam == "far_field":
        return theta * length_m
    w0 = wavelength_m / (math.pi * theta)
    return math.sqrt(w0**2 + (theta * length_m) ** 2)


def sigma_m(length_m: float, pointing_rad: float, cn2: float, theta: float, wavelength_m: float) -> float:
    """Pointing and whole-path turbulence wander in quadrature: 1.919 Cn2 L^3 (2 W0)^(-1/3)."""
    w0 = wavelength_m / (math.pi * theta)
    return math.sqrt((pointing_rad * length_m) ** 2 + 1.919 * cn2 * length_m**3 * (2 * w0) ** (-1 / 3))


def exact_mean(a: float, w: float, s: float) -> float:
    """<eta> = 1 - exp(-2a^2 / (W^2 + 4 sigma^2))."""
    return 1 - math.exp(-2 * a * a / (w * w + 4 * s * s))


def weibull_mean(a: float, w: float, s: float) -> float:
    """Vasylyev log-negative Weibull mean by quad (PHYSICS.md §3.3, scaled Bessel functions)."""
    x = (a / w) ** 2
    eta0 = 1 - math.exp(-2 * x)
    d = 1 - special.i0e(4 * x)
    log_term = math.log(2 * eta0 / d)
    lam = 8 * x * special.i1e(4 * x) / d / log_term
    r = a * log_term ** (-1 / lam)
    c = (2 * s * s / (r * r)) ** (lam / 2)
    val, _ = integrate.quad(lambda u: math.exp(-u - c * u ** (lam / 2)), 0, math.inf, epsabs=1e-14, epsrel=1e-12, limit=200)
    return eta0 * val


def downlink_mean(
    altitude_km: float,
    ground_distance_km: float,
    *,
    theta: float,
    pointing_rad: float,
    a: float,
    beam: str,
    model: str,
    cn2: float = 0.0,
    wavelength_m: float = 1.55e-6,
) -> float:
    length_m = 1e3 * slant_range_km(altitude_km, ground_distance_km)
    w = beam_radius_m(length_m, theta, wavelength_m, beam)
    s = sigma_m(length_m, pointing_rad, cn2, theta, wavelength_m)
    return exact_mean(a, w, s) if model == "exact" else weibull_mean(a, w, s)


def fiber(length_km: float) -> float:
    return 0.9 * 10 ** (-0.018 * length_km)


def parity_flip(ps: list[float]) -> float:
    """Probability that an odd number of independent flips occurs: (1 - prod(1 - 2p)) / 2."""
    return 0.5 * (1 - math.prod(1 - 2 * p for p in ps))
