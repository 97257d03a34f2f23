"""Elevation-dependent receiver coupling: why real downlink losses rise faster than geometry at low elevation.

A ground receiver couples the focused satellite light through a field stop (a pinhole, a fibre
core or the detector's active area). Atmospheric seeing and the residual tracking error spread the
spot; both grow towards the horizon, so the fraction passing the stop falls. For a Gaussian spot of
1/e^2 angular radius s(z) on a circular stop of angular radius rho, the coupled fraction is

    eta_c(z) = 1 - exp(-2 rho^2 / s(z)^2),

and with s(z)^2 = s_zen^2 (sec z)^q (Kolmogorov seeing alone: q = 6/5, from r0 ~ (cos z)^(3/5);
residual tracking error of a photon-starved beacon tracker and the seeing in its sensor: steeper)

    eta_c(z) = 1 - exp(-u0 cos^q z),   u0 = 2 rho^2 / s_zen^2.

:class:`ElevationCoupling` is parameterised by its loss at a reference elevation (default 20 deg)
and the exponent q; u0 follows. Near the zenith eta_c -> 1 (no loss); below the knee the loss
grows as 10 q log10(sec z) dB. See "Elevation-dependent receiver coupling" in qrate/MODELS.md for
the calibration against the Micius downlinks (Liao et al., Nature 549, 43 (2017); Yin et al.,
Science 356, 1140 (2017)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qrate.channels._checks import check_real
from qrate.errors import InputError
from qrate.geometry import PlatformGeometry

#: calibration to the Liao et al. (2017) Xinglong losses (qrate/MODELS.md, "Elevation-dependent receiver coupling")
MICIUS_2017_REFERENCE_LOSS_DB = 2.66
MICIUS_2017_EXPONENT = 4.0
MICIUS_2017_RECEIVER_EFFICIENCY = 0.1388


@dataclass(frozen=True)
class ElevationCoupling:
    """Field-stop coupling eta_c = 1 - exp(-u0 cos^q z) of a receiver whose spot grows towards the horizon.

    Attributes:
        reference_loss_db: coupling loss -10 log10 eta_c at ``reference_elevation_deg`` (dB, > 0).
        reference_elevation_deg: elevation (deg, in (0, 90)) where the loss is given.
        exponent: q, the power of sec z in the spot's squared angular size (> 0).
        name: the field path used in error messages.
    """

    reference_loss_db: float
    reference_elevation_deg: float = 20.0
    exponent: float = MICIUS_2017_EXPONENT
    name: str = "coupling"

    def __post_init__(self) -> None:
        check_real(f"{self.name}.reference_loss_db", self.reference_loss_db, lo=0.0, hi=100.0, lo_open=True)
        check_real(
            f"{self.name}.reference_elevation_deg", self.reference_elevation_deg, lo=0.0, hi=90.0, lo_open=True, hi_open=True
        )
        check_real(f"{self.name}.exponent", self.exponent, lo=0.0, hi=20.0, lo_open=True)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, name: str = "coupling") -> ElevationCoupling:
        """Build from ``{"reference_loss_db": ..., "reference_elevation_deg": ..., "exponent": ...}``."""
        unknown = sorted(set(data) - {"reference_loss_db", "reference_elevation_deg", "exponent"})
        if unknown:
            raise InputError(f"{name}.{unknown[0]}", "unknown key")
        if "reference_loss_db" not in data:
            raise InputError(f"{name}.reference_loss_db", "missing")
        return cls(
            data["reference_loss_db"],
            data.get("reference_elevation_deg", 20.0),
            data.get("exponent", MICIUS_2017_EXPONENT),
            name,
        )

    @property
    def u0(self) -> float:
        """2 rho^2 / s_zen^2: the stop-to-spot ratio at the zenith that gives the reference loss."""
        u_ref = -math.log1p(-(10.0 ** (-self.reference_loss_db / 10.0)))
        return u_ref / math.sin(math.radians(self.reference_elevation_deg)) ** self.exponent

    def efficiency_at(self, elevation_deg: float) -> float:
        """eta_c at ``elevation_deg`` (deg, in (0, 90]); 0 at or below the horizon."""
        if elevation_deg <= 0.0:
            return 0.0
        return -math.expm1(-self.u0 * math.sin(math.radians(min(elevation_deg, 90.0))) ** self.exponent)

    def loss_db_at(self, elevation_deg: float) -> float:
        """-10 log10 eta_c (dB) at ``elevation_deg``."""
        eta = self.efficiency_at(elevation_deg)
        return math.inf if eta <= 0.0 else 0.0 - 10.0 * math.log10(eta)

    def efficiency(self, geometry: PlatformGeometry) -> float:
        """eta_c at a geometry (its elevation 90 deg - zenith angle)."""
        return self.efficiency_at(90.0 - math.degrees(geometry.zenith_rad))


def micius_2017_coupling() -> ElevationCoupling:
    """The calibration fitted to the Liao et al. (2017) Xinglong losses: 2.66 dB at 20 deg, q = 4
    (with a receiver efficiency of :data:`MICIUS_2017_RECEIVER_EFFICIENCY`)."""
    return ElevationCoupling(MICIUS_2017_REFERENCE_LOSS_DB, 20.0, MICIUS_2017_EXPONENT, name="micius_2017")
