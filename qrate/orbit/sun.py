"""Analytic low-precision Sun: apparent direction and elevation at a station, no ephemeris files.

The Astronomical Almanac's low-precision formulae (The Astronomical Almanac 1996, p. C24; also
Meeus, *Astronomical Algorithms*, ch. 25 "low accuracy"), stated accurate to 0.01 degree in right
ascension and declination between 1950 and 2050 (and degrading slowly outside):

    n = JD - 2451545.0                          (days from J2000; UT is used for TT, 69 s ~ 0.0007 deg)
    L = 280.460 + 0.9856474 n                   mean longitude (deg)
    g = 357.528 + 0.9856003 n                   mean anomaly (deg)
    lambda = L + 1.915 sin g + 0.020 sin 2g     ecliptic longitude (deg)
    epsilon = 23.439 - 0.0000004 n              obliquity (deg)
    alpha = atan2(cos epsilon sin lambda, cos lambda),  delta = asin(sin epsilon sin lambda)

The local hour angle is H = GMST + longitude_east - alpha (GMST 1982, UT1 = UTC) and the geometric
elevation of the Sun's centre is sin h = sin phi sin delta + cos phi cos delta cos H with phi the
geodetic latitude (the ellipsoid normal defines the horizon). No refraction, no parallax (8.8").
Night: h < -12 deg (nautical) or < -18 deg (astronomical twilight's end).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qrate.orbit.times import JD_J2000, as_utc_array, gmst82_rad, julian_date

#: Sun elevation (deg) below which a station is in nautical / astronomical night
NAUTICAL_NIGHT_DEG = -12.0
ASTRONOMICAL_NIGHT_DEG = -18.0


def sun_ra_dec_rad(jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apparent right ascension and declination of the Sun (rad) at two-part Julian dates (UTC)."""
    n = (np.asarray(jd) - JD_J2000) + np.asarray(fr)
    mean_longitude = np.radians(np.mod(280.460 + 0.9856474 * n, 360.0))
    g = np.radians(np.mod(357.528 + 0.9856003 * n, 360.0))
    ecliptic_longitude = mean_longitude + np.radians(1.915 * np.sin(g) + 0.020 * np.sin(2.0 * g))
    obliquity = np.radians(23.439 - 0.0000004 * n)
    sin_lam = np.sin(ecliptic_longitude)
    ra = np.arctan2(np.cos(obliquity) * sin_lam, np.cos(ecliptic_longitude))
    dec = np.arcsin(np.sin(obliquity) * sin_lam)
    return ra, dec


def sun_ra_dec_deg(time_utc: Any) -> tuple[np.ndarray, np.ndarray]:
    """Apparent right ascension in [0, 360) and declination of the Sun, degrees, at ``time_utc``."""
    ra, dec = sun_ra_dec_rad(*julian_date(as_utc_array(time_utc)))
    return np.mod(np.degrees(ra), 360.0), np.degrees(dec)


def _elevation_deg(latitude_deg: Any, longitude_deg: Any, jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    ra, dec = sun_ra_dec_rad(jd, fr)
    hour_angle = gmst82_rad(jd, fr) + np.radians(np.asarray(longitude_deg, dtype=np.float64)) - ra
    phi = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    sin_h = np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(hour_angle)
    return np.degrees(np.arcsin(np.clip(sin_h, -1.0, 1.0)))


def sun_elevation_deg(latitude_deg: Any, longitude_deg: Any, time_utc: Any) -> np.ndarray:
    """Geometric elevation of the Sun's centre (deg) at a geodetic latitude/longitude (deg east).

    ``latitude_deg`` and ``longitude_deg`` broadcast against the 1-d array of epochs: pass scalars
    for one place, or arrays of shape (n_places, 1) for a (n_places, n_times) result.
    """
    return _elevation_deg(latitude_deg, longitude_deg, *julian_date(as_utc_array(time_utc)))
