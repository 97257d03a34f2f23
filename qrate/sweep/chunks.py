"""Chunks of sweep points, planned where they run: the check pass and the point-level task.

A chunk is a range ``start, ..., stop - 1`` of point indices. It is planned where it runs
(:func:`plans_of`: in the ``qrate`` process for ``sync``, inside the Dask task on a cluster), so
no plan travels and none outlives its chunk. :func:`check_chunk` plans a chunk and keeps only
what the run must know before it opens the file (keys, batch caps, counters, refusals);
:func:`run_chunk` plans a chunk again and runs each point to its stop, returning compact arrays.

Each point runs its batches in index order with its own :class:`~qrate.sweep.stopping.PointTally`
(:func:`point_steps`): the stop is a function of the prefix, so a point stops at the same batch
whichever process runs it, and its rows are those of the in-process loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.engine.grid import counter_names, iter_plans
from qrate.engine.plan import PointPlan
from qrate.errors import InputError
from qrate.scenario.schema import Scenario
from qrate.stats import BASE_FIELDS, COUNTER_PREFIX, BatchStats, batch_dtype, counter_names_of, row_stats
from qrate.store import schema
from qrate.sweep.stopping import Limits, PointTally

KEY_DTYPE = np.dtype(f"S{schema.KEY_DIGITS}")
STEP_BATCHES = 64
"""Most batches of a point drawn in one call (and handed on as one group: rows reach the file as they come)."""
_PASS_PLANS: dict[str, list[PointPlan]] = {}


def plans_of(scenario: Scenario, start: int, stop: int) -> Iterator[PointPlan]:
    """Plans of points ``start, ..., stop - 1``. A pass run's steps come out of one computation of
    every pass, kept once per process (pass runs are small: steps of a few passes)."""
    if scenario.passes is None:
        return iter_plans(scenario, start, stop)
    text = scenario.model_dump_json()
    plans = _PASS_PLANS.get(text)
    if plans is None:
        _PASS_PLANS.clear()
        plans = _PASS_PLANS[text] = list(iter_plans(scenario))
    return iter(plans[start:stop])


def key_of(plan: PointPlan) -> bytes:
    """The point's key as stored in the points table (32 hex digits)."""
    return f"{plan.key:032x}".encode()


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check pass keeps of a chunk of points.

    Attributes:
        start, keys: the chunk's first point and every point's key (``S32``).
        caps: most batches each point may run (``int64``).
        counter_names: the counters of its protocols, in first-seen order.
        error: ``(field, message)`` of the first InputError (bad geometry, an estimate the target
            names that a protocol lacks), or None.
    """

    start: int
    keys: np.ndarray
    caps: np.ndarray
    counter_names: tuple[str, ...]
    error: tuple[str, str] | None = None


def check_chunk(scenario: Scenario, start: int, stop: int, limits: Limits, pulses: int) -> Checked:
    """Plan points ``start, ..., stop - 1`` (every geometry and protocol checked) and keep their keys.

    InputError is returned as data (``error``), not raised: it crosses Dask as a plain tuple.
    """
    keys, caps = [], []
    distinct: dict[Any, PointPlan] = {}
    try:
        for plan in plans_of(scenario, start, stop):
            keys.append(key_of(plan))
            caps.append(limits.batch_cap(plan.pulses_per_batch or pulses))
            distinct.setdefault((plan.protocol, plan.repetition_rate_hz, plan.key_block_s), plan)
        limits.check([p.report() for p in distinct.values()])
        names = counter_names(list(distinct.values()))
    except InputError as exc:
        return Checked(start, np.zeros(0, KEY_DTYPE), np.zeros(0, np.int64), (), (exc.field, exc.message))
    return Checked(start, np.array(keys, dtype=KEY_DTYPE), np.array(caps, dtype=np.int64), names)


def point_params(plan: PointPlan, report: Mapping[str, Any]) -> bytes:
    """The point's stored parameters (JSON), its report left out where it is the file's (as
    :meth:`qrate.store.ResultsWriter.add_point` stores them)."""
    from qrate.sweep.collect import round_samplers

    data = {**plan.params(), "samplers": round_samplers(plan)}
    if data.get("report") == report:
        del data["report"]
    return json.dumps(data, default=float).encode()


def point_steps(
    plan: PointPlan,
    root_seed: int,
    limits: Limits,
    pulses: int,
    tally: PointTally,
    stored: np.ndarray | None = None,
    per_pulse: bool = False,
) -> Iterator[list[tuple[int, BatchStats]]]:
    """Run one point to its stop; yield each group of newly accepted ``(batch index, stats)``.

    Batches are accepted in index order into ``tally``; stored rows (a resumed file's) are
    accepted, not recomputed and not yielded. Missing batches run in contiguous ranges of at most
    ``STEP_BATCHES``: up to the cap without a target error, else up to ``min_batches`` and then
    one at a time, so that no batch past the stop is computed.
    """
    from qrate.sweep.collect import sample_batches

    have: dict[int, BatchStats] = {}
    if stored is not None and stored.size:
        names = counter_names_of(stored)
        have = {int(r["batch_index"]): row_stats(r, names) for r in stored}
    cap = limits.batch_cap(pulses)
    targeted = limits.target_relative_error is not None
    while not tally.enough():
        b = tally.n
        if b in have:
            tally.add(have.pop(b))
            continue
        stop = b + 1
        limit = min(cap if not targeted else max(b + 1, min(cap, limits.min_batches)), b + STEP_BATCHES)
        while stop < limit and stop not in have:
            stop += 1
        new: list[tuple[int, BatchStats]] = []
        for i, stats in enumerate(sample_batches(plan, root_seed, b, stop - b, pulses, per_pulse)):
            if i and tally.enough():
                break
            tally.add(stats)
            new.append((b + i, stats))
        yield new


def stats_table(points: Sequence[int], items: Sequence[tuple[int, BatchStats]], names: Sequence[str]) -> np.ndarray:
    """Batch rows in the batches table's layout (``point`` first) of ``(batch index, stats)`` of the given points."""
    table = np.zeros(len(items), dtype=schema.batches_dtype(batch_dtype(names)))
    table["point"] = points
    table["batch_index"] = [b for b, _ in items]
    for name, _ in BASE_FIELDS[1:]:
        table[name] = [getattr(s, name) for _, s in items]
    for n in names:
        table[COUNTER_PREFIX + n] = [s.counts.get(n, 0) for _, s in items]
    return table


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What a point task returns: per point (index order) its plan index, distance, key, stored
    parameters (``params`` sliced by ``params_length``), accepted batches ``n``, pulses, and the
    relative error at its stop, its batch cap; ``rows`` holds its new batch rows (``point``: the plan
    index); ``seconds``: the task's wall time."""

    index: np.ndarray
    ground_distance_km: np.ndarray
    keys: np.ndarray
    params: bytes
    params_length: np.ndarray
    n: np.ndarray
    pulses: np.ndarray
    error: np.ndarray
    caps: np.ndarray
    rows: np.ndarray
    seconds: float

    def params_json(self) -> list[bytes]:
        """Each point's parameters (JSON bytes)."""
        ends = np.cumsum(self.params_length).tolist()
        return [self.params[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def run_chunk(
    scenario: Scenario,
    root_seed: int,
    limits: Limits,
    pulses: int,
    start: int,
    stop: int,
    names: Sequence[str],
    report: Mapping[str, Any],
    stored: Mapping[int, np.ndarray] | None = None,
    per_pulse: bool = False,
) -> ChunkResult:
    """Plan points ``start, ..., stop - 1`` and run each to its stop (one Dask task, or in-process).

    ``stored``: a resumed file's rows per plan index (accepted, not recomputed, not returned).
    """
    from qrate.sweep.collect import sample_batches  # noqa: F401  (imports the engine once per process)

    t0 = time.perf_counter()
    stored = stored or {}
    index, dist, keys, blobs, ns, pulses_done, errors, caps = [], [], [], [], [], [], [], []
    points: list[int] = []
    items: list[tuple[int, BatchStats]] = []
    by_estimate = limits.target_relative_error is not None and limits.target_estimate != "rate"
    for plan in plans_of(scenario, start, stop):
        tally = PointTally(limits, plan.report() if by_estimate else None)
        own = plan.pulses_per_batch or pulses
        for new in point_steps(plan, root_seed, limits, own, tally, stored.get(plan.index), per_pulse):
            items += new
            points += [plan.index] * len(new)
        tally.release()
        index.append(plan.index)
        dist.append(plan.ground_distance_km)
        keys.append(key_of(plan))
        blobs.append(point_params(plan, report))
        ns.append(tally.n)
        pulses_done.append(tally.pulses)
        errors.append(tally.last_error)
        caps.append(limits.batch_cap(own))
    return ChunkResult(
        np.array(index, dtype=np.int64),
        np.array(dist, dtype=np.float64),
        np.array(keys, dtype=KEY_DTYPE),
        b"".join(blobs),
        np.array([len(b) for b in blobs], dtype=np.int64),
        np.array(ns, dtype=np.int64),
        np.array(pulses_done, dtype=np.int64),
        np.array(errors, dtype=np.float64),
        np.array(caps, dtype=np.int64),
        stats_table(points, items, names),
        time.perf_counter() - t0,
    )


def relayout(table: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``table`` in ``dtype`` field by field (counters it lacks are 0): rows run before every counter was known."""
    if table.dtype == dtype:
        return table
    out = np.zeros(table.size, dtype=dtype)
    for name in table.dtype.names or ():
        if name in (dtype.names or ()):
            out[name] = table[name]
    return out


class ReorderBuffer:
    """Results of point ranges ``[first, first + size)``, pushed in any order, come out in point order:
    a Dask run takes its check results and writes its points and rows in (point, batch) order, as the
    in-process loop does (readers then check and stream the file in constant memory). Only results
    ahead of the first missing range are held (``held``): the caller counts them as in flight.
    """

    def __init__(self, start: int) -> None:
        self.next = start
        self._held: dict[int, tuple[int, Any]] = {}

    @property
    def held(self) -> int:
        return len(self._held)

    def push(self, first: int, size: int, result: Any) -> list[tuple[int, Any]]:
        """Hold ``result`` (points ``first, ..., first + size - 1``); return ``(first, result)`` of every
        range that now continues the written prefix, in order."""
        self._held[first] = (size, result)
        out = []
        while self.next in self._held:
            size, res = self._held.pop(self.next)
            out.append((self.next, res))
            self.next += size
        return out


def in_point_order(
    client: Any,
    submit: Callable[[int, int], Any],
    ranges: Iterator[tuple[int, int]],
    start: int,
    in_flight: int,
    arrived: Callable[[Any], None] = lambda result: None,
) -> Iterator[tuple[int, Any, int]]:
    """Dask tasks over point ranges, their results in point order: ``submit(first, stop)`` returns the
    future of range ``[first, stop)``; ``ranges`` (from ``start``, contiguous) is read only when a task
    is due, so it may size the next range from what arrived; ``in_flight`` tasks are kept going
    (results held back by the :class:`ReorderBuffer` count as in flight). ``arrived(result)`` sees
    every result as it arrives, before the next tasks are submitted. Yields ``(first, result, tasks
    running)`` in point order; outstanding tasks are cancelled when the caller stops early."""
    from distributed import as_completed

    flying: dict[Any, tuple[int, int]] = {}
    ordered = ReorderBuffer(start)
    ac = as_completed()

    def top_up() -> None:
        while len(flying) + ordered.held < in_flight:
            span = next(ranges, None)
            if span is None:
                return
            fut = submit(*span)
            flying[fut] = span
            ac.add(fut)

    try:
        top_up()
        for fut in ac:
            first, stop = flying.pop(fut)
            result = fut.result()
            fut.release()
            arrived(result)
            ready = ordered.push(first, stop - first, result)
            top_up()
            for at, res in ready:
                yield at, res, len(flying)
    finally:
        if flying:
            client.cancel(list(flying))
