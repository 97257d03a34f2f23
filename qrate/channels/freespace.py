"""Free-space downlinks: link specification, per-geometry budget, per-shot transmittance.

A :class:`FreeSpaceLink` describes the hardware (divergence, pointing, receiver aperture radius,
turbulence, atmosphere, transmittance model); :func:`link_budget` evaluates it at one
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

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qrate.channels import _kernels
from qrate.channels.atmosphere import atmospheric_transmittance
from qrate.channels.beam import (
    BEAMS,
    ExactTable,
    aperture_efficiency,
    beam_radius_m,
    beam_waist_m,
    exact_table,
    vasylyev_parameters,
)
from qrate.channels.turbulence import TURBULENCE_PATHS, TURBULENT_LAYER_M, beam_wander_variance_m2
from qrate.errors import InputError
from qrate.geometry import PlatformGeometry

MODELS = ("exact", "weibull", "measured")
TURBULENCE_PROFILES = ("none", "hv")


def _check_number(name: str, value: Any, *, positive: bool = False, upper: float = math.inf) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(name, f"expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0.0 or (positive and v == 0.0) or v > upper:
        bound = "> 0" if positive else ">= 0"
        extra = f" and <= {upper:g}" if math.isfinite(upper) else ""
        raise InputError(name, f"expected a finite number {bound}{extra}, got {value!r}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(name, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")


@dataclass(frozen=True)
class FreeSpaceLink:
    """One downlink from a platform to a ground receiver.

    Attributes:
        divergence_rad: transmit half-angle divergence theta (1/e^2 intensity).
        pointing_rad: per-axis pointing jitter (std, rad); the centroid std is pointing_rad * L.
        aperture_radius_m: receiver aperture **radius** a (use :meth:`from_aperture_diameter` for a diameter).
        wavelength_m: wavelength; sets the waist W0 = lambda / (pi theta).
        beam: ``gaussian`` (W = sqrt(W0^2 + theta^2 L^2)) or ``far_field`` (W = theta L).
        model: per-shot transmittance model, ``exact`` or ``weibull``.
        cn2: refractive-index structure constant C_n^2 (m^-2/3); 0 disables turbulence.
        turbulence_path: ``full`` (UAV, whole path turbulent) or ``last_10km`` (satellite).
        t_atm_zenith: atmospheric transmittance at the zenith, in [0, 1].
        aerosol_model: instead of ``t_atm_zenith``, the tabulated zenith transmittance at
            ``wavelength_m`` for this aerosol model (:func:`qrate.channels.atmosphere.slant_transmittance`).
        turbulence_profile: ``none`` (``cn2`` and ``turbulence_path`` as above) or ``hv``: the
            Hufnagel-Valley profile (``hv_ground_cn2``, ``hv_wind_m_per_s``) integrated along the slant
            path for the beam wander (:func:`qrate.channels.turbulence.slant_beam_wander_variance_m2`).
        transmitter_efficiency, receiver_efficiency, extra_loss_db: hardware factors (transmitter
            optics; telescope, optics and coupling into the detector; anything else as flat dB).
        elevation_coupling: an elevation-dependent receiver coupling (:class:`qrate.channels.coupling.ElevationCoupling`)
            multiplying every transmittance, or None (none).
        measured_loss: for ``model = "measured"``, the tabulated loss (:class:`qrate.channels.measured.MeasuredLoss`)
            that replaces the beam, pointing, turbulence and atmosphere factors.
    """

    divergence_rad: float
    pointing_rad: float
    aperture_radius_m: float
    wavelength_m: float = 1.55e-6
    beam: str = "gaussian"
    model: str = "weibull"
    cn2: float = 0.0
    turbulence_path: str = "full"
    t_atm_zenith: float = 1.0
    aerosol_model: str | None = None
    turbulence_profile: str = "none"
    hv_ground_cn2: float = 1.7e-14
    hv_wind_m_per_s: float = 21.0
    transmitter_efficiency: float = 1.0
    receiver_efficiency: float = 1.0
    extra_loss_db: float = 0.0
    measured_loss: Any = None
    elevation_coupling: Any = None

    @classmethod
    def from_spec(cls, spec: Any) -> FreeSpaceLink:
        """The link a scenario's free-space spec describes (:class:`qrate.scenario.schema.FreeSpaceLinkSpec`)."""
        return cls(
            divergence_rad=spec.divergence_rad,
            pointing_rad=spec.pointing_rad,
            aperture_radius_m=spec.receiver_radius_m,
            wavelength_m=spec.wavelength_m,
            beam=spec.beam,
            model=spec.model,
            cn2=spec.cn2,
            turbulence_path=spec.turbulence_path,
            t_atm_zenith=spec.t_atm_zenith,
            aerosol_model=spec.aerosol_model,
            turbulence_profile=spec.turbulence_profile,
            hv_ground_cn2=spec.hv_ground_cn2,
            hv_wind_m_per_s=spec.hv_wind_m_per_s,
            transmitter_efficiency=spec.transmitter_efficiency,
            receiver_efficiency=spec.receiver_efficiency,
            extra_loss_db=spec.extra_loss_db,
            measured_loss=spec.measured_loss_table(),
            elevation_coupling=spec.elevation_coupling_model(),
        )

    def __post_init__(self) -> None:
        _check_number("divergence_rad", self.divergence_rad, positive=True)
        _check_number("pointing_rad", self.pointing_rad)
        _check_number("aperture_radius_m", self.aperture_radius_m, positive=True)
        _check_number("wavelength_m", self.wavelength_m, positive=True)
        _check_choice("beam", self.beam, BEAMS)
        _check_choice("model", self.model, MODELS)
        _check_number("cn2", self.cn2)
        _check_choice("turbulence_path", self.turbulence_path, TURBULENCE_PATHS)
        _check_number("t_atm_zenith", self.t_atm_zenith, upper=1.0)
        _check_choice("turbulence_profile", self.turbulence_profile, TURBULENCE_PROFILES)
        _check_number("hv_ground_cn2", self.hv_ground_cn2, upper=1e-10)
        _check_number("hv_wind_m_per_s", self.hv_wind_m_per_s, upper=1000.0)
        _check_number("transmitter_efficiency", self.transmitter_efficiency, positive=True, upper=1.0)
        _check_number("receiver_efficiency", self.receiver_efficiency, positive=True, upper=1.0)
        _check_number("extra_loss_db", self.extra_loss_db, upper=300.0)
        if self.aerosol_model is not None and self.t_atm_zenith != 1.0:
            raise InputError("aerosol_model", "give either aerosol_model or t_atm_zenith < 1, not both")
        if (self.model == "measured") != (self.measured_loss is not None):
            raise InputError("measured_loss", 'a loss table goes with model = "measured", and only with it')

    @property
    def hardware(self) -> float:
        """Transmitter × receiver efficiency × the extra loss: a constant factor of every transmittance."""
        return self.transmitter_efficiency * self.receiver_efficiency * 10.0 ** (-self.extra_loss_db / 10.0)

    @classmethod
    def from_aperture_diameter(cls, aperture_diameter_m: float, **kwargs: Any) -> FreeSpaceLink:
        """Build a link from a receiver aperture **diameter** (the radius is half of it)."""
        _check_number("aperture_diameter_m", aperture_diameter_m, positive=True)
        return cls(aperture_radius_m=0.5 * float(aperture_diameter_m), **kwargs)

    @classmethod
    def from_aperture(
        cls, *, aperture_radius_m: float | None = None, aperture_diameter_m: float | None = None, **kwargs: Any
    ) -> FreeSpaceLink:
        """Build a link from exactly one of ``aperture_radius_m`` / ``aperture_diameter_m`` (never guessed)."""
        if (aperture_radius_m is None) == (aperture_diameter_m is None):
            raise InputError(
                "aperture_radius_m/aperture_diameter_m",
                "give exactly one of the receiver aperture radius or diameter",
            )
        if aperture_diameter_m is not None:
            return cls.from_aperture_diameter(aperture_diameter_m, **kwargs)
        return cls(aperture_radius_m=aperture_radius_m, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
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


def _check_count(name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(name, f"expected an integer >= 0, got {n!r}")
    return int(n)


def sample_transmittance(budget: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` i.i.d. per-shot transmittances (float64, T_atm included) with the budget's model."""
    n = _check_count("n", n)
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
    n_shots = _check_count("n_shots", n_shots)
    shots_per_block = _check_count("shots_per_block", shots_per_block)
    if shots_per_block == 0:
        raise InputError("shots_per_block", "expected an integer >= 1, got 0")
    n_blocks = -(-n_shots // shots_per_block)
    return np.repeat(sample_transmittance(budget, n_blocks, rng), shots_per_block)[:n_shots]


def weibull_mean_integral(scale_l: float, half_shape: float) -> float:
    """E[exp(-scale_l E^half_shape)], E ~ Exp(1), by ``scipy.integrate.quad``.

    Integrated over y = ln E, exp(y - e^y - scale_l e^(half_shape y)), from 40 e-folds below the
    knee y* = -ln(scale_l)/half_shape (where the integrand turns over; a QUADPACK break point) to
    ln 60 (the neglected tails are < 1e-17 relative and < 1e-26 absolute). Exponents are formed in
    logs so that large shapes or scales cannot overflow.
    """
    if scale_l == 0.0:
        return 1.0
    log_s = math.log(scale_l)
    knee = -log_s / half_shape
    y_hi = math.log(60.0)
    y_lo = min(knee, 0.0) - 40.0

    def integrand(y: float) -> float:
        e = log_s + half_shape * y
        return 0.0 if e > 700.0 else math.exp(y - math.exp(y) - math.exp(e))

    points = [knee] if y_lo < knee < y_hi else None
    from scipy import integrate

    value, _ = integrate.quad(integrand, y_lo, y_hi, points=points, epsabs=0.0, epsrel=1e-11, limit=400)
    return value


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
