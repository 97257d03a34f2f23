"""Platforms and their Earth-fixed positions: TLE (SGP4), circular orbit, fixed point (UAV/HAP).

Every platform has ``ecef_km(time_utc) -> (n, 3)``: positions in km in the pseudo Earth-fixed frame
(PEF: the TEME frame rotated by Greenwich mean sidereal time; ITRF without polar motion, ~10 m).

* :class:`TLE`: two-line elements propagated with the ``sgp4`` library (Vallado's C++ SGP4/SDP4,
  WGS72 constants as the element sets assume; vectorised with ``SatrecArray``). SGP4 gives TEME
  positions; r_PEF = R_z(theta_GMST82(UT1)) r_TEME with UT1 = UTC (see :mod:`qrate.orbit.times`).
  A TLE is only as good as its age: expect 1-3 km of along-track error per day from its epoch.
* :class:`CircularOrbit`: a Kepler circle of radius a = 6378.137 km + altitude in the same true-of-
  date inertial frame, optionally with the secular J2 drift of the node and of the argument of
  latitude; ``rotating_earth=False`` makes the Earth-fixed frame the inertial frame (an Earth that
  does not turn, for closed-form checks).
* :class:`FixedPlatform`: a UAV or high-altitude platform holding station at a geodetic point.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qrate.errors import InputError
from qrate.orbit.stations import WGS84_A_KM, _finite, check_latitude_deg, check_longitude_deg, geodetic_to_ecef_km
from qrate.orbit.times import (
    SECONDS_PER_DAY,
    as_utc_array,
    format_utc,
    gmst82_rad,
    julian_date,
    parse_utc,
)

#: Earth's gravitational parameter (km^3/s^2, WGS84/EGM96) and J2 (EGM96), for circular orbits
MU_EARTH_KM3_S2 = 398600.4418
J2_EARTH = 1.08262668e-3


@runtime_checkable
class Platform(Protocol):
    """Anything with a name and Earth-fixed positions at UTC epochs."""

    name: str

    def ecef_km(self, time_utc: Any) -> np.ndarray:
        """ECEF positions (km), shape (n, 3), at the epochs ``time_utc``."""
        ...

    def _ecef_jd(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray: ...


def teme_to_ecef_km(r_teme_km: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Rotate TEME (or any true-of-date inertial) positions (n, 3) to PEF: R_z(GMST) r."""
    theta = gmst82_rad(jd, fr)
    c, s = np.cos(theta), np.sin(theta)
    r = np.asarray(r_teme_km, dtype=np.float64)
    out = np.empty(r.shape)
    out[..., 0] = c * r[..., 0] + s * r[..., 1]
    out[..., 1] = c * r[..., 1] - s * r[..., 0]
    out[..., 2] = r[..., 2]
    return out


# ---------------------------------------------------------------------------------------------------
# TLE


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of a TLE line's first 68 columns: digits count their value, '-' counts 1."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


# blanks and numeric fields, 0-based column slices (CelesTrak / NORAD format)
_BLANKS = {1: (1, 8, 17, 32, 43, 52, 61, 63), 2: (1, 7, 16, 25, 33, 42, 51)}
_NUMERIC_1 = {"epoch": (18, 32), "first derivative of mean motion": (33, 43)}
_NUMERIC_2 = {
    "inclination": (8, 16),
    "right ascension of the node": (17, 25),
    "argument of perigee": (34, 42),
    "mean anomaly": (43, 51),
    "mean motion": (52, 63),
}
_EXPONENT_FIELDS_1 = {"second derivative of mean motion": (44, 52), "BSTAR drag term": (53, 61)}
_ALPHA5 = set(string.ascii_uppercase) - {"I", "O"}


def _satnum(text: str, field_name: str) -> str:
    if text.isdigit() or (text[0] in _ALPHA5 and text[1:].isdigit()) or (text[0] == " " and text.strip().isdigit()):
        return text.strip()
    raise InputError(field_name, f"columns 3-7 must hold the catalogue number, got {text!r}")


