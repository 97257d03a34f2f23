"""Integrands as C functions (Numba ``cfunc``) for ``scipy.integrate.quad``: QUADPACK calls them without
Python in between. Imported on first use (compiling, or loading Numba's cache, costs start-up time that a
run which never integrates should not pay)."""

from __future__ import annotations

import math
from typing import Any

import numba


@numba.cfunc(numba.types.double(numba.types.intc, numba.types.CPointer(numba.types.double)), cache=True)
def weibull_mean_integrand(n: int, xx: Any) -> float:
    """exp(y - e^y - scale_l e^(half_shape y)) at ``xx = (y, ln scale_l, half_shape)``, zero where the last
    exponent passes 700: the integrand of :func:`qrate.channels.freespace.weibull_mean_integral`, with the
    same floating-point operations as its Python form."""
    y = xx[0]
    e = xx[1] + xx[2] * y
    if e > 700.0:
        return 0.0
    return math.exp(y - math.exp(y) - math.exp(e))
