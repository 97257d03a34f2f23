"""UTC epochs, Julian dates and Greenwich sidereal time.

Time convention of :mod:`qrate.orbit`: every public function takes epochs as ``time_utc``, a numpy
``datetime64`` array (any unit; converted to ``datetime64[ns]``) or anything ``parse_utc`` accepts
for a single epoch (ISO 8601 text, :class:`datetime.datetime`, ``datetime64``). Values are UTC
read as POSIX time: every day has 86 400 s, so a leap second cannot be named (none falls inside a
pass search unless the window spans 30 June / 31 December of a leap-second year, and then the
epochs after it are off by 1 s). Internally an epoch is a two-part Julian date ``(jd, fr)``:
``jd`` a whole or half day and ``fr`` the day fraction, which keeps microsecond resolution.

Earth orientation uses UT1 = UTC (|UT1 - UTC| < 0.9 s, i.e. at most 0.42 km of station motion at
the equator, well below the 1-3 km/day drift of a TLE) and no polar motion (about 10 m).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from qrate.errors import InputError

#: Julian date of the POSIX epoch 1970-01-01T00:00:00 UTC
JD_UNIX_EPOCH = 2440587.5
#: Julian date of J2000.0 (2000-01-01T12:00:00)
JD_J2000 = 2451545.0
SECONDS_PER_DAY = 86400.0
_NS_PER_DAY = 86_400_000_000_000

#: Earth rotation rate implied by the GMST 1982 formula (rad per UT1 second), linear term only
EARTH_ROTATION_RAD_S = (1.0 + 8640184.812866 / 3155760000.0) * 2.0 * math.pi / SECONDS_PER_DAY


def parse_utc(value: Any, field: str = "time_utc") -> np.datetime64:
    """One UTC epoch as ``datetime64[ns]``.

    Accepts ISO 8601 text (``2016-12-19T16:45``, ``2016-12-19 16:45:00Z``, ``...+08:00``),
    :class:`datetime.datetime` (naive = UTC; aware ones are converted), :class:`datetime.date`
    and ``numpy.datetime64``.

    Raises:
        InputError: naming ``field`` when the value is not a time.
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise InputError(field, "expected a UTC time, got NaT")
        return value.astype("datetime64[ns]")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise InputError(field, f"expected an ISO 8601 UTC time such as 2016-12-19T16:45:00, got {text!r}") from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return np.datetime64(value, "ns")
    if isinstance(value, _dt.date):
        return np.datetime64(value, "D").astype("datetime64[ns]")
    raise InputError(field, f"expected a UTC time (ISO text, datetime or numpy.datetime64), got {value!r}")


def as_utc_array(time_utc: Any, field: str = "time_utc") -> np.ndarray:
    """``time_utc`` as a 1-d ``datetime64[ns]`` array (a scalar becomes length 1)."""
    if isinstance(time_utc, np.ndarray) and np.issubdtype(time_utc.dtype, np.datetime64):
        out = time_utc.astype("datetime64[ns]").reshape(-1)
    elif isinstance(time_utc, (str, _dt.date, np.datetime64)):
        out = np.array([parse_utc(time_utc, field)])
    else:
        out = np.array([parse_utc(v, field) for v in time_utc], dtype="datetime64[ns]")
    if np.isnat(out).any():
        raise InputError(field, "contains NaT")
    return out


def format_utc(t: np.datetime64, unit: str = "ms") -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    return str(np.datetime_as_string(np.asarray(t, dtype="datetime64[ns]"), unit=unit)) + "Z"  # type: ignore[call-overload]


def julian_date(time_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-part Julian date ``(jd, fr)`` of ``datetime64`` epochs: ``jd`` ends in .5, ``0 <= fr < 1``."""
    ns = np.asarray(time_utc, dtype="datetime64[ns]").astype(np.int64)
    days, rem = np.divmod(ns, _NS_PER_DAY)
    return JD_UNIX_EPOCH + days.astype(np.float64), rem.astype(np.float64) / _NS_PER_DAY


def julian_date_offsets(t0: np.datetime64, offsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(jd, fr)`` of ``t0 + offsets_s`` (float seconds), without rounding the offsets to ns."""
    jd0, fr0 = julian_date(np.array([t0]))
    offsets_s = np.asarray(offsets_s, dtype=np.float64)
    return np.full(offsets_s.shape, jd0[0]), fr0[0] + offsets_s / SECONDS_PER_DAY


def offsets_to_utc(t0: np.datetime64, offsets_s: np.ndarray) -> np.ndarray:
    """``t0 + offsets_s`` as ``datetime64[ns]`` (offsets rounded to the nanosecond)."""
    ns = np.rint(np.asarray(offsets_s, dtype=np.float64) * 1e9).astype(np.int64)
    return np.asarray(t0, dtype="datetime64[ns]") + ns.astype("timedelta64[ns]")


def gmst82_rad(jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982, Vallado's ``gstime``) in [0, 2 pi), UT1 = UTC.

    theta = 67310.54841 s + (876600 h + 8640184.812866 s) T + 0.093104 s T^2 - 6.2e-6 s T^3,
    T = Julian centuries of UT1 since J2000; 1 s of time = 1/240 degree.
    """
    d = (np.asarray(jd) - JD_J2000) + np.asarray(fr)
    t = d / 36525.0
    # split the 876600 h term: 876600 h * T = 360 deg per day * d, i.e. a whole turn per day
    seconds = 67310.54841 + 8640184.812866 * t + 0.093104 * t * t - 6.2e-6 * t * t * t
    turns = np.mod(np.asarray(fr) + np.mod(np.asarray(jd) - JD_J2000, 1.0), 1.0) + seconds / SECONDS_PER_DAY
    return np.mod(turns, 1.0) * (2.0 * math.pi)


def gmst_rad(time_utc: Any) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982) in radians at ``time_utc`` (UT1 = UTC)."""
    return gmst82_rad(*julian_date(as_utc_array(time_utc)))
