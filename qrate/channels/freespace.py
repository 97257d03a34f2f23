"""Free-space downlinks: per-geometry budget, per-shot transmittance.

A :class:`~qrate.channels.link.FreeSpaceLink` (module :mod:`qrate.channels.link`) describes the hardware
(divergence, pointing, receiver aperture radius, turbulence, atmosphere, transmittance model);
:func:`link_budget` evaluates it at one
:class:`~qrate.geometry.PlatformGeometry`; :func:`sample_transmittance` draws i.i.d. per-shot
transmittances (Numba) and :func:`mean_transmittance` gives their exact mean.

Models (see "Exact transmittance model", "Log-negative Weibull transmittance model" and "Measured loss tables" in
qrate/MODELS.md):
    ``exact``: Gaussian beam displaced by r ~ Rayleigh(sigma): eta = T_atm (1 - Q1(2r/W, 2a/W));
        mean T_atm (1 - exp(-2a^2 / (W^2 + 4 sigma^2))).
    ``weibull``: Vasylyev-Semenov-Vogel log-negative Weibull (the Yehia et al. framework):
        eta = T_atm eta0 exp(-(r/R)^lambda); mean by ``scipy.integrate.quad``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qrate.channels import _kernels
from qrate.channels.atmosphere import atmospheric_transmittance
from qrate.channels.beam import (
    ExactTable,
    aperture_efficiency,
    beam_radius_m,
    beam_waist_m,
    exact_table,
    vasylyev_parameters,
)
from qrate.channels.link import MODELS, TURBULENCE_PROFILES, FreeSpaceLink
from qrate.channels.turbulence import TURBULENT_LAYER_M, beam_wander_variance_m2
from qrate.errors import InputError, count_arg
from qrate.geometry import PlatformGeometry

__all__ = [
    "MODELS",
    "TURBULENCE_PROFILES",
    "FreeSpaceLink",
    "LinkBudget",
    "link_budget",
    "mean_transmittance",
    "sample_transmittance",
    "sample_transmittance_blocks",
    "weibull_mean_integral",
]


@dataclass(frozen=True, slots=True)
class LinkBudget:
    """A link evaluated at one geometry; everything the per-shot kernels need.

    Attributes:
        link, geometry: the inputs.
        beam_radius_m: beam radius W at the receiver.
        sigma_m: per-axis beam-centroid std: pointing (pointing_rad * L) and turbulence in quadrature.
        eta0: fraction 1 - exp(-2a^2/W^2) captured from a centred beam.
        t_atm: atmospheric transmittance along the line of sight.
        weibull_shape: Vasylyev shape lambda.
        weibull_scale_m: Vasylyev scale R.
        exact_table: tabulated exact efficiency (``exact`` model only).
        factor: constant factor of every transmittance: T_atm × the link's hardware factor (for
            ``measured``: the table's transmittance at this geometry × the hardware factor).
    """

    link: FreeSpaceLink
    geometry: PlatformGeometry
    beam_radius_m: float
    sigma_m: float
    eta0: float
    t_atm: float
    weibull_shape: float
    weibull_scale_m: float
    exact_table: ExactTable | None = field(default=None, compare=False, repr=False)
    factor: float = 1.0

    @property
    def weibull_k(self) -> float:
        """Shape 2/lambda of the Weibull variable x with eta = T_atm eta0 exp(-weibull_scale_l x)."""
        return 2.0 / self.weibull_shape

    @property
    def weibull_scale_l(self) -> float:
        """(2 sigma^2 / R^2)^(lambda/2), netsquid-freespace's ``scaleL``."""
        return (2.0 * self.sigma_m**2 / self.weibull_scale_m**2) ** (0.5 * self.weibull_shape)


def link_budget(link: FreeSpaceLink, geometry: PlatformGeometry) -> LinkBudget:
    """Evaluate ``link`` at ``geometry``: beam radius, jitter, eta0, T_atm, Vasylyev parameters.

    Raises:
        InputError: ``turbulence_path='last_10km'`` with turbulence on a slant range <= 10 km.
    """
    length_m = 1.0e3 * geometry.slant_range_km
    if link.cn2 > 0.0 and link.turbulence_path == "last_10km" and length_m <= TURBULENT_LAYER_M:
        raise InputError(
            "turbulence_path",
            f"'last_10km' needs a slant range > 10 km, got {geometry.slant_range_km:g} km; use 'full'",
        )
    w = beam_radius_m(length_m, link.divergence_rad, link.wavelength_m, link.beam)
    waist = beam_waist_m(link.divergence_rad, link.wavelength_m)
    if link.turbulence_profile == "hv":
        from qrate.channels.turbulence import HufnagelValley, slant_beam_wander_variance_m2

        profile = HufnagelValley(ground_cn2=link.hv_ground_cn2, rms_wind_m_per_s=link.hv_wind_m_per_s)
        var_turb = slant_beam_wander_variance_m2(
            min(geometry.zenith_rad, math.radians(89.0)), waist, profile=profile, platform_altitude_m=1e3 * geometry.altitude_km
        )
    else:
        var_turb = beam_wander_variance_m2(link.cn2, length_m, link.divergence_rad, waist, link.turbulence_path)
    sigma = math.sqrt((link.pointing_rad * length_m) ** 2 + var_turb)
    shape, scale = vasylyev_parameters(link.aperture_radius_m, w)
    table = exact_table(link.aperture_radius_m / w) if link.model == "exact" else None
    if link.aerosol_model is not None:
        from qrate.channels.atmosphere import slant_transmittance

        t_atm = slant_transmittance(link.wavelength_m, geometry.zenith_rad, link.aerosol_model)
    else:
        t_atm = atmospheric_transmittance(link.t_atm_zenith, geometry.zenith_rad)
    factor = t_atm * link.hardware
    if link.measured_loss is not None:
        factor = link.measured_loss.mean_transmittance(geometry) * link.hardware
    if link.elevation_coupling is not None:
        factor *= link.elevation_coupling.efficiency(geometry)
    return LinkBudget(
        link=link,
        geometry=geometry,
        beam_radius_m=w,
        sigma_m=sigma,
        eta0=aperture_efficiency(link.aperture_radius_m, w),
        t_atm=t_atm,
        weibull_shape=shape,
        weibull_scale_m=scale,
        exact_table=table,
        factor=factor,
    )


