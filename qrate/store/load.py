"""Read estimates from a results file using only the file: its batch rows and its protocol report."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qrate.errors import ResultsFileError
from qrate.estimates import estimate_point, inconsistency
from qrate.scenario.axes import DISTANCE_AXIS
from qrate.store.reader import PointRecord, Results, read_results

if TYPE_CHECKING:
    from qrate.store.lazy import LazyResults


def point_estimates(results: Results, point: PointRecord) -> dict[str, Any]:
    """Estimates of one stored point (:func:`qrate.estimates.estimate_point`) with its axes and geometry.

    Raises:
        ResultsFileError: the point's counters contradict the roles of the file's report, or its
            geometry is not numeric (a damaged file).
    """
    report = point.params.get("report") or results.meta["report"]
    problem = inconsistency(report, point.rows)
    if problem is not None:
        raise ResultsFileError(f"{results.path}: point {point.index}: {problem}; the file is damaged")
    axes = point.params.get("axes") or {}
    planned = {k: point.params[k] for k in PLANNED if _number(point.params.get(k))}
    est = estimate_point(point.rows, report, extra={**axes, "ground_distance_km": point.ground_distance_km, **planned})
    for key in ("elevation_deg", "slant_range_km"):
        value = point.params.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ResultsFileError(
                f"{results.path}: point {point.index} has a non-numeric {key} ({value!r}); the file is damaged"
            )
        est[key] = value
    if point.params.get("time_utc") is not None:  # a pass step: its epoch and each station's geometry and sky
        from qrate.channels.background import sky_state

        est["time_utc"] = str(point.params["time_utc"])
        for gs, st in (point.params.get("stations") or {}).items():
            est[f"{gs}_elevation_deg"] = float(st["elevation_deg"])
            est[f"{gs}_sun_elevation_deg"] = float(st["sun_elevation_deg"])
            est[f"{gs}_sky"] = sky_state(float(st["sun_elevation_deg"]))
    return est


PLANNED = ("p_success_expected", "noise_herald_fraction")
"""Planned values of a point's parameters that its estimates carry (small and noisy counts read honestly)."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_estimates(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(file metadata, estimates per point)`` of a results file (points without batches skipped).

    ``meta["axes"]`` lists the field axes (dotted paths) whose values each point's estimates carry.
    """
    from qrate.store import expected, frontier

    if frontier.is_frontier(path):
        return frontier.read(path)
    if expected.is_expected(path):  # qrate run --expected: estimates without batch rows
        return expected.read(path)
    results = read_results(path)
    points = [p for p in results.points if p.rows.size]
    meta = {**results.meta, "axes": list(dict.fromkeys(a for p in points for a in (p.params.get("axes") or {})))}
    return meta, [point_estimates(results, p) for p in points]


@dataclass(frozen=True, slots=True)
class LoadedResults(Mapping[str, np.ndarray]):
    """Per-point estimates of one results file: a read-only mapping ``name -> array`` (one entry per point).

    Every scalar estimate of :func:`qrate.estimates.estimate_point` becomes a float64 array (nan where
    not applicable); every sweep axis (``axes``: the field axes' dotted paths, then
    ``ground_distance_km``) is a column too (float64, or an object array for text values). Rates are
    in bit/s.

    Attributes:
        path: the file; meta: its root attributes (scenario TOML, seed, versions, runs, ...).
        arrays: the columns; axes: the names of the axis columns.
    """

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    axes: tuple[str, ...] = (DISTANCE_AXIS,)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def batches(self) -> dict[str, np.ndarray]:
        """Per-batch rows of every point (for bootstrapping): the axis columns, ``point`` (index in
        the file) and every stored field (``pulses``, ``successes``, ``c_<counter>``, ...)."""
        results = read_results(self.path)
        parts = [p for p in results.points if p.rows.size]
        if not parts:
            return {}
        out: dict[str, np.ndarray] = {}
        for axis in self.axes:
            out[axis] = np.concatenate([np.repeat(np.array([_axis_value(p, axis)], dtype=object), p.rows.size) for p in parts])
            out[axis] = _column(list(out[axis]))
        out["point"] = np.concatenate([np.full(p.rows.size, p.index) for p in parts])
        rows = np.concatenate([p.rows for p in parts])
        for name in rows.dtype.names or ():
            out[name] = rows[name]
        return out

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, one row per point (needs the ``analysis`` extra: pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install 'qrate[analysis]'") from None
        return pd.DataFrame(self.arrays)

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` whose dimensions are the sweep axes (needs the ``analysis`` extra).

        Grid points that were not run (or have no batches yet) are NaN.
        """
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("to_xarray() needs xarray: pip install 'qrate[analysis]'") from None
        from qrate.units import unit_of

        coords = {a: _column(sorted(set(self.arrays[a].tolist()), key=_sort_key)) for a in self.axes}
        shape = tuple(len(c) for c in coords.values())
        where = tuple(
            np.searchsorted(coords[a], self.arrays[a])
            if coords[a].dtype != object
            else np.array([list(coords[a]).index(v) for v in self.arrays[a]], dtype=int)
            for a in self.axes
        )
        data = {}
        for k, v in self.arrays.items():
            if k in self.axes:
                continue
            grid = np.full(shape, np.nan, dtype=float if v.dtype != object else object)
            grid[where] = v
            data[k] = (self.axes, grid)
        attrs = {k: v for k, v in self.meta.items() if isinstance(v, str | int | float | bool)}
        ds = xr.Dataset(data, coords=coords, attrs=attrs)
        table = self.meta.get("units")
        units: dict[str, str] = table if isinstance(table, dict) else {}
        for name in ds.variables:  # units from the names (length_km, key_rate_bps) or the file's table
            unit = units.get(str(name)) or unit_of(str(name))[0]
            if unit:
                ds[name].attrs["units"] = unit
        return ds


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) and not isinstance(v, bool) else (1, str(v))


