"""The free-space link: one domain object per downlink, holding every rule that relates its fields.

A :class:`FreeSpaceLink` is the hardware of a downlink (divergence, pointing, receiver aperture,
turbulence, atmosphere, transmittance model, transmitter/receiver efficiencies) with its measured
loss table and its sky background. A scenario builds it once, while it is validated
(:attr:`qrate.scenario.schema.FreeSpaceLinkSpec.link`), and hands that object to the engine,
``qrate link``, ``qrate plot`` and ``provision --rates physical``; the physics of the link lives in
:mod:`qrate.channels.freespace`. The rules that relate fields (one aperture, a loss table with
``model = "measured"``, one atmosphere, one turbulence description) are written here only: the
scenario schema delegates to them. This module is cheap to import (no NumPy, Numba or SciPy), so the
schema can build links without slowing start-up.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from qrate.errors import InputError

MODELS = ("exact", "weibull", "measured")
"""Per-shot transmittance models."""
BEAMS = ("gaussian", "far_field")
"""Beam-radius laws: W = sqrt(W0^2 + theta^2 L^2), or the far field W = theta L."""
TURBULENCE_PATHS = ("full", "last_10km")
"""Turbulent part of the path for a constant C_n^2: all of it (UAV) or the last 10 km (satellite)."""
TURBULENCE_PROFILES = ("none", "hv")
"""``none``: constant ``cn2``; ``hv``: the Hufnagel-Valley profile integrated along the slant path."""
#: the sun's elevation (deg) below which ``sky = "auto"`` is night (nautical twilight), and above which day
NIGHT_BELOW_DEG, DAY_ABOVE_DEG = -12.0, 0.0


def _check_number(name: str, value: Any, *, positive: bool = False, upper: float = math.inf) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy scalars are registered too
        raise InputError(name, f"expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0.0 or (positive and v == 0.0) or v > upper:
        bound = "> 0" if positive else ">= 0"
        extra = f" and <= {upper:g}" if math.isfinite(upper) else ""
        raise InputError(name, f"expected a finite number {bound}{extra}, got {value!r}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(name, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")


def receiver_radius_m(aperture_radius_m: float | None = None, aperture_diameter_m: float | None = None) -> float:
    """The receiver aperture radius (m) from exactly one of its radius or diameter (never guessed).

    Raises:
        InputError: naming both fields when both or neither are given, else the bad one.
    """
    if (aperture_radius_m is None) == (aperture_diameter_m is None):
        raise InputError("aperture_radius_m/aperture_diameter_m", "give exactly one of the receiver aperture radius or diameter")
    if aperture_diameter_m is not None:
        _check_number("aperture_diameter_m", aperture_diameter_m, positive=True)
        return 0.5 * float(aperture_diameter_m)
    _check_number("aperture_radius_m", aperture_radius_m, positive=True)
    return float(aperture_radius_m)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FreeSpaceLink:
    """One downlink from a platform to a ground receiver.

    Attributes:
        divergence_rad: transmit half-angle divergence theta (1/e^2 intensity).
        pointing_rad: per-axis pointing jitter (std, rad); the centroid std is pointing_rad * L.
        aperture_radius_m: receiver aperture **radius** a (use :meth:`from_aperture` for a diameter).
        wavelength_m: wavelength; sets the waist W0 = lambda / (pi theta).
        beam: ``gaussian`` (W = sqrt(W0^2 + theta^2 L^2)) or ``far_field`` (W = theta L).
        model: per-shot transmittance model, ``exact``, ``weibull`` or ``measured``.
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
        measured_loss: for ``model = "measured"``, the tabulated loss (:class:`qrate.channels.measured.MeasuredLoss`)
            that replaces the beam, pointing, turbulence and atmosphere factors.
        background: the sky light at the receiver (a scenario's ``background`` table: ``sky``,
            ``radiance_w_m2_sr_nm``, ``fov_full_angle_rad``, ``filter_bandwidth_nm``, ``gate_s``,
            ``click_probability``), or None for none.
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
    background: Any = None

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
        if self.turbulence_profile == "hv" and self.cn2 != 0.0:
            raise InputError("turbulence_profile", 'give either turbulence_profile = "hv" or a constant cn2, not both')
        if (self.model == "measured") != (self.measured_loss is not None):
            raise InputError("loss_table", 'a loss_table goes with model = "measured", and only with it')

    @classmethod
    def from_aperture(
        cls, *, aperture_radius_m: float | None = None, aperture_diameter_m: float | None = None, **kwargs: Any
    ) -> FreeSpaceLink:
        """Build a link from exactly one of ``aperture_radius_m`` / ``aperture_diameter_m`` (:func:`receiver_radius_m`)."""
        return cls(aperture_radius_m=receiver_radius_m(aperture_radius_m, aperture_diameter_m), **kwargs)

    @classmethod
    def from_aperture_diameter(cls, aperture_diameter_m: float, **kwargs: Any) -> FreeSpaceLink:
        """Build a link from a receiver aperture **diameter** (the radius is half of it)."""
        return cls.from_aperture(aperture_diameter_m=aperture_diameter_m, **kwargs)

    @property
    def hardware(self) -> float:
        """Transmitter × receiver efficiency × the extra loss: a constant factor of every transmittance."""
        return self.transmitter_efficiency * self.receiver_efficiency * 10.0 ** (-self.extra_loss_db / 10.0)

    def background_click_probability(self, sun_elevation_deg: float | None = None, detector_efficiency: float = 1.0) -> float:
        """Background clicks per gate at this link's receiver (0 without a background): sky photons
        through the receiver optics (``receiver_efficiency``) and the detector (``detector_efficiency``);
        ``sky = "auto"`` follows the sun's elevation (night without one)."""
        bg = self.background
        if bg is None:
            return 0.0
        from qrate.channels.background import BackgroundSpec

        sky = bg.sky
        if sky == "auto":
            if sun_elevation_deg is None or sun_elevation_deg < NIGHT_BELOW_DEG:
                sky = "night"
            else:
                sky = "day" if sun_elevation_deg > DAY_ABOVE_DEG else "moonlit"  # twilight: a brighter night
        spec = BackgroundSpec(
            sky=sky,
            radiance_w_m2_sr_nm=bg.radiance_w_m2_sr_nm,
            fov_full_angle_rad=bg.fov_full_angle_rad,
            filter_bandwidth_nm=bg.filter_bandwidth_nm,
            gate_s=bg.gate_s,
            receiver_efficiency=self.receiver_efficiency * detector_efficiency,
            click_probability=bg.click_probability,
        )
        return spec.click_probability_per_gate(self.wavelength_m, self.aperture_radius_m)
