"""Ground stations on the WGS84 ellipsoid: geodetic <-> ECEF and topocentric look angles.

WGS84: a = 6378.137 km, 1/f = 298.257223563, e^2 = f (2 - f). A geodetic point (phi, lambda, h) is
at ECEF r = ((N + h) cos phi cos lambda, (N + h) cos phi sin lambda, (N (1 - e^2) + h) sin phi)
with N = a / sqrt(1 - e^2 sin^2 phi). Look angles are taken in the station's local
east-north-up frame, "up" being the ellipsoid normal (geodetic vertical):
sin(elevation) = (r_sat - r_gs) . up / |r_sat - r_gs|, azimuth from north through east.
Elevations are geometric (no refraction: at the horizon refraction lifts a source by ~0.57 deg).
ECEF here is the pseudo Earth-fixed frame of :mod:`qrate.orbit.propagate` (no polar motion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qrate.errors import InputError
from qrate.geometry import STATION_ALTITUDE_RANGE_M

WGS84_A_KM = 6378.137
WGS84_INV_F = 298.257223563
WGS84_F = 1.0 / WGS84_INV_F
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)


def _finite(field_name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(field_name, f"expected a number, got {value!r}") from None
    if not math.isfinite(value):
        raise InputError(field_name, f"expected a finite number, got {value!r}")
    return value


def check_latitude_deg(value: float, field_name: str = "latitude_deg") -> float:
    """A geodetic latitude in [-90, 90] degrees, else :class:`InputError` naming ``field_name``."""
    value = _finite(field_name, value)
    if not -90.0 <= value <= 90.0:
        raise InputError(field_name, f"expected a latitude in [-90, 90] degrees, got {value:g}")
    return value


def check_longitude_deg(value: float, field_name: str = "longitude_deg") -> float:
    """A longitude in [-180, 360] degrees east (both conventions), else :class:`InputError`."""
    value = _finite(field_name, value)
    if not -180.0 <= value <= 360.0:
        raise InputError(field_name, f"expected a longitude in [-180, 360] degrees east, got {value:g}")
    return value


@dataclass(frozen=True)
class Station:
    """A ground station (telescope) at a WGS84 geodetic position.

    Attributes:
        name: label used in outputs (unique within one pass search).
        latitude_deg: geodetic latitude, [-90, 90], north positive.
        longitude_deg: longitude, east positive; [-180, 360] accepted.
        altitude_m: height above the ellipsoid in metres, in :data:`qrate.geometry.STATION_ALTITUDE_RANGE_M` ([-500, 9000]).

    Raises:
        InputError: naming ``latitude_deg``, ``longitude_deg``, ``altitude_m`` or ``name``.
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    _ecef_km: np.ndarray = field(init=False, repr=False, compare=False)
    _enu: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("name", f"expected a non-empty station name, got {self.name!r}")
        lat = check_latitude_deg(self.latitude_deg)
        lon = check_longitude_deg(self.longitude_deg)
        alt = _finite("altitude_m", self.altitude_m)
        lo, hi = STATION_ALTITUDE_RANGE_M
        if not lo <= alt <= hi:
            raise InputError("altitude_m", f"expected a station altitude in [{lo:g}, {hi:g}] m, got {alt:g}")
        object.__setattr__(self, "latitude_deg", lat)
        object.__setattr__(self, "longitude_deg", lon)
        object.__setattr__(self, "altitude_m", alt)
        object.__setattr__(self, "_ecef_km", geodetic_to_ecef_km(lat, lon, alt))
        object.__setattr__(self, "_enu", enu_basis(lat, lon))

    @property
    def ecef_km(self) -> np.ndarray:
        """ECEF position (km), shape (3,)."""
        return self._ecef_km.copy()

    @property
    def enu_basis(self) -> np.ndarray:
        """Rows: unit east, north, up (geodetic normal) vectors in ECEF, shape (3, 3)."""
        return self._enu.copy()


