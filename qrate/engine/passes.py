"""Satellite passes: every time step of every pass in a scenario's window becomes a sweep point.

The scenario's platforms are placed by an orbit, a TLE or a fixed position, its stations by their
coordinates. :func:`scenario_passes` finds the intervals in which every downlink's station sees
its platform at or above its minimum elevation (the larger of ``passes.min_elevation_deg`` and the
link's own), simultaneously; :func:`plan_passes` samples each pass every ``passes.step_s`` seconds.
A step is a point with its own line of sight per downlink (slant range, elevation, hence air mass
and link budget) and with the pulses of its duration: ``weight_s × repetition_rate_hz`` (trapezoid
weights, so the steps' durations add up to the pass), split into ``sampling.batches`` batches.
A point's key is its physics and its UTC epoch, so extending the window keeps existing points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.engine.plan import PointPlan, ScenarioPlanner, point_key_params
from qrate.errors import InputError
from qrate.geometry import PlatformGeometry, look_geometry
from qrate.scenario.schema import Platform as PlatformSpec
from qrate.scenario.schema import Scenario

PASS_AXES = ("pass", "time_s")
"""Axes of a pass run's points: the pass index (in time order) and seconds since the pass began."""


def orbit_platform(name: str, spec: PlatformSpec) -> Any:
    """The :mod:`qrate.orbit` platform of a scenario platform (InputError naming its field)."""
    from qrate.orbit import TLE, CircularOrbit, FixedPlatform

    where = f"nodes.platforms.{name}"
    try:
        if spec.tle is not None:
            return TLE(spec.tle[0], spec.tle[1], name=name)
        if spec.orbit is not None:
            o = spec.orbit
            return CircularOrbit(
                o.altitude_km, o.inclination_deg, o.raan_deg, o.arg_latitude_deg, o.epoch_utc, j2=o.j2, name=name
            )
        if spec.position is not None:
            p = spec.position
            return FixedPlatform(p.latitude_deg, p.longitude_deg, p.altitude_m, name=name)
    except InputError as exc:
        raise InputError(f"{where}.{exc.field}", exc.message) from None
    raise InputError(where, "a pass run needs a platform placed by orbit, tle or position")


@dataclass(frozen=True)
class ScenarioPasses:
    """The passes of a scenario's window: the platform, the stations (in link order), the passes (the
    first ``max_passes``) and how many the window holds in all."""

    platform: Any
    stations: tuple[Any, ...]
    passes: tuple[Any, ...]
    found: int = 0


def scenario_passes(scenario: Scenario) -> ScenarioPasses:
    """Find the passes of ``scenario`` (every downlink in view at once), the first ``max_passes``.

    Raises:
        InputError: no ``[passes]`` window, links to different platforms, bad window or elements.
    """
    from qrate.orbit import find_passes

    window = scenario.passes
    if window is None:
        raise InputError("passes", "the scenario has no [passes] window")
    links = scenario.free_space_links()
    platforms = {spec.platform for spec in links.values()}
    if len(platforms) != 1:
        raise InputError("links", f"a pass run needs every free-space link from one platform, got {sorted(platforms)}")
    (name,) = platforms
    platform = orbit_platform(name, scenario.nodes.platforms[name])
    names = list(dict.fromkeys(gs for spec in links.values() for gs in spec.ground_stations))
    stations, cuts = [], []
    for gs in names:
        site = scenario.nodes.ground_stations[gs].site(gs)
        assert site is not None  # coordinates checked by the schema
        stations.append(site)
        own = max(spec.min_elevation_deg for spec in links.values() if gs in spec.ground_stations)
        cuts.append(max(window.min_elevation_deg, own))
    try:
        found = find_passes(
            platform, stations, window.start_utc, window.end_utc, days=window.days, step_s=window.step_s, min_elevation_deg=cuts
        )
    except InputError as exc:
        raise InputError(f"passes.{exc.field}", exc.message) from None
    return ScenarioPasses(platform, tuple(stations), tuple(found[: window.max_passes]), len(found))