def check_tle_line(text: Any, number: int) -> str:
    """Validate one TLE line (length, line number, blank columns, numeric fields, checksum).

    Trailing whitespace (newline, CR) is dropped. Raises :class:`InputError` naming
    ``tle.line1`` or ``tle.line2``.
    """
    field_name = f"tle.line{number}"
    if not isinstance(text, str):
        raise InputError(field_name, f"expected a string, got {type(text).__name__}")
    line = text.rstrip()
    if not line.isascii() or not line.isprintable():
        raise InputError(field_name, "contains non-ASCII or control characters")
    if len(line) != 69:
        raise InputError(field_name, f"expected 69 characters, got {len(line)}: {line!r}")
    if line[0] != str(number):
        raise InputError(field_name, f"must start with the line number {number}, got {line[0]!r}")
    for col in _BLANKS[number]:
        if line[col] != " ":
            raise InputError(field_name, f"column {col + 1} must be blank, got {line[col]!r} (malformed line)")
    _satnum(line[2:7], field_name)
    for name, (a, b) in (_NUMERIC_1 if number == 1 else _NUMERIC_2).items():
        try:
            float(line[a:b])
        except ValueError:
            raise InputError(field_name, f"columns {a + 1}-{b}: {name} is not a number: {line[a:b]!r}") from None
    if number == 1:
        for name, (a, b) in _EXPONENT_FIELDS_1.items():
            chunk = line[a:b].strip()
            if chunk and not all(c in "0123456789+- ." for c in chunk):
                raise InputError(field_name, f"columns {a + 1}-{b}: {name} is malformed: {line[a:b]!r}")
    else:
        if not line[26:33].strip().isdigit():
            raise InputError(
                field_name, f"columns 27-33: eccentricity (implied leading '0.') must be digits, got {line[26:33]!r}"
            )
        if not 0.0 <= float(line[8:16]) <= 180.0:
            raise InputError(field_name, f"inclination {line[8:16].strip()} is outside [0, 180] degrees")
        if float(line[52:63]) <= 0.0:
            raise InputError(field_name, f"mean motion {line[52:63].strip()} must be > 0 revolutions per day")
    if not line[68].isdigit():
        raise InputError(field_name, f"column 69 must be the checksum digit, got {line[68]!r}")
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        raise InputError(
            field_name, f"checksum digit is {line[68]} but the line sums to {expected} (mod 10): corrupted or mistyped line"
        )
    return line


