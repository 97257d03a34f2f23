"""The scenarios of a sweep's grid points, without validating the whole scenario at every point.

A grid point's scenario is the sweep's scenario with its axis fields set and a one-distance sweep
(:func:`qrate.scenario.axes.point_scenario_from` validates all of it). :class:`PointScenarios`
gives the same :class:`~qrate.scenario.schema.Scenario` at a fraction of the cost:

* the innermost table that holds each axis field (``links.leo`` for ``links.leo.aperture_radius_m``,
  ``nodes.ground_stations.GS1`` for its ``user_count``) is validated from the point's data, once per
  combination of the values of the axes in that table;
* the tables above it (up to the scenario) are validated again with their other tables passed as the
  validated objects they already are, so that every rule of every table above, the scenario's cross-field
  rules included, sees the point's values (a rule broken only by a combination of axis values is refused);
  the tables no axis touches are validated once and shared by every point;
* the scenario of a combination of field-axis values is built once; a distance only changes its
  one-distance ``sweep`` (no scenario rule reads the sweep of a one-point scenario).

Whatever the fast way cannot build (an axis that sets a whole table, a refused value) is built by full
validation instead, which raises the error, naming the field and the axis, that it always raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from qrate.scenario.axes import DISTANCE_AXIS, point_data, point_scenario_from
from qrate.scenario.load import _resolve_model, check_users
from qrate.scenario.schema import Scenario, Sweep

CACHE_SIZE = 1024
"""Validated tables kept per sweep (by the values of the axes in them), and distances' sweeps; the oldest go first."""
COMBOS = 64
"""Scenarios of combinations of field-axis values kept (a caller that plans grid lines in order asks for each once)."""

Path = tuple[str, ...]


def table_of(base: Mapping[str, Any], path: str) -> tuple[Path, type[BaseModel]]:
    """The innermost table of scenario data ``base`` that holds the field at dotted ``path``, and its model
    (``()`` and :class:`Scenario` for a field of the scenario itself or of one of its named-table maps)."""
    parts = path.split(".")
    cls: type[BaseModel] = Scenario
    node: Any = base
    table: Path = ()
    i = 0
    while i < len(parts) - 1:
        info = cls.model_fields.get(parts[i])
        if info is None or not isinstance(node, Mapping):
            break
        child = node.get(parts[i])
        annotation: Any = info.annotation
        step = 1
        if get_origin(annotation) is dict:  # a map of named tables: the next part is the name
            if i + 2 >= len(parts) or not isinstance(child, Mapping):
                break
            child = child.get(parts[i + 1])
            annotation = get_args(annotation)[1]
            step = 2
        if not isinstance(child, Mapping):
            break
        model = _resolve_model(annotation, child)
        if model is None:
            break
        i += step
        cls, node, table = model, child, tuple(parts[:i])
    return table, cls


def _hashable(key: Any) -> Any:
    """``key`` if it can key a cache (axis values may be tables or arrays), else None."""
    try:
        hash(key)
    except TypeError:
        return None
    return key


class PointScenarios:
    """``self(values)``: the scenario of the grid point with axis values ``values`` (``{axis: value}``, the
    distance included), equal to :func:`~qrate.scenario.axes.point_scenario_from` of the sweep's dump (the
    same model, or the same error). Built once per sweep; holds at most :data:`CACHE_SIZE` tables and
    :data:`COMBOS` scenarios."""

    def __init__(self, scenario: Scenario) -> None:
        self.base: dict[str, Any] = scenario.model_dump(mode="json")
        self.axes = tuple(scenario.sweep.axes())
        found = {axis: table_of(self.base, axis) for axis in self.axes}
        classes = dict(found.values())
        outer: list[Path] = []  # a table inside another axis's table is validated with it (as part of its data)
        for t in sorted(classes, key=len):
            if not any(t[: len(o)] == o for o in outer):
                outer.append(t)

        def owner(t: Path) -> Path:
            return next(o for o in outer if t[: len(o)] == o)

        self.tables: dict[Path, tuple[type[BaseModel], tuple[str, ...]]] = {
            o: (classes[o], tuple(a for a, (t, _) in found.items() if owner(t) == o)) for o in outer
        }
        self.fast = () not in self.tables
        self._tree: dict[str, Any] = {}
        for t in self.tables:
            node = self._tree
            for part in t[:-1]:
                node = node.setdefault(part, {})
            node[t[-1]] = None
        self._ref: Scenario | None = None
        self._instances: dict[Any, BaseModel] = {}
        self._combos: dict[Any, Scenario] = {}
        self._sweeps: dict[Any, Sweep] = {}

    def __call__(self, values: Mapping[str, Any]) -> Scenario:
        if not self.fast:
            return point_scenario_from(self.base, values)
        try:
            return self._build(values)
        except Exception:  # anything refused: full validation raises its own error, naming the field and the axis
            return point_scenario_from(self.base, values)

    def _sweep(self, values: Mapping[str, Any]) -> Sweep:
        distance = values.get(DISTANCE_AXIS)
        key = _hashable(distance)
        sweep = self._sweeps.get(key) if key is not None else None
        if sweep is None:
            sweep = Sweep.model_validate(point_data({"sweep": self.base["sweep"]}, {DISTANCE_AXIS: distance})["sweep"])
            if key is not None and len(self._sweeps) < CACHE_SIZE:
                self._sweeps[key] = sweep
        return sweep

    def _build(self, values: Mapping[str, Any]) -> Scenario:
        if self._ref is None:  # one full validation: every table no axis touches, validated once for all points
            self._ref = point_scenario_from(self.base, values)
            return self._ref
        combo = _hashable(tuple(values[a] for a in self.axes))
        scenario = self._combos.get(combo) if combo is not None else None
        if scenario is None:
            scenario = self._combo(values)
            if combo is not None:
                if len(self._combos) >= COMBOS:
                    del self._combos[next(iter(self._combos))]
                self._combos[combo] = scenario
        return scenario.model_copy(update={"sweep": self._sweep(values)})

    def _combo(self, values: Mapping[str, Any]) -> Scenario:
        """The scenario of one combination of field-axis values (with the first point's sweep)."""
        assert self._ref is not None
        data: dict[str, Any] | None = None
        tables: dict[Path, BaseModel] = {}
        for path, (cls, axes) in self.tables.items():
            key = _hashable((path, tuple(values[a] for a in axes)))
            table = self._instances.get(key) if key is not None else None
            if table is None:
                if data is None:
                    data = point_data(self.base, values)
                node: Any = data
                for part in path:
                    node = node[part]
                table = cls.model_validate(node)
                if key is not None:
                    if len(self._instances) >= CACHE_SIZE:
                        del self._instances[next(iter(self._instances))]
                    self._instances[key] = table
            tables[path] = table
        scenario = self._rebuild(self._ref, self._tree, (), tables)
        check_users(scenario)  # the other whole-scenario check (check_axes) reads only the sweep: the first point's, passed
        return scenario

    def _rebuild(self, node: Any, tree: Mapping[str, Any], prefix: Path, tables: Mapping[Path, BaseModel]) -> Any:
        """``node`` (a validated table, or a map of named tables) with the tables of ``tree`` replaced; a table is
        validated again from its fields (the validated tables among them are taken as they are, their rules rerun)."""
        fields = {f: getattr(node, f) for f in type(node).model_fields} if isinstance(node, BaseModel) else dict(node)
        for part, sub in tree.items():
            here = (*prefix, part)
            fields[part] = tables[here] if sub is None else self._rebuild(fields[part], sub, here, tables)
        return type(node).model_validate(fields) if isinstance(node, BaseModel) else fields
