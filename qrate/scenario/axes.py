"""Sweep axes: any scenario field as an axis, their grid, and the scenario of each grid point.

A scenario's ``[sweep]`` table holds ``ground_distance_km`` (the midpoint-platform distance) and
any number of further axes, each keyed by the dotted path of a scenario field::

    [sweep]
    ground_distance_km = [0, 1000, 2000]
    "links.leo.aperture_radius_m" = [0.5, 1.0, 3.0]
    "links.leo.divergence_rad" = { start = 1e-6, stop = 1e-5, num = 5, log = true }

An axis is a list of distinct values or a range: ``{start, stop, step}`` (``start, start + step,
...`` up to ``stop`` inclusive) or ``{start, stop, num, log = false}`` (``num`` values evenly spaced,
geometrically with ``log = true``). The axes form the Cartesian grid (``zip = true`` pairs them
instead: all lists must then have the same length), with ``ground_distance_km`` varying fastest.
Each grid point is a complete scenario with the axis fields set (:func:`point_scenario`), so a
point's numbers are those of a one-point run with the same fields set by ``--set``, and a point's
random streams (which derive from its content) do not change when axis values are added or
reordered.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from qrate.errors import InputError

DISTANCE_AXIS = "ground_distance_km"
MAX_POINTS = 10_000_000
"""Most points a sweep may have (``sweep.max_points`` lowers it; its default is this too)."""
PROJECTED_BATCH_S = 2.5e-4
"""Seconds of one core per batch of 10^6 pulses with its bookkeeping (measured: khan-acka-leo, exact sampler,
``benchmarks/bench_scale.py``), for the projection quoted when a grid is refused."""
PROJECTED_POINT_S = 1e-3
"""Seconds of one core per point besides its batches (planning, compiling its protocol, writing)."""
PROJECTED_BATCH_BYTES = 20
"""File bytes per stored batch row (compressed; measured as above)."""
PROJECTED_POINT_BYTES = 200
"""File bytes per point besides its batches (its row of the points table and its parameters, compressed)."""


def projection(points: int, batches: int, pulses_per_batch: int) -> str:
    """What a sweep of ``points`` points costs: one core's time and the results file's size (one phrase)."""
    batch_s = PROJECTED_BATCH_S * max(pulses_per_batch / 1e6, 1.0)
    seconds = points * (batches * batch_s + PROJECTED_POINT_S)
    size = points * (batches * PROJECTED_BATCH_BYTES + PROJECTED_POINT_BYTES)
    hours = seconds / 3600
    when = f"{hours:.3g} core-hours" if hours >= 1 else f"{seconds / 60:.3g} core-minutes"
    return (
        f"projected at {batches} batches of {pulses_per_batch:.3g} pulses per point: about {when}, a {size / 2**30:.3g} GiB file"
    )


RESERVED = frozenset({DISTANCE_AXIS, "zip", "max_points"})
"""Keys of ``[sweep]`` that are not field axes."""
#: keys that exclude each other: setting one by an axis removes the other from its table
EXCLUSIVE_KEYS = {
    "aperture_radius_m": "aperture_diameter_m",
    "aperture_diameter_m": "aperture_radius_m",
    "users": "user_count",
    "user_count": "users",
}


def axis_values(axis: str, spec: Any) -> tuple[Any, ...]:
    """The values of one axis given as a list or a range table (InputError naming ``sweep.<axis>``)."""
    field = f"sweep.{axis}"
    if isinstance(spec, Mapping):
        return _range_values(field, spec)
    if not isinstance(spec, list | tuple):
        raise InputError(
            field, f"expected a list of values or a range table {{start, stop, step}} / {{start, stop, num}}, got {spec!r}"
        )
    if not spec:
        raise InputError(field, "expected at least one value")
    seen: set[Any] = set()
    tables: list[Any] = []  # values that cannot be hashed (tables, arrays): compared one by one
    for v in spec:
        try:
            repeated = v in seen
            seen.add(v)
        except TypeError:
            repeated = v in tables
            tables.append(v)
        if repeated or (isinstance(v, float) and math.isnan(v)):
            raise InputError(field, f"expected distinct values, {v!r} repeated")
    return tuple(spec)


def _number(field: str, spec: Mapping[str, Any], key: str) -> float:
    v = spec.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError(f"{field}.{key}", f"expected a finite number, got {v!r}")
    return float(v)


def _range_values(field: str, spec: Mapping[str, Any]) -> tuple[float, ...]:
    unknown = set(spec) - {"start", "stop", "step", "num", "log"}
    if unknown:
        raise InputError(
            f"{field}.{sorted(unknown)[0]}", "unknown key; expected start, stop and step, or start, stop, num and log"
        )
    start, stop = _number(field, spec, "start"), _number(field, spec, "stop")
    if ("step" in spec) == ("num" in spec):
        raise InputError(field, "give exactly one of step or num")
    if "step" in spec:
        step = _number(field, spec, "step")
        if step <= 0 or stop < start:
            raise InputError(field, f"expected step > 0 and stop >= start, got start={start:g}, stop={stop:g}, step={step:g}")
        n = math.floor((stop - start) / step + 1e-9) + 1
        if n > MAX_POINTS:
            raise InputError(field, f"expected at most {MAX_POINTS} values, the range has {n}")
        return tuple(round(start + i * step, 12) for i in range(n))
    num = spec["num"]
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_POINTS:
        raise InputError(f"{field}.num", f"expected an integer in [1, {MAX_POINTS}], got {num!r}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise InputError(f"{field}.log", f"expected true or false, got {log!r}")
    if num == 1:
        return (start,)
    if log:
        if start <= 0 or stop <= 0:
            raise InputError(field, "a log range needs start > 0 and stop > 0")
        a, b = math.log(start), math.log(stop)
        values = [math.exp(a + (b - a) * i / (num - 1)) for i in range(num)]
        values[0], values[-1] = start, stop
        return tuple(float(f"{v:.12g}") for v in values)
    return tuple(float(f"{start + (stop - start) * i / (num - 1):.12g}") for i in range(num))


def field_axes(sweep: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    """The field axes of a ``[sweep]`` table (every key but the reserved ones), with their values."""
    return {k: axis_values(k, v) for k, v in sweep.items() if k not in RESERVED}


class GridPoints(Sequence[dict[str, Any]]):
    """The points of a grid as a lazy sequence: point ``i`` is decoded from ``i`` on demand (mixed radix,
    last axis fastest; or the ``i``-th value of every zipped axis), so a grid of 10^6 points is never
    a list. ``constant`` axes (one value each) follow the varying ones in every point.
    """

    __slots__ = ("_constant", "_names", "_radices", "_size", "_values", "_zipped")

    def __init__(
        self, axes: Mapping[str, Sequence[Any]], *, zipped: bool = False, constant: Mapping[str, Any] | None = None
    ) -> None:
        self._names = tuple(axes)
        self._values = tuple(tuple(v) for v in axes.values())
        self._zipped = zipped
        self._constant = tuple((constant or {}).items())
        self._radices = tuple(len(v) for v in self._values)
        if zipped:
            self._size = self._radices[0] if self._radices else 1
        else:
            self._size = math.prod(self._radices)

    def __len__(self) -> int:
        return self._size

    def values_at(self, index: int) -> tuple[Any, ...]:
        """The varying axes' values of point ``index`` (0 <= index < len), in axis order."""
        if self._zipped:
            return tuple(v[index] for v in self._values)
        digits = []
        for values, radix in zip(reversed(self._values), reversed(self._radices), strict=True):
            index, digit = divmod(index, radix)
            digits.append(values[digit])
        return tuple(reversed(digits))

    def _point(self, values: Sequence[Any]) -> dict[str, Any]:
        point = dict(zip(self._names, values, strict=True))
        point.update(self._constant)
        return point

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return (
                list(self.iter_from(*index.indices(self._size)[:2]))
                if index.step in (None, 1)
                else [self[i] for i in range(*index.indices(self._size))]
            )
        i = operator.index(index)
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(f"grid point {index} out of range ({self._size} points)")
        return self._point(self.values_at(i))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.iter_from(0)

    def iter_from(self, start: int, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """Points ``start, ..., stop - 1`` in order (clipped to the grid), at O(1) cost each: the first is
        decoded, the next ones follow by counting (an odometer), so the cost does not grow with ``start``."""
        start = max(0, start)
        stop = self._size if stop is None else min(stop, self._size)
        if start >= stop:
            return
        if self._zipped:
            for i in range(start, stop):
                yield self._point([v[i] for v in self._values])
            return
        digits = []
        rest = start
        for radix in reversed(self._radices):
            rest, digit = divmod(rest, radix)
            digits.append(digit)
        digits.reverse()
        current = [values[d] for values, d in zip(self._values, digits, strict=True)]
        last = len(digits) - 1
        for _ in range(stop - start):
            yield self._point(current)
            k = last
            while k >= 0:  # advance the odometer, last axis fastest
                digits[k] += 1
                if digits[k] < self._radices[k]:
                    current[k] = self._values[k][digits[k]]
                    break
                digits[k] = 0
                current[k] = self._values[k][0]
                k -= 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GridPoints | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by value

    def __repr__(self) -> str:
        return f"GridPoints({len(self)} points over {', '.join(self._names + tuple(k for k, _ in self._constant))})"


def grid(
    axes: Mapping[str, Sequence[Any]],
    *,
    zipped: bool = False,
    max_points: int = MAX_POINTS,
    constant: Mapping[str, Any] | None = None,
) -> GridPoints:
    """Every grid point as ``{axis: value}``: the Cartesian product (last axis fastest), or the zip, as a lazy
    sequence (:class:`GridPoints`; nothing is built until a point is asked for); ``constant`` axes are added
    to every point.

    Raises:
        InputError: zipped axes of different lengths, or more than ``max_points`` points.
    """
    if zipped:
        lengths = {len(v) for v in axes.values()}
        if len(lengths) > 1:
            raise InputError("sweep.zip", f"zipped axes need equal lengths, got {dict((k, len(v)) for k, v in axes.items())}")
    points = GridPoints(axes, zipped=zipped, constant=constant)
    n = len(points)
    if n > max_points:
        raise InputError(
            "sweep", f"the sweep has {n} points, more than max_points = {max_points}; shrink an axis or raise sweep.max_points"
        )
    return points


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the dotted ``path`` in nested ``data`` (which must already lead to a table holding the key)."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            raise InputError(
                f"sweep.{path}", f"no such scenario field: {'.'.join(parts[: i + 1])} is not a table of this scenario"
            )
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise InputError(f"sweep.{path}", "no such scenario field in this scenario")
    other = EXCLUSIVE_KEYS.get(parts[-1])
    if other is not None:
        node.pop(other, None)
    node[parts[-1]] = value