@dataclass(frozen=True)
class TLE:
    """A satellite from a NORAD two-line element set, propagated with SGP4 (WGS72 constants).

    Attributes:
        line1, line2: the two 69-column lines (validated: format and checksums).
        name: label in outputs (default: the catalogue number).

    Raises:
        InputError: naming ``tle.line1`` / ``tle.line2`` for a malformed line, a bad checksum,
            mismatched catalogue numbers or elements SGP4 rejects.
    """

    line1: str
    line2: str
    name: str = ""
    _satrec: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from sgp4.api import WGS72, Satrec

        l1, l2 = check_tle_line(self.line1, 1), check_tle_line(self.line2, 2)
        if l1[2:7].strip() != l2[2:7].strip():
            raise InputError("tle.line2", f"catalogue number {l2[2:7].strip()} differs from line 1's {l1[2:7].strip()}")
        satrec = Satrec.twoline2rv(l1, l2, WGS72)
        if satrec.error != 0:
            raise InputError("tle.line2", f"SGP4 rejects these elements (error {satrec.error})")
        object.__setattr__(self, "line1", l1)
        object.__setattr__(self, "line2", l2)
        object.__setattr__(self, "name", self.name.strip() if self.name and self.name.strip() else l1[2:7].strip())
        object.__setattr__(self, "_satrec", satrec)

    @property
    def satnum(self) -> str:
        """The catalogue number as printed in the lines (alpha-5 letters kept)."""
        return self.line1[2:7].strip()

    @property
    def epoch_utc(self) -> np.datetime64:
        """Epoch of the elements (UTC)."""
        s = self._satrec
        days = (s.jdsatepoch - 2440587.5) + s.jdsatepochF
        return np.datetime64(0, "ns") + np.timedelta64(round(days * 86_400e9), "ns")

    def teme_km(self, time_utc: Any) -> tuple[np.ndarray, np.ndarray]:
        """TEME position (km) and velocity (km/s), each (n, 3), at ``time_utc``."""
        return propagate_teme([self], *julian_date(as_utc_array(time_utc)))

    def _ecef_jd(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
        r, _ = propagate_teme([self], jd, fr)
        return teme_to_ecef_km(r[0], jd, fr)

    def ecef_km(self, time_utc: Any) -> np.ndarray:
        """PEF (Earth-fixed) positions (km), shape (n, 3)."""
        return self._ecef_jd(*julian_date(as_utc_array(time_utc)))


def propagate_teme(tles: Sequence[TLE], jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SGP4 for several satellites at once (``SatrecArray``): TEME r (km), v (km/s), (n_sat, n, 3).

    Raises:
        InputError: naming ``tle`` when SGP4 fails at some epoch (decayed orbit, eccentricity out of
            range): the window lies where these elements are no longer valid.
    """
    from sgp4.api import SGP4_ERRORS, SatrecArray

    jd = np.ascontiguousarray(jd, dtype=np.float64).reshape(-1)
    fr = np.ascontiguousarray(fr, dtype=np.float64).reshape(-1)
    e, r, v = SatrecArray([t._satrec for t in tles]).sgp4(jd, fr)
    if e.any():
        i, k = (int(x[0]) for x in np.nonzero(e))
        when = format_utc(np.datetime64(0, "ns") + np.timedelta64(round(((jd[k] - 2440587.5) + fr[k]) * 86_400e9), "ns"))
        raise InputError(
            "tle", f"SGP4 cannot propagate satellite {tles[i].name} at {when}: {SGP4_ERRORS.get(int(e[i, k]), 'error')}"
        )
    return r, v


# ---------------------------------------------------------------------------------------------------
# circular orbit


@dataclass(frozen=True)
class CircularOrbit:
    """A circular orbit: r(t) = a [cos u cos O - sin u cos i sin O, cos u sin O + sin u cos i cos O, sin u sin i].

    The frame is the true-of-date inertial frame TLEs use (TEME), so Earth-fixed positions follow
    from the same GMST rotation. u (argument of latitude) grows at n = sqrt(mu / a^3); with
    ``j2=True`` the first-order secular rates are added:
    dO/dt = -3/2 n J2 (R/a)^2 cos i and du/dt = n [1 + 3/2 J2 (R/a)^2 (4 cos^2 i - 1)].

    Attributes:
        altitude_km: height above the WGS84 equatorial radius 6378.137 km (a = 6378.137 + h), > 0.
        inclination_deg: [0, 180].
        raan_deg: right ascension of the ascending node at ``epoch_utc``.
        arg_latitude_deg: argument of latitude u at ``epoch_utc`` (0 at the ascending node).
        epoch_utc: epoch of ``raan_deg`` / ``arg_latitude_deg`` (anything ``parse_utc`` reads).
        j2: add the secular J2 drift.
        rotating_earth: False makes the Earth-fixed frame coincide with the inertial frame.
        name: label in outputs.
    """

    altitude_km: float
    inclination_deg: float
    raan_deg: float
    arg_latitude_deg: float
    epoch_utc: Any
    j2: bool = False
    rotating_earth: bool = True
    name: str = "circular"

    def __post_init__(self) -> None:
        alt = _finite("altitude_km", self.altitude_km)
        if alt <= 0.0:
            raise InputError("altitude_km", f"expected an orbit altitude > 0 km, got {alt:g}")
        inc = _finite("inclination_deg", self.inclination_deg)
        if not 0.0 <= inc <= 180.0:
            raise InputError("inclination_deg", f"expected an inclination in [0, 180] degrees, got {inc:g}")
        object.__setattr__(self, "altitude_km", alt)
        object.__setattr__(self, "inclination_deg", inc)
        object.__setattr__(self, "raan_deg", _finite("raan_deg", self.raan_deg))
        object.__setattr__(self, "arg_latitude_deg", _finite("arg_latitude_deg", self.arg_latitude_deg))
        object.__setattr__(self, "epoch_utc", parse_utc(self.epoch_utc, "epoch_utc"))

    @property
    def radius_km(self) -> float:
        """Orbit radius a (km)."""
        return WGS84_A_KM + self.altitude_km

    @property
    def mean_motion_rad_s(self) -> float:
        """Kepler mean motion n = sqrt(mu / a^3) (rad/s)."""
        return math.sqrt(MU_EARTH_KM3_S2 / self.radius_km**3)

    @property
    def rates_rad_s(self) -> tuple[float, float]:
        """(dRAAN/dt, du/dt) in rad/s, with the J2 terms when ``j2``."""
        n = self.mean_motion_rad_s
        if not self.j2:
            return 0.0, n
        k = 1.5 * J2_EARTH * (WGS84_A_KM / self.radius_km) ** 2
        cos_i = math.cos(math.radians(self.inclination_deg))
        return -k * n * cos_i, n * (1.0 + k * (4.0 * cos_i * cos_i - 1.0))

    @property
    def period_s(self) -> float:
        """Time for u to advance by 2 pi (nodal period with J2)."""
        return 2.0 * math.pi / self.rates_rad_s[1]

    def _inertial_jd(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
        jd0, fr0 = julian_date(np.array([self.epoch_utc]))
        dt = ((np.asarray(jd) - jd0[0]) + (np.asarray(fr) - fr0[0])) * SECONDS_PER_DAY
        raan_rate, u_rate = self.rates_rad_s
        node = math.radians(self.raan_deg) + raan_rate * dt
        u = math.radians(self.arg_latitude_deg) + u_rate * dt
        inc = math.radians(self.inclination_deg)
        cu, su, co, so = np.cos(u), np.sin(u), np.cos(node), np.sin(node)
        a = self.radius_km
        return np.stack(
            [a * (cu * co - su * math.cos(inc) * so), a * (cu * so + su * math.cos(inc) * co), a * su * math.sin(inc)], axis=-1
        )

    def inertial_km(self, time_utc: Any) -> np.ndarray:
        """Inertial (true-of-date) positions (km), shape (n, 3)."""
        return self._inertial_jd(*julian_date(as_utc_array(time_utc)))

    def _ecef_jd(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
        r = self._inertial_jd(jd, fr)
        return teme_to_ecef_km(r, jd, fr) if self.rotating_earth else r

    def ecef_km(self, time_utc: Any) -> np.ndarray:
        """Earth-fixed positions (km), shape (n, 3)."""
        return self._ecef_jd(*julian_date(as_utc_array(time_utc)))


# ---------------------------------------------------------------------------------------------------
# fixed platform


@dataclass(frozen=True)
class FixedPlatform:
    """A UAV / high-altitude platform holding a fixed geodetic position (WGS84).

    Attributes:
        latitude_deg, longitude_deg: geodetic position (deg; longitude east, [-180, 360]).
        altitude_m: height above the ellipsoid in metres, > 0.
        name: label in outputs.
    """

    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    name: str = "fixed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "latitude_deg", check_latitude_deg(self.latitude_deg))
        object.__setattr__(self, "longitude_deg", check_longitude_deg(self.longitude_deg))
        alt = _finite("altitude_m", self.altitude_m)
        if alt <= 0.0:
            raise InputError("altitude_m", f"expected a platform altitude > 0 m, got {alt:g}")
        object.__setattr__(self, "altitude_m", alt)

    def _ecef_jd(self, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
        r = geodetic_to_ecef_km(self.latitude_deg, self.longitude_deg, self.altitude_m)
        return np.broadcast_to(r, (np.asarray(jd).size, 3)).copy()

    def ecef_km(self, time_utc: Any) -> np.ndarray:
        """The fixed ECEF position (km) repeated for each epoch, shape (n, 3)."""
        return self._ecef_jd(*julian_date(as_utc_array(time_utc)))


#: days from a TLE's epoch beyond which SGP4 predictions are flagged (errors grow by ~1-3 km per day)
TLE_AGE_WARNING_DAYS = 30.0


def tle_age_warning(platform: Any, start_utc: Any, end_utc: Any, limit_days: float = TLE_AGE_WARNING_DAYS) -> str | None:
    """A one-line warning when a window reaches more than ``limit_days`` from a TLE's epoch (None otherwise,
    and for platforms that are not TLEs): SGP4 along-track errors grow by kilometres per day away from it."""
    if not isinstance(platform, TLE):
        return None
    epoch = platform.epoch_utc
    days = max(abs(float((parse_utc(t) - epoch) / np.timedelta64(1, "ns"))) / 86400e9 for t in (start_utc, end_utc))
    if days <= limit_days:
        return None
    return (
        f"warning: the window reaches {days:.0f} days from the TLE epoch {format_utc(epoch)}; SGP4 accuracy degrades"
        f" (km per day) beyond ~{limit_days:g} days: use elements of the period"
    )
