"""Plans of a whole sweep: every grid point (:mod:`qrate.engine.plan`) or every step of a pass run
(:mod:`qrate.engine.passes`), and what a sweep's points share (counters, a description per point).

This module sits above both: ``plan`` knows one point, ``passes`` builds pass steps from it, and
``plan_sweep`` chooses between them, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from qrate.engine.passes import plan_passes
from qrate.engine.plan import PointPlan, ScenarioPlanner, protocol_of
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import ScenarioProtocol
from qrate.scenario.axes import DISTANCE_AXIS, grid
from qrate.scenario.points import PointScenarios
from qrate.scenario.schema import Scenario

PLANNERS = 256
"""Grid lines (combinations of field-axis values) whose planners :func:`iter_plans` keeps at once."""


def plan_sweep(scenario: Scenario) -> list[PointPlan]:
    """Plans of every grid point (validates every point's scenario and geometry before anything runs).

    Each point is planned from its own scenario (:func:`qrate.scenario.axes.point_scenario`), so its
    key, and with it its random streams, depend on its content only.
    """
    return list(iter_plans(scenario))


def iter_plans(scenario: Scenario, start: int = 0, stop: int | None = None) -> Iterator[PointPlan]:
    """Plans of points ``start, ..., stop - 1`` of the sweep (all by default), lazily, in index order:
    the same plans as ``plan_sweep(scenario)[start:stop]``, without planning the others.

    A grid costs O(stop - start): point ``start`` is decoded from its index
    (:meth:`qrate.scenario.axes.GridPoints.iter_from`), each point's scenario is built from validated
    tables (:class:`qrate.scenario.points.PointScenarios`) and the points of one grid line (the distances
    of one combination of field-axis values) share one :class:`~qrate.engine.plan.ScenarioPlanner`. A
    pass run's steps are known only once its passes are found: a swept pass run plans its grid points up
    to the one that holds step ``stop - 1``.
    """
    start = max(start, 0)
    if stop is not None and stop <= start:
        return
    sw = scenario.sweep
    if scenario.passes is not None:
        yield from _pass_plans(scenario, start, stop)
        return
    if not sw.axes():
        planner = ScenarioPlanner(scenario)
        distances = sw.distances_km()
        for i in range(start, len(distances) if stop is None else min(stop, len(distances))):
            yield planner.plan(i, distances[i])
        return
    scenarios = PointScenarios(scenario)
    names = scenarios.axes
    protocols: dict[str, ScenarioProtocol] = {}
    shared: dict[Any, Any] = {}  # equal parts of the plans (noise, user paths, factors) are one object
    lines: dict[Any, tuple[ScenarioPlanner, dict[str, Any]]] = {}
    for i, values in enumerate(sw.points().iter_from(start, stop), start):
        combo: tuple[Any, ...] | None = tuple(values[a] for a in names)
        try:
            line = lines.get(combo)
        except TypeError:  # an unhashable axis value (a table): a planner of its own
            line, combo = None, None
        if line is None:
            # the scenario of the line's first point plans every distance of the line: they differ only by
            # their one-distance sweep, which no scenario rule and nothing in a plan reads
            ps = scenarios(values)
            which = ps.model_dump_json(include={"nodes", "protocol"})
            protocol = protocols.get(which) or protocols.setdefault(which, protocol_of(ps))
            line = (ScenarioPlanner(ps, protocol, shared), {k: v for k, v in values.items() if k != DISTANCE_AXIS})
            if combo is not None:
                if len(lines) >= PLANNERS:
                    del lines[next(iter(lines))]
                lines[combo] = line
        planner, axes = line
        yield planner.plan(i, values[DISTANCE_AXIS], axes, share_axes=True)


def _pass_plans(scenario: Scenario, start: int, stop: int | None) -> Iterator[PointPlan]:
    """The steps ``start, ..., stop - 1`` of a pass run, or of a swept pass run's grid points in turn."""
    sw = scenario.sweep
    if not sw.axes():
        yield from plan_passes(scenario)[start:stop]
        return
    scenarios = PointScenarios(scenario)
    n = 0
    for axes in grid(sw.axes(), zipped=sw.zip, max_points=sw.max_points):  # each grid point's passes
        if stop is not None and n >= stop:
            return
        plans = plan_passes(scenarios(axes), start_index=n, axes=axes)
        yield from plans[max(start - n, 0) : None if stop is None else max(stop - n, 0)]
        n += len(plans)


def counter_names(plans: Sequence[PointPlan]) -> tuple[str, ...]:
    """Every counter any point's protocol reports, in first-seen order (the results file's row fields).

    Points with another network size count other pairs; a point's rows hold zeros for counters
    its protocol does not have, and its report names only its own.
    """
    names: dict[str, None] = {}
    seen: list[ScenarioProtocol] = []
    for plan in plans:
        if plan.protocol not in seen:
            seen.append(plan.protocol)
            pulses = plan.pulse_sampler
            compiled = pulses if pulses is not None else plan.protocol.compile(PauliNoise())
            names.update(dict.fromkeys(compiled.counter_names))
    return tuple(names)


def describe_points(scenario: Scenario) -> list[dict[str, Any]]:
    """Geometry and expected success probability of every sweep point (for ``qrate validate``)."""
    rows = []
    for plan in plan_sweep(scenario):
        p = plan.params()
        rows.append(
            {
                "ground_distance_km": plan.ground_distance_km,
                "slant_range_km": p["slant_range_km"],
                "elevation_deg": p["elevation_deg"],
                "mean_eta_free_space": plan.mean_eta_joint,
                "p_success_expected": plan.p_success_expected,
            }
        )
    return rows