def station_distance_km(a: Any, b: Any) -> float:
    """Great-circle distance between two stations on the sphere of :data:`qrate.geometry.EARTH_RADIUS_KM`."""
    from qrate.geometry import EARTH_RADIUS_KM

    p1, p2 = math.radians(a.latitude_deg), math.radians(b.latitude_deg)
    dl = math.radians(b.longitude_deg - a.longitude_deg)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def plan_passes(scenario: Scenario, *, start_index: int = 0, axes: Mapping[str, Any] | None = None) -> list[PointPlan]:
    """A plan per time step of every pass (validates every step before anything runs).

    ``start_index`` numbers the first step (a swept pass run plans one grid point after the other);
    ``axes`` are the grid point's field axes, stored with every step beside ``pass`` and ``time_s``.

    Raises:
        InputError: naming ``passes`` when the window holds no pass, or a field the passes refuse.
    """
    from qrate.orbit import format_utc, parse_utc, pass_track

    window = scenario.passes
    assert window is not None
    found = scenario_passes(scenario)
    if not found.passes:
        raise InputError(
            "passes",
            f"no pass in the window from {window.start_utc}"
            f" ({'to ' + window.end_utc if window.end_utc else f'{window.days:g} days'}) above the elevation cuts",
        )
    planner = ScenarioPlanner(scenario)
    rate_hz = scenario.sources.repetition_rate_hz
    batches = scenario.sampling.batches
    links = scenario.free_space_links()
    names = [s.name for s in found.stations]
    distance = station_distance_km(found.stations[0], found.stations[-1])
    # what identifies a step: the physics (not the window, so a longer window keeps the steps) and its epoch
    base_key = point_key_params(scenario, distance)
    base_key["scenario"] = {k: v for k, v in base_key["scenario"].items() if k != "passes"}
    start = parse_utc(window.start_utc)
    if found.found > len(found.passes):  # capped by max_passes: the days up to the last pass simulated
        end = found.passes[-1].end_utc
    elif window.days is not None:
        end = start + np.timedelta64(round(window.days * 86400e9), "ns")
    else:
        assert window.end_utc is not None
        end = parse_utc(window.end_utc)
    window_days = float((end - start) / np.timedelta64(1, "ns")) / 86400e9
    plans: list[PointPlan] = []
    for i, p in enumerate(found.passes):
        track = pass_track(found.platform, found.stations, p, window.step_s)
        for k, t in enumerate(track.time_utc):
            geometries: dict[tuple[str, str], PlatformGeometry] = {}
            for name, spec in links.items():
                for gs in spec.ground_stations:
                    j = names.index(gs)
                    elevation = float(track.elevation_deg[j, k])
                    geometries[(name, gs)] = look_geometry(float(track.range_km[j, k]), max(elevation, 1e-6))
            time_utc = format_utc(t)
            weight_s = float(track.weight_s[k])
            pulses = max(1, round(weight_s * rate_hz))
            key = {**base_key, "time_utc": time_utc}
            extra = {
                "time_utc": time_utc,
                "weight_s": weight_s,
                "pass_start_utc": format_utc(p.start_utc),
                "pass_duration_s": float(p.duration_s),
                "window_days": window_days,
                "stations": {
                    gs: {
                        "range_km": float(track.range_km[j, k]),
                        "elevation_deg": float(track.elevation_deg[j, k]),
                        "sun_elevation_deg": float(track.sun_elevation_deg[j, k]),
                    }
                    for j, gs in enumerate(names)
                },
            }
            t_s = float((t - track.time_utc[0]) / np.timedelta64(1, "ns")) * 1e-9
            plans.append(
                planner.plan(
                    start_index + len(plans),
                    distance,
                    {**(axes or {}), "pass": i, "time_s": round(t_s, 6)},
                    geometries=geometries,
                    key_params=key,
                    pulses_per_batch=max(1, -(-pulses // batches)),
                    extra=extra,
                )
            )
    return plans
