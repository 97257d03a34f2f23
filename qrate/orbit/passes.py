"""Per-epoch geometry from stations to a platform, and passes seen by all stations at once.

A *pass* is a maximal time interval in which **every** station sees the platform at or above its
minimum elevation simultaneously (the intersection of the single-station visibility intervals).

Search (:func:`find_passes`): the window [start, end] is sampled on the grid start + k step_s (plus
the end); a pass is a run of grid epochs where the visibility test holds, and each edge is then
refined by bisection on min_s (elevation_s - min_elevation_s) to ``edge_tolerance_s``. A pass
shorter than one step that falls between two grid epochs is not seen: choose ``step_s`` below the
shortest pass of interest. Per station, the maximum elevation and the minimum range inside the
pass are refined by golden-section search around the best grid epoch (to ~1e-6 s).

``method="auto"`` (default) first samples a coarse grid (every ~60 s). Between two coarse epochs,
the angle gamma between the platform's and a station's geocentric directions cannot drop below
(gamma_j + gamma_j+1)/2 - omega dt/2, omega bounding the platform's angular rate about the Earth's
centre; the platform can only be at elevation >= e over a station at geocentric radius rho if
gamma <= arccos(rho cos e' / r) - e', with e' = e minus the angle between the station's geodetic
vertical and its geocentric radius (<= 0.2 deg). Coarse intervals that fail this test for some
station are skipped; every other fine grid epoch is evaluated. The result equals the plain scan of
every grid epoch (``method="scan"``), at a small fraction of the cost for LEO satellites.

Time convention: see :mod:`qrate.orbit.times` (``datetime64`` UTC; durations and steps in float
seconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.errors import InputError
from qrate.orbit.propagate import Platform
from qrate.orbit.stations import LookAngles, Station, look_angles_ecef
from qrate.orbit.sun import _elevation_deg as _sun_elevation
from qrate.orbit.times import (
    as_utc_array,
    format_utc,
    julian_date_offsets,
    offsets_to_utc,
    parse_utc,
)

#: coarse grid spacing of ``method="auto"`` (s) and the safety factor on the sampled angular rate
COARSE_STEP_S = 60.0
_RATE_SAFETY = 1.5
#: largest number of grid epochs one search may hold (memory guard: ~1 byte each, plus chunks)
MAX_EPOCHS = 50_000_000
_CHUNK = 2_000_000
_GOLDEN_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class Track:
    """Geometry from each station to the platform at a list of epochs.

    Attributes:
        time_utc: epochs, ``datetime64[ns]``, shape (n,).
        station_names: row labels of the 2-d arrays.
        range_km, elevation_deg, azimuth_deg: shape (n_stations, n); see :class:`LookAngles`.
        sun_elevation_deg: the Sun's geometric elevation at each station, shape (n_stations, n).
        weight_s: trapezoid weight of each epoch (s), shape (n,): sum(f * weight_s) integrates a
            per-epoch rate f over [time_utc[0], time_utc[-1]].
    """

    time_utc: np.ndarray
    station_names: tuple[str, ...]
    range_km: np.ndarray
    elevation_deg: np.ndarray
    azimuth_deg: np.ndarray
    sun_elevation_deg: np.ndarray
    weight_s: np.ndarray


@dataclass(frozen=True)
class StationPass:
    """One station's view of a pass.

    Attributes:
        name: station name.
        max_elevation_deg, time_max_elevation_utc: highest elevation inside the pass and when.
        min_range_km, time_min_range_utc: shortest slant range inside the pass and when.
        max_sun_elevation_deg: highest Sun elevation at the station during the pass (grid epochs
            and edges): below -12 the whole pass is in nautical night.
    """

    name: str
    max_elevation_deg: float
    time_max_elevation_utc: np.datetime64
    min_range_km: float
    time_min_range_utc: np.datetime64
    max_sun_elevation_deg: float


@dataclass(frozen=True)
class Pass:
    """An interval in which every station sees the platform at or above its minimum elevation.

    Attributes:
        start_utc, end_utc: refined edges (``datetime64[ns]``).
        duration_s: end - start in seconds.
        stations: one :class:`StationPass` per station, in the order given to :func:`find_passes`.
        clipped_start, clipped_end: the pass was already in progress at the window's start / still
            in progress at its end, so that edge is the window's edge.
    """

    start_utc: np.datetime64
    end_utc: np.datetime64
    duration_s: float
    stations: tuple[StationPass, ...]
    clipped_start: bool = False
    clipped_end: bool = False

    def station(self, name: str) -> StationPass:
        """The :class:`StationPass` of station ``name``."""
        for s in self.stations:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO 8601 ``...Z`` strings, millisecond resolution)."""
        return {
            "start_utc": format_utc(self.start_utc),
            "end_utc": format_utc(self.end_utc),
            "duration_s": self.duration_s,
            "clipped_start": self.clipped_start,
            "clipped_end": self.clipped_end,
            "stations": {
                s.name: {
                    "max_elevation_deg": s.max_elevation_deg,
                    "time_max_elevation_utc": format_utc(s.time_max_elevation_utc),
                    "min_range_km": s.min_range_km,
                    "time_min_range_utc": format_utc(s.time_min_range_utc),
                    "max_sun_elevation_deg": s.max_sun_elevation_deg,
                }
                for s in self.stations
            },
        }