def _copy_along(data: dict[str, Any], path: str) -> None:
    """Replace the tables along ``path`` in ``data`` by copies (copy on write: ``base`` stays as it is,
    and the point's data shares every other table with it; validation never changes its input)."""
    node = data
    for part in path.split(".")[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return  # set_path names the missing field
        node[part] = dict(child)
        node = node[part]


def point_data(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario data of one grid point: ``base`` (a full dump, defaults included) with the axis fields set
    and a one-distance sweep."""
    data: dict[str, Any] = dict(base)
    sweep = data.pop("sweep", {})
    for path, value in values.items():
        if path != DISTANCE_AXIS:
            _copy_along(data, path)
            set_path(data, path, value)
    distance = values.get(DISTANCE_AXIS)
    data["sweep"] = {DISTANCE_AXIS: [distance]} if distance is not None else {DISTANCE_AXIS: sweep.get(DISTANCE_AXIS)}
    return data


def point_scenario(scenario: Any, values: Mapping[str, Any]) -> Any:
    """The :class:`~qrate.scenario.schema.Scenario` of one grid point (a one-distance sweep, no field axes).

    Raises:
        InputError: naming ``sweep.<axis>`` and the value when the field refuses it.
    """
    return point_scenario_from(scenario.model_dump(mode="json"), values)


def check_axes(scenario: Any) -> None:
    """Check the grid's size and every value of every field axis on its own, like the field itself.

    Raises:
        InputError: naming ``sweep.<axis>`` (a bad list or range, a refused value, a missing field) or
            ``sweep`` (more than ``max_points`` points).
    """
    n, limit = scenario.sweep.count_points(), scenario.sweep.max_points
    if n > limit:
        s = scenario.sampling
        raise InputError(
            "sweep",
            f"the sweep has {n} points, more than max_points = {limit} ({projection(n, s.batches, s.pulses_per_batch)});"
            " shrink an axis or raise sweep.max_points",
        )
    scenario.sweep.points()
    if not scenario.sweep.axes():
        return
    base = scenario.model_dump(mode="json")
    distance = scenario.sweep.distances_km()[0]
    for axis, values in scenario.sweep.axes().items():
        for value in values:
            point_scenario_from(base, {axis: value, DISTANCE_AXIS: distance})


def point_scenario_from(base: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    """Like :func:`point_scenario`, from a scenario dump (saves one dump per point in large grids)."""
    from qrate.scenario.load import validate_data

    data = point_data(base, values)
    try:
        return validate_data(data, text_checked=True)  # base and values come from a validated scenario
    except InputError as exc:
        axis = next((k for k in values if k != DISTANCE_AXIS), DISTANCE_AXIS)
        value = values.get(axis)
        raise InputError(f"sweep.{axis}", f"value {value!r} is refused: {exc.field}: {exc.message}") from None
