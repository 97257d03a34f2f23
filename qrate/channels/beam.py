"""Gaussian beam on a circular receiver aperture: beam radius, capture efficiency, exact and
Vasylyev-Semenov-Vogel transmittance of a displaced beam (see "Free-space downlinks" in qrate/MODELS.md).

Lengths in metres; ``u = r / W`` and ``b = a / W`` are the beam offset and the aperture radius in
units of the beam radius W (1/e^2 intensity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

#: grid step in u = r/W of the exact-efficiency table; cubic Hermite error ~ step^4/384 * max|eta''''|
EXACT_TABLE_STEP = 2.0e-3
#: the table spans u in [b - EXACT_TABLE_HALF_WIDTH, b + EXACT_TABLE_HALF_WIDTH] (clipped at 0);
#: outside it eta equals its end values to double precision (the edge falls off like exp(-2 (u-b)^2))
EXACT_TABLE_HALF_WIDTH = 7.0


def beam_waist_m(divergence_rad: float, wavelength_m: float) -> float:
    """Waist radius W0 = lambda / (pi theta) of a Gaussian beam with far-field half-angle ``divergence_rad``."""
    return wavelength_m / (math.pi * divergence_rad)


def beam_radius_m(length_m: float, divergence_rad: float, wavelength_m: float, beam: str) -> float:
    """Beam radius W after ``length_m``: sqrt(W0^2 + theta^2 L^2) (``gaussian``) or theta L (``far_field``)."""
    if beam == "far_field":
        return divergence_rad * length_m
    return math.hypot(beam_waist_m(divergence_rad, wavelength_m), divergence_rad * length_m)


def aperture_efficiency(aperture_radius_m: float, beam_radius_m: float) -> float:
    """Fraction eta0 = 1 - exp(-2 a^2 / W^2) of a centred beam captured by an aperture of radius a."""
    return -math.expm1(-2.0 * (aperture_radius_m / beam_radius_m) ** 2)


def _one_minus_i0e(x: float) -> float:
    """1 - exp(-x) I0(x) without cancellation for small x (series of I0 - 1 below x = 0.5)."""
    if x >= 0.5:
        return 1.0 - float(special.i0e(x))
    q, term, total, k = 0.25 * x * x, 1.0, 0.0, 0
    while True:
        k += 1
        term *= q / (k * k)
        total += term
        if term < 1e-18 * total:
            break
    return -math.expm1(-x) - math.exp(-x) * total


def vasylyev_parameters(aperture_radius_m: float, beam_radius_m: float) -> tuple[float, float]:
    """Shape lambda and scale R (m) of the log-negative Weibull model eta = eta0 exp(-(r/R)^lambda).

    Vasylyev, Semenov, Vogel, PRL 108, 220501 (2012), with X = a^2/W^2 and exponentially scaled
    Bessel functions e^(-4X) I_n(4X) = i_ne(4X), so that a >> W does not overflow.
    """
    x = (aperture_radius_m / beam_radius_m) ** 2
    eta0 = -math.expm1(-2.0 * x)
    one_minus_i0 = _one_minus_i0e(4.0 * x)
    log_term = math.log(2.0 * eta0 / one_minus_i0)
    shape = 8.0 * x * float(special.i1e(4.0 * x)) / one_minus_i0 / log_term
    scale = aperture_radius_m * log_term ** (-1.0 / shape)
    return shape, scale


def exact_efficiency(u: np.ndarray | float, b: float) -> np.ndarray:
    """Exact captured fraction eta(u) = 1 - Q1(2u, 2b) of a beam offset by u = r/W (aperture b = a/W).

    Computed as the non-central chi-square CDF ``ncx2.cdf((2b)^2, 2, (2u)^2)``.
    """
    u = np.asarray(u, dtype=np.float64)
    from scipy import stats  # imported on use: scipy.stats takes ~0.25 s to import

    return stats.ncx2.cdf(4.0 * b * b, 2.0, 4.0 * u * u)


def exact_efficiency_slope(u: np.ndarray | float, b: float) -> np.ndarray:
    """d eta / d u = -4 b exp(-2 (u - b)^2) e^(-4ub) I1(4ub), from dQ1(x, y)/dx = y e^(-(x^2+y^2)/2) I1(xy)."""
    u = np.asarray(u, dtype=np.float64)
    return -4.0 * b * np.exp(-2.0 * (u - b) ** 2) * special.i1e(4.0 * u * b)


@dataclass(frozen=True, eq=False)
class ExactTable:
    """Cubic-Hermite table of :func:`exact_efficiency` on a uniform grid in u (read-only arrays).

    Attributes:
        b: aperture radius over beam radius.
        u_lo: first grid point; below it eta = values[0].
        step: grid step; above the last point eta = values[-1] (~0).
        values: eta at the grid points.
        slopes_step: d eta / d u at the grid points, times ``step``.
    """

    b: float
    u_lo: float
    step: float
    values: np.ndarray
    slopes_step: np.ndarray

    def __call__(self, u: np.ndarray | float) -> np.ndarray:
        """Interpolate eta at offsets ``u`` (vectorised numpy twin of the Numba kernel's lookup)."""
        u = np.asarray(u, dtype=np.float64)
        last = self.values.size - 1
        t = np.clip((u - self.u_lo) / self.step, 0.0, float(last))
        j = np.minimum(t.astype(np.int64), last - 1)
        s = t - j
        s2, s3 = s * s, s * s * s
        eta = (
            (2.0 * s3 - 3.0 * s2 + 1.0) * self.values[j]
            + (s3 - 2.0 * s2 + s) * self.slopes_step[j]
            + (3.0 * s2 - 2.0 * s3) * self.values[j + 1]
            + (s3 - s2) * self.slopes_step[j + 1]
        )
        return np.clip(eta, 0.0, 1.0)


@lru_cache(maxsize=64)
def exact_table(b: float) -> ExactTable:
    """Tabulate the exact efficiency for aperture-to-beam ratio ``b`` (cached per ``b``)."""
    u_lo = max(0.0, b - EXACT_TABLE_HALF_WIDTH)
    u_hi = b + EXACT_TABLE_HALF_WIDTH
    n = math.ceil((u_hi - u_lo) / EXACT_TABLE_STEP) + 1
    u = u_lo + EXACT_TABLE_STEP * np.arange(n)
    values = np.ascontiguousarray(exact_efficiency(u, b))
    slopes = np.ascontiguousarray(exact_efficiency_slope(u, b) * EXACT_TABLE_STEP)
    values.setflags(write=False)
    slopes.setflags(write=False)
    return ExactTable(b, u_lo, EXACT_TABLE_STEP, values, slopes)