# ---------------------------------------------------------------------------------------------------
# validation


def _check_stations(stations: Sequence[Station]) -> tuple[Station, ...]:
    stations = tuple(stations)
    if not stations:
        raise InputError("stations", "give at least one station")
    for s in stations:
        if not isinstance(s, Station):
            raise InputError("stations", f"expected Station objects, got {type(s).__name__}")
    names = [s.name for s in stations]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError("stations", f"station names must be unique, repeated: {', '.join(dup)}")
    return stations


def _check_min_elevation(value: float | Sequence[float], n: int) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=object))
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.ndim != 1 or arr.size != n:
        raise InputError("min_elevation_deg", f"expected one value or one per station ({n}), got {arr.size}")
    out = np.empty(n)
    for i, v in enumerate(arr):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise InputError("min_elevation_deg", f"expected a number, got {v!r}") from None
        if not (math.isfinite(out[i]) and -90.0 <= out[i] <= 90.0):
            raise InputError("min_elevation_deg", f"expected a value in [-90, 90] degrees, got {v!r}")
    return out


def _positive(field_name: str, value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(field_name, f"expected a number of seconds, got {value!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise InputError(field_name, f"expected a finite value > 0, got {value!r}")
    return value


def _window(start_utc: Any, end_utc: Any, days: float | None) -> tuple[np.datetime64, float]:
    t0 = parse_utc(start_utc, "start_utc")
    if days is not None and end_utc is not None:
        raise InputError("days", "give end_utc or days, not both")
    if days is not None:
        try:
            d = float(days)
        except (TypeError, ValueError):
            raise InputError("days", f"expected a number of days, got {days!r}") from None
        if not (math.isfinite(d) and d > 0.0):
            raise InputError("days", f"expected a number of days > 0, got {days!r}")
        return t0, d * 86400.0
    if end_utc is None:
        raise InputError("end_utc", "give end_utc or days")
    t1 = parse_utc(end_utc, "end_utc")
    span_s = float((t1 - t0) / np.timedelta64(1, "ns")) * 1e-9
    if span_s <= 0.0:
        what = "empty" if span_s == 0.0 else "reversed"
        raise InputError("end_utc", f"the window is {what}: end {format_utc(t1)} is not after start {format_utc(t0)}")
    return t0, span_s


# ---------------------------------------------------------------------------------------------------
# evaluation


class _Evaluator:
    """Geometry of one platform from a fixed list of stations at offsets (s) from ``t0``."""

    def __init__(
        self, platform: Platform, stations: tuple[Station, ...], t0: np.datetime64, min_elevation_deg: np.ndarray
    ) -> None:
        self.platform, self.stations, self.t0 = platform, stations, t0
        self.min_elevation_deg = min_elevation_deg
        self.seconds = {"propagation": 0.0, "geometry": 0.0}

    def ecef(self, offsets_s: np.ndarray) -> np.ndarray:
        tic = time.perf_counter()
        r = self.platform._ecef_jd(*julian_date_offsets(self.t0, offsets_s))
        self.seconds["propagation"] += time.perf_counter() - tic
        return r

    def look(self, offsets_s: np.ndarray) -> LookAngles:
        r = self.ecef(offsets_s)
        tic = time.perf_counter()
        out = look_angles_ecef(self.stations, r)
        self.seconds["geometry"] += time.perf_counter() - tic
        return out

    def visible(self, offsets_s: np.ndarray) -> np.ndarray:
        """All stations at or above their minimum elevation (bool, shape (m,)).

        Tests up >= sin(e_min) |d| in each station's east-north-up frame: no trigonometry per epoch.
        """
        out = np.empty(np.size(offsets_s), dtype=bool)
        basis = np.concatenate([s._enu for s in self.stations], axis=0)
        origin = np.concatenate([s._enu @ s._ecef_km for s in self.stations])
        sin_min = np.sin(np.radians(self.min_elevation_deg))
        for a in range(0, out.size, _CHUNK):
            r = self.ecef(offsets_s[a : a + _CHUNK])
            tic = time.perf_counter()
            # (3 n_st, 3) @ (3, m): numpy's matmul is slow for an (m, 3) @ (3, k) product
            enu = basis @ np.ascontiguousarray(r.T) - origin[:, None]
            ok = np.ones(r.shape[0], dtype=bool)
            for k in range(len(self.stations)):
                e, n, u = enu[3 * k], enu[3 * k + 1], enu[3 * k + 2]
                ok &= u >= sin_min[k] * np.sqrt(e * e + n * n + u * u)
            out[a : a + _CHUNK] = ok
            self.seconds["geometry"] += time.perf_counter() - tic
        return out

    def sun(self, offsets_s: np.ndarray) -> np.ndarray:
        lat = np.array([[s.latitude_deg] for s in self.stations])
        lon = np.array([[s.longitude_deg] for s in self.stations])
        return _sun_elevation(lat, lon, *julian_date_offsets(self.t0, offsets_s))


def _grid(span_s: float, step_s: float) -> np.ndarray:
    n = math.floor(span_s / step_s * (1.0 + 1e-12)) + 1
    if n > MAX_EPOCHS:
        raise InputError("step_s", f"{n} epochs in the window exceed the limit {MAX_EPOCHS}; use a larger step")
    grid = np.arange(n, dtype=np.float64) * step_s
    if span_s - grid[-1] > 1e-9 * max(1.0, span_s):
        grid = np.append(grid, span_s)
    else:
        grid[-1] = min(grid[-1], span_s)
    return grid


def _coarse_candidates(ev: _Evaluator, grid: np.ndarray, step_s: float) -> np.ndarray:
    """Bool mask over ``grid``: False where no station set can see the platform (see module doc)."""
    m = max(1, int(COARSE_STEP_S // step_s))
    n = grid.size
    idx = np.arange(0, n, m)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    r = ev.ecef(grid[idx])
    radius = np.linalg.norm(r, axis=1)
    u = r / radius[:, None]
    dt = np.diff(grid[idx])
    chord = 2.0 * np.arcsin(np.clip(0.5 * np.linalg.norm(np.diff(u, axis=0), axis=1), 0.0, 1.0))
    omega = float(np.max(chord / dt)) * _RATE_SAFETY if dt.size else 0.0
    r_max = float(radius.max()) * (1.0 + 1e-3)  # r between coarse epochs may exceed the samples slightly
    keep = np.ones(idx.size - 1, dtype=bool)
    for s, e_min in zip(ev.stations, ev.min_elevation_deg):
        rho = float(np.linalg.norm(s._ecef_km))
        radial = s._ecef_km / rho
        deflection = math.acos(min(1.0, float(radial @ s._enu[2])))
        e0 = math.radians(e_min) - deflection - 1e-9
        arg = rho * math.cos(e0) / r_max
        if arg >= 1.0:
            if e0 > 0.0:
                return np.zeros(n, dtype=bool)
            continue  # platform at or below the station's radius: no useful bound
        limit = math.acos(arg) - e0
        gamma = np.arccos(np.clip(u @ radial, -1.0, 1.0))
        lower = 0.5 * (gamma[:-1] + gamma[1:]) - 0.5 * omega * dt
        keep &= lower <= limit
    mask = np.zeros(n, dtype=bool)
    for j in np.flatnonzero(keep):
        mask[idx[j] : idx[j + 1] + 1] = True
    return mask


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index (inclusive) of each run of True in a 1-d bool array."""
    d = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def _bisect_edges(ev: _Evaluator, inside: np.ndarray, outside: np.ndarray, tolerance_s: float) -> np.ndarray:
    """Visibility edges between ``inside`` (visible) and ``outside`` (not) offsets, to ``tolerance_s``."""
    inside, outside = inside.astype(np.float64).copy(), outside.astype(np.float64).copy()
    if inside.size == 0:
        return inside
    gap = float(np.max(np.abs(inside - outside)))
    for _ in range(max(0, math.ceil(math.log2(gap / tolerance_s)))):
        mid = 0.5 * (inside + outside)
        ok = ev.visible(mid)
        inside = np.where(ok, mid, inside)
        outside = np.where(ok, outside, mid)
    return 0.5 * (inside + outside)


def _golden_max(f: Any, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised golden-section search for the maximum of ``f`` on each [a_i, b_i]: (x, f(x))."""
    inv_phi = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = a.copy(), b.copy()
    width = float(np.max(b - a)) if a.size else 0.0
    c, d = b - inv_phi * (b - a), a + inv_phi * (b - a)
    fc, fd = f(c), f(d)
    iterations = max(0, math.ceil(math.log(max(width, _GOLDEN_TOLERANCE_S) / _GOLDEN_TOLERANCE_S) / math.log(1.0 / inv_phi)))
    for _ in range(iterations):
        left = fc >= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c, new_d = b - inv_phi * (b - a), a + inv_phi * (b - a)
        c, d = np.where(left, new_c, d), np.where(left, c, new_d)
        fx = f(np.where(left, c, d))
        fc, fd = np.where(left, fx, fd), np.where(left, fc, fx)
    x = np.where(fc >= fd, c, d)
    return x, np.maximum(fc, fd)


def _extrema(
    ev: _Evaluator, grid: np.ndarray, first: np.ndarray, last: np.ndarray, start: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Per (pass, station): refined max elevation, min range and max Sun elevation, with times."""
    n_st, n_pass = len(ev.stations), first.size
    lengths = last - first + 1
    inner = np.concatenate([grid[a : b + 1] for a, b in zip(first, last)])
    owner = np.repeat(np.arange(n_pass), lengths)
    # samples of each pass: its grid epochs plus its two edges
    t = np.concatenate([inner, start, end])
    who = np.concatenate([owner, np.arange(n_pass), np.arange(n_pass)])
    look = ev.look(t)
    sun = ev.sun(t)
    out: dict[str, np.ndarray] = {}
    pairs_station = np.repeat(np.arange(n_st), n_pass)
    for key, values, sign in (("elevation", look.elevation_deg, 1.0), ("range", look.range_km, -1.0)):
        best_t = np.empty((n_st, n_pass))
        for s in range(n_st):
            order = np.lexsort((-sign * values[s], who))  # per pass, best sample first
            head = order[np.r_[0, np.flatnonzero(np.diff(who[order])) + 1]]
            best_t[s] = t[head]
        # bracket: one grid step either side of the best sample, inside the pass
        lo = np.maximum(best_t - np.diff(grid).max(initial=0.0), start[None, :])
        hi = np.minimum(best_t + np.diff(grid).max(initial=0.0), end[None, :])

        def f(x: np.ndarray, values_key: str = key, sgn: float = sign) -> np.ndarray:
            la = ev.look(x)
            arr = la.elevation_deg if values_key == "elevation" else la.range_km
            return sgn * arr[pairs_station, np.arange(x.size)]

        x, fx = _golden_max(f, lo.reshape(-1), hi.reshape(-1))
        x, fx = x.reshape(n_st, n_pass), fx.reshape(n_st, n_pass)
        sampled = np.full((n_st, n_pass), -np.inf)
        for s in range(n_st):
            np.maximum.at(sampled[s], who, sign * values[s])
        better = fx >= sampled
        out[f"{key}_t"] = np.where(better, x, best_t)
        out[key] = sign * np.where(better, fx, sampled)
    sun_max = np.full((n_st, n_pass), -np.inf)
    for s in range(n_st):
        np.maximum.at(sun_max[s], who, sun[s])
    out["sun"] = sun_max
    return out


def find_passes(
    platform: Platform,
    stations: Sequence[Station],
    start_utc: Any,
    end_utc: Any = None,
    *,
    days: float | None = None,
    step_s: float = 1.0,
    min_elevation_deg: float | Sequence[float] = 0.0,
    edge_tolerance_s: float = 1e-3,
    method: str = "auto",
    timings: dict[str, float] | None = None,
) -> list[Pass]:
    """Passes of ``platform`` seen by all ``stations`` at once in [start_utc, end_utc].

    Args:
        platform: a :class:`~qrate.orbit.propagate.TLE`, ``CircularOrbit`` or ``FixedPlatform``.
        stations: one or more :class:`Station` (unique names).
        start_utc: window start (ISO text, datetime or datetime64; UTC).
        end_utc: window end; or give ``days`` instead.
        days: window length in days (instead of ``end_utc``).
        step_s: grid step (s); passes shorter than a step may be missed.
        min_elevation_deg: one minimum elevation for all stations or one per station, [-90, 90].
        edge_tolerance_s: bisection tolerance of the pass edges (s).
        method: ``"auto"`` (coarse pre-screen, same result) or ``"scan"`` (every grid epoch).
        timings: if a dict is given, seconds spent in ``propagation``, ``geometry`` and
            ``intervals`` (everything else: masks, runs, refinement bookkeeping) are added to it.

    Returns:
        Passes in time order.

    Raises:
        InputError: naming ``start_utc``, ``end_utc`` (empty or reversed window), ``days``,
            ``step_s`` (<= 0), ``edge_tolerance_s``, ``min_elevation_deg``, ``stations``, ``method``,
            or ``tle`` (SGP4 failure inside the window).
    """
    tic = time.perf_counter()
    stations = _check_stations(stations)
    min_el = _check_min_elevation(min_elevation_deg, len(stations))
    t0, span_s = _window(start_utc, end_utc, days)
    step_s = _positive("step_s", step_s)
    edge_tolerance_s = _positive("edge_tolerance_s", edge_tolerance_s)
    if method not in ("auto", "scan"):
        raise InputError("method", f"expected 'auto' or 'scan', got {method!r}")
    if not hasattr(platform, "_ecef_jd"):
        raise InputError("platform", f"expected a TLE, CircularOrbit or FixedPlatform, got {type(platform).__name__}")
    ev = _Evaluator(platform, stations, t0, min_el)
    grid = _grid(span_s, step_s)

    if method == "auto" and grid.size > 4 * max(1, int(COARSE_STEP_S // step_s)):
        candidates = _coarse_candidates(ev, grid, step_s)
    else:
        candidates = np.ones(grid.size, dtype=bool)
    visible = np.zeros(grid.size, dtype=bool)
    c_first, c_last = runs(candidates)
    for a, b in zip(c_first, c_last):
        visible[a : b + 1] = ev.visible(grid[a : b + 1])

    first, last = runs(visible)
    passes: list[Pass] = []
    if first.size:
        clipped_start = first == 0
        clipped_end = last == grid.size - 1
        lead = ~clipped_start
        trail = ~clipped_end
        start = grid[first].copy()
        end = grid[last].copy()
        start[lead] = _bisect_edges(ev, grid[first[lead]], grid[first[lead] - 1], edge_tolerance_s)
        end[trail] = _bisect_edges(ev, grid[last[trail]], grid[last[trail] + 1], edge_tolerance_s)
        ext = _extrema(ev, grid, first, last, start, end)
        start_utc_arr, end_utc_arr = offsets_to_utc(t0, start), offsets_to_utc(t0, end)
        t_el, t_rg = offsets_to_utc(t0, ext["elevation_t"]), offsets_to_utc(t0, ext["range_t"])
        for p in range(first.size):
            per_station = tuple(
                StationPass(
                    name=st.name,
                    max_elevation_deg=float(ext["elevation"][s, p]),
                    time_max_elevation_utc=t_el[s, p],
                    min_range_km=float(ext["range"][s, p]),
                    time_min_range_utc=t_rg[s, p],
                    max_sun_elevation_deg=float(ext["sun"][s, p]),
                )
                for s, st in enumerate(stations)
            )
            passes.append(
                Pass(
                    start_utc_arr[p],
                    end_utc_arr[p],
                    float(end[p] - start[p]),
                    per_station,
                    bool(clipped_start[p]),
                    bool(clipped_end[p]),
                )
            )
    if timings is not None:
        total = time.perf_counter() - tic
        for k, v in ev.seconds.items():
            timings[k] = timings.get(k, 0.0) + v
        timings["intervals"] = timings.get("intervals", 0.0) + total - sum(ev.seconds.values())
    return passes


def _trapezoid_weights(offsets_s: np.ndarray) -> np.ndarray:
    if offsets_s.size < 2:
        return np.zeros(offsets_s.size)
    d = np.diff(offsets_s)
    w = np.zeros(offsets_s.size)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def _track(platform: Platform, stations: tuple[Station, ...], t0: np.datetime64, offsets_s: np.ndarray) -> Track:
    ev = _Evaluator(platform, stations, t0, np.zeros(len(stations)))
    look = ev.look(offsets_s)
    return Track(
        time_utc=offsets_to_utc(t0, offsets_s),
        station_names=tuple(s.name for s in stations),
        range_km=look.range_km,
        elevation_deg=look.elevation_deg,
        azimuth_deg=look.azimuth_deg,
        sun_elevation_deg=ev.sun(offsets_s),
        weight_s=_trapezoid_weights(offsets_s),
    )


def look_angles(platform: Platform, stations: Sequence[Station], time_utc: Any) -> Track:
    """Range (km), elevation and azimuth (deg) of ``platform`` and the Sun's elevation, per station and epoch.

    ``time_utc`` is a ``datetime64`` array (or a list of times); epochs need not be sorted, but
    ``weight_s`` (trapezoid rule) only makes sense for increasing epochs.
    """
    stations = _check_stations(stations)
    times = as_utc_array(time_utc)
    t0 = times[0]
    offsets = (times - t0).astype(np.int64) * 1e-9
    return _track(platform, stations, t0, offsets)


def pass_track(platform: Platform, stations: Sequence[Station], pass_: Pass, step_s: float = 1.0) -> Track:
    """Per-step geometry through one pass: epochs start, start + step, ..., end (the end included).

    ``weight_s`` sums to the pass duration, so sum(rate(range, elevation, sun) * weight_s) is the
    expected count of a per-second rate over the pass.
    """
    stations = _check_stations(stations)
    step_s = _positive("step_s", step_s)
    offsets = _grid(pass_.duration_s, step_s) if pass_.duration_s > 0 else np.zeros(1)
    return _track(platform, stations, pass_.start_utc, offsets)