def _column(values: list[Any]) -> np.ndarray:
    """float64 for numbers, else an object array."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array(values, dtype=object)


def _axis_value(point: PointRecord, axis: str) -> Any:
    if axis == DISTANCE_AXIS:
        return point.ground_distance_km
    return (point.params.get("axes") or {}).get(axis)


def load(path: str | Path) -> LoadedResults | LazyResults:
    """Read a results file and return its per-point estimates and axes as numpy arrays.

    A file of at most :data:`qrate.store.lazy.LAZY_POINTS` points is read whole into a
    :class:`LoadedResults` (``to_xarray()``: dimensions are the sweep axes). A larger one returns a
    :class:`qrate.store.lazy.LazyResults` with the same interface that reads and estimates its
    points chunk by chunk only when asked (``to_xarray()``: one ``point`` dimension of dask arrays
    over the chunks; select, then compute; memory 8 bytes per point until then). Expected-value
    and frontier files are always read whole.

    Raises:
        ResultsFileError: missing, foreign, truncated, damaged or other-schema file.
    """
    from qrate.store import expected, frontier
    from qrate.store.lazy import LAZY_POINTS, LazyResults, NotInIndexOrder, point_count

    if frontier.is_frontier(path):  # a threshold versus a second field (qrate require --over)
        meta, frows = frontier.read(path)
        over = meta["over"]
        cols = {
            k: _column([r[k] for r in frows])
            if k == "status"
            else np.array([np.nan if r[k] is None else r[k] for r in frows], dtype=float)
            for k in (frows[0] if frows else {over: None})
        }
        return LoadedResults(Path(path), meta, cols, (over,))
    if expected.is_expected(path):
        meta, rows = expected.read(path)
        axes = (*meta.get("axes", []), DISTANCE_AXIS)
        return _loaded(Path(path), meta, rows, axes, [[r.get(a) for a in axes] for r in rows])
    if point_count(path) > LAZY_POINTS:
        try:
            return LazyResults(path)
        except NotInIndexOrder:
            pass
    results = read_results(path)
    points = [p for p in results.points if p.rows.size]
    rows = [point_estimates(results, p) for p in points]
    axes = (*dict.fromkeys(a for p in points for a in (p.params.get("axes") or {})), DISTANCE_AXIS)
    return _loaded(Path(path), results.meta, rows, axes, [[_axis_value(p, a) for a in axes] for p in points])


def _loaded(
    path: Path, meta: dict[str, Any], rows: list[dict[str, Any]], axes: tuple[str, ...], values: list[list[Any]]
) -> LoadedResults:
    """Columns of per-point estimates ``rows`` whose axis values are ``values`` (one list per point)."""
    keys: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k not in keys and k not in axes and (v is None or isinstance(v, int | float)) and not isinstance(v, bool):
                keys.append(k)
    arrays = {a: _column([v[i] for v in values]) for i, a in enumerate(axes)}
    arrays.update({k: np.array([np.nan if r.get(k) is None else float(r[k]) for r in rows], dtype=float) for k in keys})
    return LoadedResults(path, meta, arrays, axes)


def read_passes(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-pass totals and the long-term summary of a pass run (empty for other files).

    Each pass: ``pass``, ``start_utc``, ``duration_s``, ``steps``, the integral of every rate over
    the pass with its standard error (:func:`qrate.estimates.pass_totals`), ``max_sun_elevation_deg``
    (over its steps and stations) and ``night`` (every station's sky ``night`` at every step). The
    summary (:func:`qrate.longterm.long_term_summary`) applies the scenario's ``passes.night_only`` and
    ``passes.clear_sky_fraction`` and marks the per-day / per-year totals of a window shorter than a day
    as not representative.
    A pass run with field axes (``--sweep`` over hardware) has passes at every grid point: each pass
    then carries the grid point's axis values, and the summary holds ``points``, one summary per grid
    point with its axes.
    """
    from qrate.channels.background import NIGHT_AT_OR_BELOW_DEG
    from qrate.estimates import pass_totals
    from qrate.longterm import long_term_summary
    from qrate.store import expected

    if expected.is_expected(path):
        meta, _ = expected.read(path)
        return list(meta.get("passes") or []), dict(meta.get("summary") or {})
    results = read_results(path)
    groups: dict[tuple[Any, ...], dict[int, list[tuple[dict[str, Any], np.ndarray, float]]]] = {}
    starts: dict[int, str] = {}
    sun: dict[int, float] = {}
    window_days = 0.0
    names: list[str] = []
    for p in results.points:
        axes = p.params.get("axes") or {}
        if "pass" not in axes or not p.rows.size:
            continue
        names = [a for a in axes if a not in ("pass", "time_s")]
        est = point_estimates(results, p)
        key = tuple(axes[a] for a in names)
        i = int(axes["pass"])
        groups.setdefault(key, {}).setdefault(i, []).append((est, p.rows, float(p.params["weight_s"])))
        starts[i] = str(p.params.get("pass_start_utc"))
        window_days = float(p.params.get("window_days", 0.0))
        step_sun = [float(st.get("sun_elevation_deg", math.nan)) for st in (p.params.get("stations") or {}).values()]
        sun[i] = max([sun.get(i, -math.inf), *step_sun])
    report = results.meta["report"]
    night_only, clear_sky = False, 1.0
    toml = results.meta.get("scenario_toml")
    if toml:
        from qrate.scenario.load import load_scenario_text

        window = load_scenario_text(str(toml)).passes
        if window is not None:
            night_only, clear_sky = window.night_only, window.clear_sky_fraction
    passes: list[dict[str, Any]] = []
    summaries = []
    for key, by_pass in groups.items():
        axes_of = dict(zip(names, key, strict=True))
        mine = [
            {
                **axes_of,
                "pass": i,
                "start_utc": starts[i],
                **pass_totals(steps, report),
                "max_sun_elevation_deg": sun[i],
                "night": bool(sun[i] <= NIGHT_AT_OR_BELOW_DEG),
            }
            for i, steps in sorted(by_pass.items())
        ]
        passes.extend(mine)
        own = [{k: v for k, v in m.items() if k not in axes_of} for m in mine]
        summaries.append({**axes_of, **long_term_summary(own, window_days, night_only=night_only, clear_sky_fraction=clear_sky)})
    if not passes:
        return [], {}
    if not names:
        return passes, summaries[0]
    return passes, {"passes": len(passes), "window_days": window_days, "axes": names, "points": summaries}
