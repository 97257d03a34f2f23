"""Per-factor loss budget (dB) of a free-space downlink at one geometry.

The mean transmittance of :func:`qrate.channels.freespace.mean_transmittance` is split into
factors whose dB values add up to the total (link budgets in this form: J.-P. Bourgoin et al.,
New J. Phys. 15, 023006 (2013)):

* ``diffraction_db``: -10 log10 eta0, eta0 = 1 - exp(-2 a^2/W^2), the centred Gaussian beam of
  radius W on the receiver aperture of radius a;
* ``pointing_db``: 10 log10(eta0 / <eta>_pointing), the mean over the pointing jitter alone (the
  link's ``model``, C_n^2 = 0, no atmosphere);
* ``turbulence_db``: 10 log10(<eta>_pointing / <eta>_pointing+turbulence); with the link's own C_n^2
  (horizontal or last-10-km beam wander, :func:`qrate.channels.turbulence.beam_wander_variance_m2`)
  or, given a slant ``turbulence_profile``, the long-term beam broadening W -> W_LT of
  :func:`qrate.channels.turbulence.long_term_beam_radius_m` in the exact model
  <eta> = 1 - exp(-2 a^2/(W^2 + 4 sigma^2));
* ``atmosphere_db``: -10 log10 T_atm, T_zen^AM with the link's ``t_atm_zenith`` or the LOWTRAN7 table
  of :func:`qrate.channels.atmosphere.slant_transmittance` for an ``aerosol_model``;
* ``transmitter_db``, ``receiver_db``, ``extra_db``: hardware efficiencies (transmitter optics,
  receiver optics and coupling, anything else as a flat dB loss).

Because each factor is a ratio of successive means, the product of the factors is exactly the full
mean, so ``total_db`` is the loss the engine sees (plus the hardware factors).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from qrate.channels._checks import check_nonnegative, check_real
from qrate.channels.atmosphere import slant_transmittance
from qrate.channels.freespace import FreeSpaceLink, link_budget, mean_transmittance
from qrate.channels.turbulence import Profile, long_term_beam_radius_m
from qrate.errors import InputError
from qrate.geometry import PlatformGeometry

FACTORS = ("diffraction_db", "pointing_db", "turbulence_db", "atmosphere_db", "transmitter_db", "receiver_db", "extra_db")


def _db(ratio: float) -> float:
    """-10 log10(ratio): the loss in dB of a transmittance factor ``ratio`` (inf for 0)."""
    return math.inf if ratio <= 0.0 else 0.0 - 10.0 * math.log10(ratio)  # 0.0 - x turns -0.0 into 0.0


def _efficiency(field: str, value: float) -> float:
    return check_real(field, value, lo=0.0, hi=1.0, lo_open=True)


@dataclass(frozen=True)
class LossBudgetDb:
    """Loss factors in dB (positive = loss); see the module doc for each."""

    diffraction_db: float
    pointing_db: float
    turbulence_db: float
    atmosphere_db: float
    transmitter_db: float = 0.0
    receiver_db: float = 0.0
    extra_db: float = 0.0

    @property
    def total_db(self) -> float:
        """Sum of all factors."""
        return math.fsum(getattr(self, name) for name in FACTORS)

    @property
    def transmittance(self) -> float:
        """10^(-total/10)."""
        return 10.0 ** (-self.total_db / 10.0)

    def as_dict(self) -> dict[str, float]:
        """Every factor and ``total_db``, in dB."""
        out = {name: float(getattr(self, name)) for name in FACTORS}
        out["total_db"] = self.total_db
        return out


def loss_budget_db(
    link: FreeSpaceLink,
    geometry: PlatformGeometry,
    *,
    transmitter_efficiency: float | None = None,
    receiver_efficiency: float | None = None,
    extra_loss_db: float | None = None,
    aerosol_model: str | None = None,
    turbulence_profile: Profile | None = None,
    station_altitude_m: float = 0.0,
) -> LossBudgetDb:
    """Per-factor loss budget of ``link`` at ``geometry``.

    Args:
        link: the free-space link (divergence, pointing, aperture radius, wavelength, beam, model, C_n^2, T_zen).
        geometry: the line of sight (slant range, zenith angle, platform altitude).
        transmitter_efficiency: transmitter optics efficiency, in (0, 1] (default: the link's).
        receiver_efficiency: receiver optics, coupling and anything else multiplicative, in (0, 1]
            (default: the link's).
        extra_loss_db: any further flat loss (dB, >= 0; default: the link's).
        aerosol_model: a LOWTRAN7 aerosol model (``no_aerosol``, ``rural_23km``, ``rural_5km``,
            ``urban_5km``) to take T_zen from the table at the link's wavelength; needs
            ``link.t_atm_zenith == 1`` (one atmosphere, not two).
        turbulence_profile: a slant C_n^2 profile (e.g. ``turbulence.HV57``) for long-term beam
            broadening; needs ``link.cn2 == 0`` (one turbulence model, not two).
        station_altitude_m: station height above the ground of the profile (m).

    Raises:
        InputError: both atmosphere or both turbulence descriptions given; bad efficiencies.
    """
    eta_tx = _efficiency(
        "transmitter_efficiency", link.transmitter_efficiency if transmitter_efficiency is None else transmitter_efficiency
    )
    eta_rx = _efficiency("receiver_efficiency", link.receiver_efficiency if receiver_efficiency is None else receiver_efficiency)
    extra = check_nonnegative("extra_loss_db", link.extra_loss_db if extra_loss_db is None else extra_loss_db)
    if aerosol_model is not None:  # the link's own rule refuses two atmospheres
        link = dataclasses.replace(link, aerosol_model=aerosol_model)
    aerosol_model = link.aerosol_model
    link = dataclasses.replace(link, transmitter_efficiency=1.0, receiver_efficiency=1.0, extra_loss_db=0.0, aerosol_model=None)
    if turbulence_profile is not None and link.cn2 != 0.0:
        raise InputError("turbulence_profile", "give either the link's cn2 or a slant turbulence profile, not both")

    full = link_budget(link, geometry)
    # T_zen from the link, or from the LOWTRAN7 table at the link's wavelength
    t_atm = full.t_atm if aerosol_model is None else slant_transmittance(link.wavelength_m, geometry.zenith_rad, aerosol_model)

    no_atm = dataclasses.replace(link, t_atm_zenith=1.0)
    pointing_only = mean_transmittance(link_budget(dataclasses.replace(no_atm, cn2=0.0, turbulence_profile="none"), geometry))
    if turbulence_profile is None:
        with_turbulence = mean_transmittance(link_budget(no_atm, geometry))
        turbulence_db = _db(with_turbulence / pointing_only) if pointing_only > 0.0 else 0.0
    else:
        a, w = link.aperture_radius_m, full.beam_radius_m
        sigma2 = (link.pointing_rad * 1e3 * geometry.slant_range_km) ** 2
        w_lt = long_term_beam_radius_m(
            link.wavelength_m,
            geometry.zenith_rad,
            w,
            platform_altitude_m=1e3 * geometry.altitude_km,
            profile=turbulence_profile,
            station_altitude_m=station_altitude_m,
        )
        exact_p = -math.expm1(-2.0 * a * a / (w * w + 4.0 * sigma2))
        exact_lt = -math.expm1(-2.0 * a * a / (w_lt * w_lt + 4.0 * sigma2))
        turbulence_db = _db(exact_lt / exact_p)
    return LossBudgetDb(
        diffraction_db=_db(full.eta0),
        pointing_db=_db(pointing_only / full.eta0),
        turbulence_db=turbulence_db,
        atmosphere_db=_db(t_atm),
        transmitter_db=_db(eta_tx),
        receiver_db=_db(eta_rx),
        extra_db=extra,
    )