def geodetic_to_ecef_km(
    latitude_deg: np.ndarray | float, longitude_deg: np.ndarray | float, altitude_m: np.ndarray | float = 0.0
) -> np.ndarray:
    """WGS84 geodetic coordinates to ECEF (km), shape ``broadcast(...) + (3,)``. No validation."""
    phi = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lam = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    h_km = np.asarray(altitude_m, dtype=np.float64) / 1000.0
    sin_phi = np.sin(phi)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    rho = (n + h_km) * np.cos(phi)
    return np.stack(np.broadcast_arrays(rho * np.cos(lam), rho * np.sin(lam), (n * (1.0 - WGS84_E2) + h_km) * sin_phi), axis=-1)


def ecef_to_geodetic(r_ecef_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (km), shape (..., 3), to WGS84 ``(latitude_deg, longitude_deg in (-180, 180], altitude_m)``.

    Bowring's iteration from the parametric latitude; five rounds reach sub-millimetre accuracy
    from the ground up to beyond geostationary altitude (the pole is handled exactly).
    """
    r = np.asarray(r_ecef_km, dtype=np.float64)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    lam = np.arctan2(y, x)
    ep2 = WGS84_E2 / (1.0 - WGS84_E2)
    beta = np.arctan2(z, (1.0 - WGS84_F) * p)
    for _ in range(5):
        phi = np.arctan2(z + ep2 * WGS84_B_KM * np.sin(beta) ** 3, p - WGS84_E2 * WGS84_A_KM * np.cos(beta) ** 3)
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(phi), np.cos(phi))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    # h = p cos phi + z sin phi - a^2/N, well conditioned at every latitude
    h_km = p * cos_phi + z * sin_phi - WGS84_A_KM * WGS84_A_KM / n
    return np.degrees(phi), np.degrees(lam), h_km * 1000.0


def enu_basis(latitude_deg: float, longitude_deg: float) -> np.ndarray:
    """Rows: the local east, north and up (ellipsoid normal) unit vectors in ECEF, shape (3, 3)."""
    phi, lam = math.radians(latitude_deg), math.radians(longitude_deg)
    sp, cp, sl, cl = math.sin(phi), math.cos(phi), math.sin(lam), math.cos(lam)
    return np.array([[-sl, cl, 0.0], [-sp * cl, -sp * sl, cp], [cp * cl, cp * sl, sp]])


@dataclass(frozen=True)
class LookAngles:
    """Topocentric geometry of a platform from stations; arrays have shape (n_stations, n_times).

    Attributes:
        range_km: slant range.
        elevation_deg: elevation above the geodetic horizon, [-90, 90].
        azimuth_deg: azimuth from north through east, [0, 360).
    """

    range_km: np.ndarray
    elevation_deg: np.ndarray
    azimuth_deg: np.ndarray


def look_angles_ecef(stations: Sequence[Station], r_ecef_km: np.ndarray) -> LookAngles:
    """Range, elevation and azimuth from each station to ECEF positions ``r_ecef_km`` (n, 3).

    One matrix product rotates all positions into every station's east-north-up frame, so the cost
    is a few array passes per station.
    """
    r = np.asarray(r_ecef_km, dtype=np.float64).reshape(-1, 3)
    basis = np.concatenate([s._enu for s in stations], axis=0)  # (3 n_st, 3)
    origin = np.concatenate([s._enu @ s._ecef_km for s in stations])  # station position in its own ENU
    # (3 n_st, 3) @ (3, n): numpy's matmul is slow for an (n, 3) @ (3, k) product
    enu = (basis @ np.ascontiguousarray(r.T) - origin[:, None]).reshape(len(stations), 3, -1)  # (n_st, 3, n)
    east, north, up = enu[:, 0], enu[:, 1], enu[:, 2]
    horizontal = np.hypot(east, north)
    range_km = np.hypot(horizontal, up)
    elevation_deg = np.degrees(np.arctan2(up, horizontal))
    azimuth_deg = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
    return LookAngles(range_km, elevation_deg, azimuth_deg)