def sample_transmittance(budget: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` i.i.d. per-shot transmittances (float64, T_atm included) with the budget's model."""
    n = count_arg("n", n)
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng", f"expected a numpy.random.Generator, got {type(rng).__name__}")
    if budget.link.model == "measured":
        return _measured_samples(budget, n, rng)
    if budget.link.model == "exact":
        table = budget.exact_table
        if table is None:  # budget built by hand
            table = exact_table(budget.link.aperture_radius_m / budget.beam_radius_m)
        return _kernels.exact_transmittance(
            rng,
            n,
            budget.factor,
            budget.sigma_m / budget.beam_radius_m,
            table.u_lo,
            1.0 / table.step,
            table.values,
            table.slopes_step,
        )
    return _kernels.weibull_transmittance(rng, n, budget.factor * budget.eta0, budget.weibull_scale_l, 0.5 * budget.weibull_shape)


def _measured_samples(budget: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """The table's mean, times mean-one log-normal fading when it has a scintillation index (clipped to 1)."""
    table = budget.link.measured_loss
    if table.scintillation_index == 0.0:
        return np.full(n, budget.factor)
    from qrate.channels.turbulence import lognormal_fading

    return np.minimum(budget.factor * lognormal_fading(table.scintillation_index, n, rng), 1.0)


def sample_transmittance_blocks(budget: LinkBudget, n_shots: int, shots_per_block: int, rng: np.random.Generator) -> np.ndarray:
    """Per-shot transmittances with time-correlated fading: consecutive blocks of ``shots_per_block``
    shots share one draw (the last block may be partial); ceil(n_shots / shots_per_block) draws."""
    n_shots = count_arg("n_shots", n_shots)
    shots_per_block = count_arg("shots_per_block", shots_per_block)
    if shots_per_block == 0:
        raise InputError("shots_per_block", "expected an integer >= 1, got 0")
    n_blocks = -(-n_shots // shots_per_block)
    return np.repeat(sample_transmittance(budget, n_blocks, rng), shots_per_block)[:n_shots]


@functools.cache
def _weibull_integrand() -> Any:
    """The integrand of :func:`weibull_mean_integral` as a ``scipy.LowLevelCallable`` (a Numba C function)."""
    from scipy import LowLevelCallable

    from qrate.channels._integrands import weibull_mean_integrand

    return LowLevelCallable(weibull_mean_integrand.ctypes)


@functools.lru_cache(maxsize=4096)  # pure: a search re-evaluates the same geometry many times (a sweep never)
def weibull_mean_integral(scale_l: float, half_shape: float) -> float:
    """E[exp(-scale_l E^half_shape)], E ~ Exp(1), by ``scipy.integrate.quad``.

    Integrated over y = ln E, exp(y - e^y - scale_l e^(half_shape y)), from 40 e-folds below the
    knee y* = -ln(scale_l)/half_shape (where the integrand turns over; a QUADPACK break point) to
    ln 60 (the neglected tails are < 1e-17 relative and < 1e-26 absolute). Exponents are formed in
    logs so that large shapes or scales cannot overflow. The integrand is a compiled C function
    (:func:`qrate.channels._integrands.weibull_mean_integrand`): QUADPACK evaluates it some 240 times a call
    without going through Python, with the same floating-point operations as a Python integrand.
    """
    if scale_l == 0.0:
        return 1.0
    log_s = math.log(scale_l)
    knee = -log_s / half_shape
    y_hi = math.log(60.0)
    y_lo = min(knee, 0.0) - 40.0
    points = [knee] if y_lo < knee < y_hi else None
    from scipy import integrate

    value, _ = integrate.quad(
        _weibull_integrand(), y_lo, y_hi, args=(log_s, half_shape), points=points, epsabs=0.0, epsrel=1e-11, limit=400
    )
    return float(value)


def mean_transmittance(budget: LinkBudget) -> float:
    """Mean of the per-shot transmittance of :func:`sample_transmittance` (T_atm included).

    ``exact``: T_atm (1 - exp(-2a^2 / (W^2 + 4 sigma^2))) (closed form).
    ``weibull``: T_atm eta0 integral_0^inf e^(-u) exp(-scaleL u^(lambda/2)) du (``quad``).
    """
    if budget.link.model == "measured":
        return budget.factor
    if budget.link.model == "exact":
        a, w, s = budget.link.aperture_radius_m, budget.beam_radius_m, budget.sigma_m
        return budget.factor * -math.expm1(-2.0 * a * a / (w * w + 4.0 * s * s))
    return budget.factor * budget.eta0 * weibull_mean_integral(budget.weibull_scale_l, 0.5 * budget.weibull_shape)
