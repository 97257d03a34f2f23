"""A scenario as a function of some of its fields: expected and Monte Carlo estimates at given values.

:class:`Evaluator` checks the fields once (they exist, are numeric, the scenario has one point
once they are set), then builds the scenario of any values (validated like ``--set``) and
evaluates it: one sweep point, or every step of every pass of a pass run. Its estimates form one
flat namespace: a point's estimates (``qrate show --json`` keys), or for a pass run the per-pass,
per-day and per-year totals of :func:`qrate.estimates.pass_summary` (``key_bits_per_pass``,
``finite_key_bits_per_pass``, ``heralded_pairs_per_day`` ...; ``key_bits`` is read as its mean per
pass).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qrate.engine.grid import plan_sweep
from qrate.engine.plan import PointPlan
from qrate.errors import InputError
from qrate.require.expected import expected_estimates, expected_passes, point_pulses
from qrate.scenario.axes import DISTANCE_AXIS, EXCLUSIVE_KEYS, point_scenario_from
from qrate.scenario.schema import Scenario


def field_value(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """``(present, value)`` of the dotted ``path`` in a scenario dump."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


@dataclass
class Evaluator:
    """Expected and sampled estimates of ``scenario`` with ``fields`` set to given values.

    Attributes:
        scenario: the base scenario (``--set`` applied); fields: the fields to set, each checked.
        integers: the fields among them that take integers (``--over`` only).
        evaluations: expected-value evaluations so far.
    """

    scenario: Scenario
    fields: Sequence[str]
    options: Mapping[str, str] = field(default_factory=dict)
    integers: set[str] = field(default_factory=set)
    evaluations: int = 0

    def __post_init__(self) -> None:
        self.base = self.scenario.model_dump(mode="json")
        self.passes = self.scenario.passes is not None
        for f in self.fields:
            self._check(f)
        extra = [a for a in self.scenario.sweep.axes() if a not in self.fields]
        if extra:
            raise InputError(
                self._option(self.fields[0]), f"the scenario sweeps {extra[0]}; a requirement is sought at one point"
            )
        if not self.passes and DISTANCE_AXIS not in self.fields and len(self.scenario.sweep.distances_km()) > 1:
            raise InputError(
                self._option(self.fields[0]),
                f"the scenario has {len(self.scenario.sweep.distances_km())} ground distances;"
                " choose one with --sweep ground_distance_km=D",
            )

    def _option(self, name: str) -> str:
        return self.options.get(name, "--vary")

    def _check(self, name: str) -> None:
        option = self._option(name)
        if name == DISTANCE_AXIS:
            if self.passes:
                raise InputError(option, "a pass run has no ground_distance_km (its geometry comes from the passes)")
            return
        present, value = field_value(self.base, name)
        if not present:
            raise InputError(option, f"no such scenario field {name!r}")
        other = EXCLUSIVE_KEYS.get(name.rsplit(".", 1)[-1])
        if value is None and other is not None and field_value(self.base, name.rsplit(".", 1)[0] + "." + other)[1] is not None:
            # set in its other form (a diameter for a radius, names for a user count): the schema checks the value
            if name.endswith("_count"):
                if option != "--over":
                    raise InputError(option, f"{name} takes integers; a threshold needs a real-valued field (give it to --over)")
                self.integers.add(name)
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            what = "not set in this scenario" if value is None else f"not numeric (it is {value!r})"
            raise InputError(option, f"{name} is {what}")
        if isinstance(value, int):  # an integer field (the dump keeps a float field's 1 as 1.0)
            if option != "--over":
                raise InputError(option, f"{name} takes integers; a threshold needs a real-valued field (give it to --over)")
            self.integers.add(name)

    # ------------------------------------------------------------------------------- points
    def scenario_at(self, values: Mapping[str, float]) -> Scenario:
        """The scenario with the fields set to ``values`` (InputError naming the option if refused)."""
        vals = {k: (round(v) if k in self.integers else float(v)) for k, v in values.items()}
        if not self.passes:
            vals.setdefault(DISTANCE_AXIS, self.scenario.sweep.distances_km()[0])
        try:
            if self.passes:  # the geometry comes from the passes: no sweep point to pick
                from qrate.scenario.axes import point_data
                from qrate.scenario.load import validate_data

                return validate_data(point_data(self.base, vals))
            return point_scenario_from(self.base, vals)
        except InputError as exc:
            name = next(iter(values), DISTANCE_AXIS)
            reason = re.sub(r"^value .* is refused: ", "", exc.message)
            raise InputError(self._option(name), f"{name} = {values[name]:g} is refused: {reason}") from None

    def plans(self, values: Mapping[str, float]) -> tuple[Scenario, list[PointPlan]]:
        """The point scenario and its plans (one point, or the steps of its passes)."""
        sc = self.scenario_at(values)
        try:
            return sc, plan_sweep(sc)
        except InputError as exc:
            name = next(iter(values), DISTANCE_AXIS)
            raise InputError(self._option(name), f"{name} = {values[name]:g}: {exc.field}: {exc.message}") from None

    def expected(self, values: Mapping[str, float]) -> dict[str, Any]:
        """Expected estimates (flat namespace, module docstring)."""
        self.evaluations += 1
        sc, plans = self.plans(values)
        s = sc.sampling
        if self.passes:
            passes, summary = expected_passes(plans, s.pulses_per_batch, s.batches)
            return flat_pass_estimates(passes, summary)
        return expected_estimates(plans[0], point_pulses(plans[0], s.pulses_per_batch, s.batches))

    def monte_carlo(self, values: Mapping[str, float], key: str, batches: int | None = None) -> tuple[dict[str, Any], float]:
        """Sampled estimates and the standard error of ``key`` (the scenario's seed and batches unless given;
        in a pass run every batch simulates one whole pass)."""
        from qrate.estimates import estimate_point
        from qrate.require.montecarlo import mc_passes, point_rows, standard_error

        sc, plans = self.plans(values)
        s = sc.sampling
        seed = s.seed if s.seed is not None else 0
        n = batches or s.batches
        if self.passes:  # every batch one whole pass (a step's pulses are split over sampling.batches)
            passes, summary = mc_passes(plans, seed, n, s.pulses_per_batch, scale=s.batches)
            est = {**flat_pass_estimates(passes, summary), "batches": n}
            return est, float(est.get(key + "_stderr") or math.nan)
        rows = point_rows(plans[0], seed, n, s.pulses_per_batch)
        report = plans[0].report()
        est = estimate_point(rows, report)
        return est, standard_error(est, key, rows, report)


def flat_pass_estimates(passes: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> dict[str, Any]:
    """One namespace for a pass run: the summary's per-pass/day/year values with ``*_stderr`` for each,
    and every pass total's name standing for its mean per pass."""
    out: dict[str, Any] = dict(summary)
    n = max(len(passes), 1)
    days = float(summary.get("window_days") or math.nan)
    for key in list(summary):
        if key.endswith("_per_pass"):
            base = key[: -len("_per_pass")]
            se_day = summary.get(base + "_per_day_stderr")
            out[key + "_stderr"] = se_day * days / n if se_day is not None else None
            out[base] = out[key]
            out[base + "_stderr"] = out[key + "_stderr"]
    return out
