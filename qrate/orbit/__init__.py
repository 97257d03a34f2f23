"""Orbit geometry: stations, platforms (TLE/SGP4, circular orbit, fixed UAV/HAP), Sun, passes.

Units are in the names (``range_km``, ``elevation_deg``, ``altitude_m``); epochs are UTC
``datetime64`` (see :mod:`qrate.orbit.times`). Nothing here reads or downloads data files.

Modules: :mod:`~qrate.orbit.times` (UTC, Julian dates, GMST), :mod:`~qrate.orbit.stations`
(WGS84, look angles), :mod:`~qrate.orbit.propagate` (platforms), :mod:`~qrate.orbit.sun`
(analytic Sun), :mod:`~qrate.orbit.passes` (per-epoch geometry and pass search).
"""

from __future__ import annotations

from qrate.orbit.passes import Pass, StationPass, Track, find_passes, look_angles, pass_track
from qrate.orbit.propagate import (
    TLE,
    CircularOrbit,
    FixedPlatform,
    Platform,
    check_tle_line,
    propagate_teme,
    teme_to_ecef_km,
    tle_checksum,
)
from qrate.orbit.stations import LookAngles, Station, ecef_to_geodetic, geodetic_to_ecef_km, look_angles_ecef
from qrate.orbit.sun import sun_elevation_deg, sun_ra_dec_deg
from qrate.orbit.times import format_utc, gmst_rad, parse_utc

__all__ = [
    "TLE",
    "CircularOrbit",
    "FixedPlatform",
    "LookAngles",
    "Pass",
    "Platform",
    "Station",
    "StationPass",
    "Track",
    "check_tle_line",
    "ecef_to_geodetic",
    "find_passes",
    "format_utc",
    "geodetic_to_ecef_km",
    "gmst_rad",
    "look_angles",
    "look_angles_ecef",
    "parse_utc",
    "pass_track",
    "propagate_teme",
    "sun_elevation_deg",
    "sun_ra_dec_deg",
    "teme_to_ecef_km",
    "tle_checksum",
]
