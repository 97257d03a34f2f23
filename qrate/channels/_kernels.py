"""Numba kernels for per-shot free-space transmittance (see "Exact transmittance model" and "Log-negative
Weibull transmittance model" in qrate/MODELS.md).

Pure functions: scalars, arrays and a ``numpy.random.Generator`` in, a new array out; no
validation (see :mod:`qrate.channels.freespace`). Each shot draws one standard exponential E,
so the beam-centroid offset is r = sigma sqrt(2E) ~ Rayleigh(sigma); the draws are the same as
``rng.standard_exponential(n)`` and ``rng.weibull(k, n)`` on the same generator.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def weibull_transmittance(rng: np.random.Generator, n: int, peak: float, scale_l: float, half_shape: float) -> np.ndarray:
    """eta = peak * exp(-scale_l * E^half_shape), E ~ Exp(1).

    With peak = T_atm eta0, half_shape = lambda/2 and scale_l = (2 sigma^2 / R^2)^(lambda/2) this is
    T_atm eta0 exp(-(r/R)^lambda), r ~ Rayleigh(sigma): E^(lambda/2) is Weibull with shape 2/lambda.
    """
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = peak * math.exp(-scale_l * rng.standard_exponential() ** half_shape)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def hermite_lookup(u: float, u_lo: float, inv_step: float, values: np.ndarray, slopes_step: np.ndarray) -> float:
    """Cubic Hermite interpolation on a uniform grid, clamped to the end values and to [0, 1]."""
    last = values.size - 1
    t = (u - u_lo) * inv_step
    if t <= 0.0:
        eta = values[0]
    elif t >= last:
        eta = values[last]
    else:
        j = int(t)
        s = t - j
        s2 = s * s
        s3 = s2 * s
        eta = (
            (2.0 * s3 - 3.0 * s2 + 1.0) * values[j]
            + (s3 - 2.0 * s2 + s) * slopes_step[j]
            + (3.0 * s2 - 2.0 * s3) * values[j + 1]
            + (s3 - s2) * slopes_step[j + 1]
        )
    return min(max(eta, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def exact_transmittance(
    rng: np.random.Generator,
    n: int,
    t_atm: float,
    sigma_over_w: float,
    u_lo: float,
    inv_step: float,
    values: np.ndarray,
    slopes_step: np.ndarray,
) -> np.ndarray:
    """eta = t_atm * eta_exact(r/W) with r/W = sigma_over_w sqrt(2E), E ~ Exp(1), eta_exact tabulated."""
    out = np.empty(n, dtype=np.float64)
    c = sigma_over_w * math.sqrt(2.0)
    for i in range(n):
        u = c * math.sqrt(rng.standard_exponential())
        out[i] = t_atm * hermite_lookup(u, u_lo, inv_step, values, slopes_step)
    return out
