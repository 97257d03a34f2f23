"""Spherical-Earth geometry of a platform (LEO satellite, UAV) seen from ground stations.

Earth is a sphere of radius :data:`EARTH_RADIUS_KM`; ground stations sit at altitude 0 and
distances along the ground are great-circle arcs (see "Midpoint platform geometry" in qrate/MODELS.md).
Angles are radians unless a name ends in ``_deg``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qrate.errors import BelowHorizonError, InputError

STATION_ALTITUDE_RANGE_M = (-500.0, 9000.0)
"""Accepted ground-station altitudes (m above the WGS84 ellipsoid): a station is on the ground, from
the Dead Sea shore (-430 m) to the highest summit (8849 m). Anything aloft (UAV, balloon, HAP) is a
platform (a scenario's ``position``), not a station. Every station (scenario ``altitude_m``,
:class:`qrate.orbit.Station`, ``qrate passes --station``) obeys this one range."""

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class PlatformGeometry:
    """Line of sight from one ground station to a platform.

    Attributes:
        altitude_km: platform altitude above the sphere.
        ground_offset_km: arc length on the ground from the station to the sub-platform point.
        slant_range_km: straight-line station-platform distance.
        elevation_rad: elevation of the platform above the station's horizon, in (0, pi/2].
        zenith_rad: zenith angle pi/2 - elevation.
    """

    altitude_km: float
    ground_offset_km: float
    slant_range_km: float
    elevation_rad: float
    zenith_rad: float

    @property
    def elevation_deg(self) -> float:
        """Elevation in degrees."""
        return math.degrees(self.elevation_rad)

    @property
    def zenith_deg(self) -> float:
        """Zenith angle in degrees."""
        return math.degrees(self.zenith_rad)


def _check_nonnegative(field: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0.0:
        raise InputError(field, f"expected a finite number >= 0, got {value!r}")
    return value


def _check_altitude(altitude_km: float) -> float:
    altitude_km = _check_nonnegative("altitude_km", altitude_km)
    if altitude_km == 0.0:
        raise InputError("altitude_km", "expected a platform altitude > 0 km, got 0")
    return altitude_km


def horizon_ground_distance_km(altitude_km: float) -> float:
    """Largest ground distance D (km) between two stations with the platform above both horizons.

    The platform sits above the midpoint, so each station is D/2 away:
    D_max = 2 R_E arccos(R_E / (R_E + H)).
    """
    altitude_km = _check_altitude(altitude_km)
    return 2.0 * EARTH_RADIUS_KM * math.acos(EARTH_RADIUS_KM / (EARTH_RADIUS_KM + altitude_km))


def _geometry(altitude_km: float, ground_offset_km: float, field: str, scale: float) -> PlatformGeometry:
    """Geometry at arc offset ``ground_offset_km``; ``field`` = ``scale`` x offset names the user's input."""
    r_e, r_p = EARTH_RADIUS_KM, EARTH_RADIUS_KM + altitude_km
    half = ground_offset_km / EARTH_RADIUS_KM  # Earth-central angle alpha
    horizon = math.acos(EARTH_RADIUS_KM / r_p)
    if half >= horizon:
        raise BelowHorizonError(
            field,
            f"{scale * ground_offset_km:g} km puts a platform at {altitude_km:g} km altitude at or below "
            f"the horizon (elevation <= 0); the limit is {scale * EARTH_RADIUS_KM * horizon:.6g} km",
        )
    s = math.sin(0.5 * half)
    # L^2 = R^2 + (R+H)^2 - 2R(R+H)cos(alpha), written without cancellation at small alpha
    slant = math.sqrt(altitude_km**2 + 4.0 * r_e * r_p * s * s)
    vertical = altitude_km - 2.0 * r_p * s * s  # (R+H)cos(alpha) - R
    horizontal = r_p * math.sin(half)
    elevation = math.atan2(vertical, horizontal)
    zenith = math.atan2(horizontal, vertical)
    return PlatformGeometry(altitude_km, ground_offset_km, slant, elevation, zenith)


def platform_geometry(altitude_km: float, ground_offset_km: float) -> PlatformGeometry:
    """Geometry for one ground station and a platform whose sub-point is ``ground_offset_km`` away.

    Raises:
        InputError: negative, NaN or infinite inputs; altitude 0.
        BelowHorizonError: the platform is at or below the station's horizon.
    """
    altitude_km = _check_altitude(altitude_km)
    ground_offset_km = _check_nonnegative("ground_offset_km", ground_offset_km)
    return _geometry(altitude_km, ground_offset_km, "ground_offset_km", 1.0)


def look_geometry(slant_range_km: float, elevation_deg: float) -> PlatformGeometry:
    """Geometry of a line of sight given by its slant range and elevation (e.g. from an orbit).

    On the sphere of radius R: the platform is at r = sqrt(R² + L² + 2 R L sin e) from the centre,
    altitude r − R, and the ground offset is R·c with cos c = (R + L sin e) / r.

    Raises:
        InputError: a non-positive range or an elevation outside (0, 90] degrees.
    """
    length = _check_nonnegative("slant_range_km", slant_range_km)
    if length == 0.0:
        raise InputError("slant_range_km", "expected a slant range > 0 km, got 0")
    e = float(elevation_deg)
    if not (0.0 < e <= 90.0):
        raise BelowHorizonError("elevation_deg", f"expected an elevation in (0, 90] degrees, got {e:g}")
    el = math.radians(e)
    r = math.sqrt(EARTH_RADIUS_KM**2 + length**2 + 2.0 * EARTH_RADIUS_KM * length * math.sin(el))
    central = math.atan2(length * math.cos(el), EARTH_RADIUS_KM + length * math.sin(el))
    return PlatformGeometry(r - EARTH_RADIUS_KM, EARTH_RADIUS_KM * central, length, el, 0.5 * math.pi - el)


def midpoint_geometry(altitude_km: float, ground_distance_km: float) -> PlatformGeometry:
    """Geometry seen from either of two stations ``ground_distance_km`` apart, platform above the midpoint.

    The returned ``ground_offset_km`` is half the station distance.

    Raises:
        InputError: negative, NaN or infinite inputs; altitude 0.
        BelowHorizonError: the platform is at or below the stations' horizon; the message names
            the distance and the limit :func:`horizon_ground_distance_km`.
    """
    altitude_km = _check_altitude(altitude_km)
    ground_distance_km = _check_nonnegative("ground_distance_km", ground_distance_km)
    return _geometry(altitude_km, 0.5 * ground_distance_km, "ground_distance_km", 2.0)


def ground_distance_at_elevation_km(altitude_km: float, elevation_deg: float) -> float:
    """Station distance D (midpoint case) at which the platform is seen at ``elevation_deg``.

    D = 2 R_E [arccos(R_E cos(eps) / (R_E + H)) - eps]; e.g. the 20 degree elevation cut-off.
    """
    altitude_km = _check_altitude(altitude_km)
    elevation_deg = float(elevation_deg)
    if not (0.0 <= elevation_deg <= 90.0):
        raise InputError("elevation_deg", f"expected a value in [0, 90], got {elevation_deg!r}")
    eps = math.radians(elevation_deg)
    alpha = math.acos(EARTH_RADIUS_KM * math.cos(eps) / (EARTH_RADIUS_KM + altitude_km)) - eps
    return 2.0 * EARTH_RADIUS_KM * max(alpha, 0.0)
