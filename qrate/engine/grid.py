"""Plans of a whole sweep: every grid point (:mod:`qrate.engine.plan`) or every step of a pass run
(:mod:`qrate.engine.passes`), and what a sweep's points share (counters, a description per point).

This module sits above both: ``plan`` knows one point, ``passes`` builds pass steps from it, and
``plan_sweep`` chooses between them, so neither imports the other back.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from qrate.engine.passes import plan_passes
from qrate.engine.plan import PointPlan, plan_point, protocol_of
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import ScenarioProtocol
from qrate.scenario.schema import Scenario


def plan_sweep(scenario: Scenario) -> list[PointPlan]:
    """Plans of every grid point (validates every point's scenario and geometry before anything runs).

    Each point is planned from its own scenario (:func:`qrate.scenario.axes.point_scenario`), so its
    key, and with it its random streams, depend on its content only.
    """
    return list(iter_plans(scenario))


def iter_plans(scenario: Scenario, start: int = 0, stop: int | None = None) -> Iterator[PointPlan]:
    """Plans of points ``start, ..., stop - 1`` of the sweep (all by default), lazily, in index order:
    the same plans as ``plan_sweep(scenario)[start:stop]``, without planning the others."""
    from qrate.scenario.axes import DISTANCE_AXIS, grid, point_scenario_from

    if scenario.passes is not None:
        if not scenario.sweep.axes():
            yield from plan_passes(scenario)[start:stop]
            return
        base_data = scenario.model_dump(mode="json")
        out: list[PointPlan] = []
        sw = scenario.sweep
        for axes in grid(sw.axes(), zipped=sw.zip, max_points=sw.max_points):  # each grid point's passes
            out.extend(plan_passes(point_scenario_from(base_data, axes), start_index=len(out), axes=axes))
        yield from out[start:stop]
        return
    if not scenario.sweep.axes():
        protocol = protocol_of(scenario)
        for i, d in itertools.islice(enumerate(scenario.sweep.distances_km()), start, stop):
            yield plan_point(scenario, i, d, protocol)
        return
    base = scenario.model_dump(mode="json")
    protocols: dict[str, ScenarioProtocol] = {}
    noises: dict[str, PauliNoise] = {}
    for i, values in itertools.islice(enumerate(scenario.sweep.points()), start, stop):
        ps = point_scenario_from(base, values)
        which = ps.model_dump_json(include={"nodes", "protocol"})
        protocol = protocols.get(which) or protocols.setdefault(which, protocol_of(ps))
        axes = {k: v for k, v in values.items() if k != DISTANCE_AXIS}
        plan = plan_point(ps, i, values[DISTANCE_AXIS], protocol, axes)
        shared = noises.setdefault(repr(plan.noise), plan.noise)  # one noise object per distinct noise: memory
        yield plan if shared is plan.noise else dataclasses.replace(plan, noise=shared)


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
