"""The one sweep loop, on Dask or in-process: tasks of batch ranges, batches accepted in index order.

Each Dask task runs a contiguous range of one point's batches (:func:`sample_batches`); the range
grows with the measured batch time so that a task lasts about ``TASK_TARGET_S`` and Dask's
per-task overhead (a few ms) stays a few percent of the work. About ``IN_FLIGHT_PER_CORE`` ×
(total worker threads) tasks are kept in flight, filled point by point. Finished batches are
buffered and *accepted* in batch-index order only, so the stopping decision
(:class:`qrate.sweep.stopping.PointTally`) sees the same prefix whatever ran the batches and however
they were grouped into tasks; once a point stops, its outstanding tasks are cancelled and any batch
past the stopping index is dropped. Workers return only the small
:class:`~qrate.stats.BatchStats`; the caller (the client process) is the only writer of the file.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.engine.batch import run_batches
from qrate.engine.plan import CounterSampler, PointPlan, compile_protocol
from qrate.protocols.template import compile_noise
from qrate.stats import BatchStats, counter_names_of, row_stats
from qrate.sweep._allocator import tune_allocator
from qrate.sweep.stopping import Limits, PointTally

IN_FLIGHT_PER_CORE = 2
"""Tasks kept in flight per worker thread."""
TASK_TARGET_S = 0.25
"""Wall time one Dask task aims at (Dask costs 5-7 ms per task: under 3 %)."""
MAX_BATCHES_PER_TASK = 1024
_COMPILED: dict[tuple[Any, ...], CounterSampler] = {}
_COMPILED_MAX = 64


def _items(m: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(m.items()))


def circuit_key(plan: PointPlan) -> tuple[Any, ...]:
    """What a compiled protocol is a function of: the protocol, its Pauli noise (every probability,
    the GHZ sources' fidelities included) and the counter sampler. Points of a grid whose axes change
    only the loss (apertures, divergences, distances) share it: their protocol is compiled once. A
    protocol with its own pulse sampler (made for its point) is keyed by the point; a memory point
    also by its stored photons' keys and decoherence (its storage-noise classes), so it never shares
    with a memoryless point. (Points that differ in their noise share the stim error analysis of
    their rounds instead: :func:`qrate.protocols.exact.plan_round`.)"""
    if plan.pulse_sampler is not None:
        return ("point", plan.key, plan.sampler)
    noise = plan.noise
    ro = noise.readout_flip
    mp = plan.memory  # a memory point compiles one variant per storage-noise class of its stored photons
    return (
        plan.protocol,
        plan.sampler,
        _items(noise.z_flip),
        _items(noise.x_flip),
        _items(noise.depolarize),
        _items(ro) if isinstance(ro, Mapping) else ro,
        _items(noise.ghz_fidelity),
        None if mp is None else tuple((ph.keys, ph.decoherence) for ph in mp.photons),
    )


def compiled_protocol(plan: PointPlan) -> CounterSampler:
    """The point's compiled protocol, cached per process by :func:`circuit_key` (the protocol, its
    noise and the counter sampler fix the compiled circuits; the sampler how counters are drawn).
    Points with the same :func:`structure_key` (and GHZ fidelities) get their circuits by
    substitution of their probabilities into the first one's (:mod:`qrate.protocols.template`), and
    their rounds' exact samplers from one stim error analysis per round structure, evaluated at the
    point's probabilities (:func:`qrate.protocols.exact.plan_round`)."""
    key = circuit_key(plan)
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        if plan.pulse_sampler is None and plan.memory is None:  # circuits by substitution per structure
            template_key = (structure_key(plan), _items(plan.noise.ghz_fidelity))
            compiled = compile_noise(plan.protocol, plan.noise, template_key, sampler=plan.sampler)
        else:
            compiled = compile_protocol(plan)
        _COMPILED[key] = compiled
    return compiled


_SAMPLERS: dict[tuple[Any, ...], dict[str, str]] = {}


def structure_key(plan: PointPlan) -> tuple[Any, ...]:
    """What fixes the shape of a point's compiled protocol: the protocol, the counter sampler and
    which photons carry noise (not how much): points with equal keys have the same circuits up to
    their error probabilities, hence the same detector-error-model mechanisms and round samplers."""
    noise = plan.noise
    ro = noise.readout_flip
    readout = tuple(sorted(k for k, v in ro.items() if v > 0)) if isinstance(ro, Mapping) else ro > 0
    return (
        plan.protocol,
        plan.sampler,
        tuple(sorted(k for k, v in noise.z_flip.items() if v > 0)),
        tuple(sorted(k for k, v in noise.x_flip.items() if v > 0)),
        tuple(sorted(k for k, v in noise.depolarize.items() if v > 0)),
        readout,
        tuple(sorted(k for k, v in noise.ghz_fidelity.items() if v < 1)),
        None if plan.memory is None else tuple((ph.keys, ph.decoherence) for ph in plan.memory.photons),
    )


def round_samplers(plan: PointPlan) -> dict[str, str]:
    """Round name -> counter sampler of the point's protocol (``exact-table``, ``exact-sequential``,
    ``stim``), compiled once per :func:`structure_key` (the choice depends on the structure only)."""
    key = structure_key(plan)
    found = _SAMPLERS.get(key)
    if found is None:
        found = _SAMPLERS[key] = dict(compiled_protocol(plan).round_samplers)
    return dict(found)


def sample_batches(
    plan: PointPlan, root_seed: int, first: int, count: int, pulses: int, per_pulse: bool = False
) -> list[BatchStats]:
    """Run batches ``first, ..., first + count - 1`` of one point (one Dask task), with the point's
    set-up shared (:func:`qrate.engine.batch.run_batches`: each batch's rows are what its own
    ``(seed, point, batch)`` stream gives, whatever the range)."""
    tune_allocator()
    return run_batches(plan, compiled_protocol(plan), root_seed, first, count, pulses, per_pulse=per_pulse)


@dataclass(frozen=True, slots=True)
class SweepStatus:
    """Where the sweep stands (for progress reports).

    Attributes:
        points_done, points: points stopped and in total.
        batches_done, batches_cap: accepted batches and the most the sweep may still need in all.
        pulses_done: pulses in accepted batches (stored ones of a resumed run included).
        worst_relative_error: largest relative standard error of the mean rate among running points.
        in_flight: batches submitted and not yet gathered.
    """

    points_done: int
    points: int
    batches_done: int
    batches_cap: int
    pulses_done: int
    worst_relative_error: float
    in_flight: int


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of :func:`iter_collect`: newly accepted batches ``(point index, batch index, stats)``."""

    new: tuple[tuple[int, int, BatchStats], ...]
    status: SweepStatus


class _Totals:
    """Sweep-wide sums kept up to date by every point as it changes (O(1) per accepted batch).

    The slowest running point's error is a maximum over the running points: it is recomputed at
    most every ``WORST_EVERY_S`` seconds (a progress display needs no more).
    """

    WORST_EVERY_S = 1.0

    def __init__(self) -> None:
        self.points = self.points_done = self.batches_done = self.batches_cap = self.pulses_done = 0
        self.all: list[_Point] = []
        self._worst = math.inf
        self._worst_at = -math.inf

    def status(self, in_flight: int) -> SweepStatus:
        now = time.monotonic()
        if now - self._worst_at >= self.WORST_EVERY_S or self.points_done == self.points:
            running = [p.tally.last_error for p in self.all if not p.done]
            self._worst, self._worst_at = (max(running) if running else 0.0), now
        return SweepStatus(
            points_done=self.points_done,
            points=self.points,
            batches_done=self.batches_done,
            batches_cap=self.batches_cap,
            pulses_done=self.pulses_done,
            worst_relative_error=self._worst,
            in_flight=in_flight,
        )


class _Point:
    """Bookkeeping of one point: tally of the accepted prefix, buffered results, submissions."""

    __slots__ = ("buffer", "cap", "done", "next_submit", "plan", "pulses", "seconds", "stored", "tally", "timed", "totals")

    def __init__(
        self,
        plan: PointPlan,
        limits: Limits,
        pulses: int,
        stored: np.ndarray | None,
        ready: Mapping[int, BatchStats] | None,
        totals: _Totals | None = None,
    ) -> None:
        self.plan = plan
        self.totals = totals if totals is not None else _Totals()
        self.totals.points += 1
        self.totals.all.append(self)
        self.pulses = pulses
        self.cap = limits.batch_cap(pulses)
        names = counter_names_of(stored) if stored is not None else ()
        by_estimate = limits.target_relative_error is not None and limits.target_estimate != "rate"
        self.tally = PointTally(limits, plan.report() if by_estimate else None)  # the report only where it is read
        self.stored: dict[int, BatchStats] = (
            {int(r["batch_index"]): row_stats(r, names) for r in stored} if stored is not None else {}
        )
        self.buffer: dict[int, BatchStats] = {}
        self.next_submit = 0
        self.done = False
        self.timed, self.seconds = 0, 0.0  # batches computed here and their wall time
        self.totals.batches_cap += self.cap
        self.advance()  # the stored prefix
        for b, stats in (ready or {}).items():  # accepted (and yielded) by the caller's next advance()
            if b not in self.stored:
                self.buffer[b] = stats
                self.timed, self.seconds = self.timed + 1, self.seconds + stats.seconds

    def receive(self, first: int, batches: Sequence[BatchStats]) -> list[tuple[int, int, BatchStats]]:
        """Buffer the results of a task that started at batch ``first``; return newly accepted batches."""
        for i, stats in enumerate(batches):
            self.timed += 1
            self.seconds += stats.seconds
            if not self.done:
                self.buffer[first + i] = stats
        return self.advance()

    def advance(self) -> list[tuple[int, int, BatchStats]]:
        """Accept the buffered / stored batches that extend the prefix; return the new ones."""
        new = []
        n0, pulses0 = self.tally.n, self.tally.pulses
        while not self.done:
            if self.tally.enough():
                self.done = True
                self.totals.points_done += 1
                self.totals.batches_cap -= self.cap - self.tally.n
                break
            b = self.tally.n
            if b in self.stored:
                self.tally.add(self.stored[b])
            elif b in self.buffer:
                stats = self.buffer.pop(b)
                self.tally.add(stats)
                new.append((self.plan.index, b, stats))
            else:
                break
        self.totals.batches_done += self.tally.n - n0
        self.totals.pulses_done += self.tally.pulses - pulses0
        if self.done:  # a finished point keeps only its tally's numbers (memory of a large sweep)
            self.buffer.clear()
            self.stored.clear()
            self.tally.release()
        return new

    def next_range(self, size: int) -> tuple[int, int] | None:
        """Next ``(first batch, count)`` to submit: up to ``size`` unstored batches in a row, or None."""
        if self.done:
            return None
        while self.next_submit in self.stored or self.next_submit in self.buffer:
            self.next_submit += 1
        if self.next_submit >= self.cap:
            return None
        first = self.next_submit
        while (
            self.next_submit < min(self.cap, first + size)
            and self.next_submit not in self.stored
            and self.next_submit not in self.buffer
        ):
            self.next_submit += 1
        return first, self.next_submit - first


def _status(points: Sequence[_Point], in_flight: int) -> SweepStatus:
    return points[0].totals.status(in_flight)


def _task_prefix(root_seed: int, plan: PointPlan, pulses: int, per_pulse: bool) -> str:
    """Dask key prefix: equal only for batches with equal results (a shared scheduler dedupes keys)."""
    digest = hashlib.sha256(f"{root_seed}:{plan.key}:{pulses}:{per_pulse}".encode()).hexdigest()[:16]
    return f"qrate-batch-{digest}"


def iter_collect(
    plans: Sequence[PointPlan],
    root_seed: int,
    limits: Limits,
    pulses_per_batch: int,
    *,
    client: Any = None,
    stored: Mapping[int, np.ndarray] | None = None,
    ready: Mapping[int, Mapping[int, BatchStats]] | None = None,
    per_pulse: bool = False,
    in_flight: int | None = None,
) -> Iterator[Progress]:
    """Run the sweep; yield each batch as it is accepted (in batch-index order per point).

    Args:
        plans: the sweep points.
        root_seed: root entropy of the run.
        limits: when a point stops.
        pulses_per_batch: pulses of every batch (a plan's own ``pulses_per_batch`` wins, e.g. a pass step's).
        client: a ``dask.distributed.Client``, or None to run in this process, point after point.
        stored: rows already in the file per point index (``--resume``): neither recomputed nor yielded.
        ready: batches already computed (not stored) per point index and batch index: yielded, not recomputed.
        per_pulse: reference heralding path (tests).
        in_flight: batches kept in flight (default ``IN_FLIGHT_PER_CORE`` × worker threads).
    """
    stored, ready = stored or {}, ready or {}
    totals = _Totals()
    points = [
        _Point(plan, limits, plan.pulses_per_batch or pulses_per_batch, stored.get(plan.index), ready.get(plan.index), totals)
        for plan in plans
    ]
    if ready:
        first = tuple(new for p in points for new in p.advance())
        if first:
            yield Progress(first, _status(points, 0))
    if client is None:
        yield from _iter_sync(points, root_seed, per_pulse)
    else:
        yield from _iter_dask(points, root_seed, client, per_pulse, in_flight)


def _iter_sync(points: Sequence[_Point], root_seed: int, per_pulse: bool) -> Iterator[Progress]:
    for point in points:
        while (task := point.next_range(1)) is not None:
            new = point.receive(task[0], sample_batches(point.plan, root_seed, *task, point.pulses, per_pulse))
            if new:
                yield Progress(tuple(new), _status(points, 0))


def sample_chunk(
    items: Sequence[tuple[PointPlan, int, int, int]], root_seed: int, per_pulse: bool = False
) -> list[list[BatchStats]]:
    """Run ``count`` batches from ``first`` of each ``(plan, first, count, pulses)`` (one Dask task over several points)."""
    return [sample_batches(plan, root_seed, first, count, pulses, per_pulse) for plan, first, count, pulses in items]


def _chunk_key(root_seed: int, items: Sequence[tuple[_Point, int, int]], prefixes: Mapping[int, str], per_pulse: bool) -> str:
    """Dask key of a chunk: equal only for chunks with equal results (a shared scheduler dedupes keys)."""
    text = f"{root_seed}:{per_pulse}:" + ";".join(f"{prefixes[id(p)]}-{first}-{count}" for p, first, count in items)
    return f"qrate-chunk-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def _iter_dask(
    points: Sequence[_Point], root_seed: int, client: Any, per_pulse: bool, in_flight: int | None
) -> Iterator[Progress]:
    """Tasks are chunks of points: consecutive points' next batch ranges, about ``TASK_TARGET_S`` of
    work in all (by the mean batch time measured so far; one batch until a batch has been timed)."""
    from distributed import as_completed

    if in_flight is None:
        cores = sum(client.ncores().values()) or 1
        in_flight = IN_FLIGHT_PER_CORE * cores
    pending: dict[Any, list[tuple[_Point, int]]] = {}
    prefixes = {id(p): _task_prefix(root_seed, p.plan, p.pulses, per_pulse) for p in points}
    ac = as_completed()
    cursor = 0  # points before it have every batch they may need submitted (or are done)
    timed = [sum(p.timed for p in points), sum(p.seconds for p in points)]

    def chunk_batches() -> int:
        if timed[0] == 0 or timed[1] <= 0:
            return 1
        return int(min(MAX_BATCHES_PER_TASK, max(1, TASK_TARGET_S // (timed[1] / timed[0]))))

    def top_up() -> None:
        nonlocal cursor
        while len(pending) < in_flight and cursor < len(points):
            size, items, n = chunk_batches(), [], 0
            while cursor < len(points) and n < size:
                task = points[cursor].next_range(size - n)
                if task is None:
                    cursor += 1
                    continue
                items.append((points[cursor], *task))
                n += task[1]
            if not items:
                return
            fut = client.submit(
                sample_chunk,
                [(p.plan, first, count, p.pulses) for p, first, count in items],
                root_seed,
                per_pulse,
                pure=False,
                key=_chunk_key(root_seed, items, prefixes, per_pulse),
            )
            pending[fut] = [(p, first) for p, first, _ in items]
            ac.add(fut)

    try:
        top_up()
        if not pending:
            return
        for fut in ac:
            entry = pending.pop(fut, None)
            if entry is None:  # cancelled after its points stopped
                continue
            if all(point.done for point, _ in entry):
                fut.release()
                continue
            results = fut.result()
            fut.release()
            new: list[tuple[int, int, BatchStats]] = []
            stopped = []
            for (point, first), batches in zip(entry, results, strict=True):
                timed[0] += len(batches)
                timed[1] += sum(b.seconds for b in batches)
                was_done = point.done
                new += point.receive(first, batches)
                if point.done and not was_done:
                    stopped.append(point)
            if stopped:  # chunks all of whose points have stopped need not run
                stale = [f for f, items in pending.items() if all(p.done for p, _ in items)]
                for f in stale:
                    del pending[f]
                if stale:
                    client.cancel(stale)
            top_up()
            if new:
                yield Progress(tuple(new), _status(points, len(pending)))
            if not pending and cursor >= len(points):
                break
    finally:
        if pending:
            client.cancel(list(pending))


@dataclass(frozen=True, slots=True)
class PointResult:
    """One point's plan and its accepted batch rows (in batch-index order)."""

    plan: PointPlan
    rows: np.ndarray


def run_sweep(
    scenario: Any,
    root_seed: int,
    *,
    limits: Limits | None = None,
    per_pulse: bool = False,
    client: Any = None,
) -> list[PointResult]:
    """Run every point of ``scenario`` and keep the rows in memory (no file; the same rows as ``qrate run``).

    Args:
        scenario: validated :class:`qrate.scenario.Scenario`.
        root_seed: root entropy of the run.
        limits: when each point stops (default: the scenario's ``[sampling]``).
        per_pulse: reference heralding path (slow; tests).
        client: a Dask client, or None to run in this process.
    """
    from qrate.engine.grid import plan_sweep
    from qrate.stats import batch_dtype, to_row

    plans = plan_sweep(scenario)
    limits = limits or Limits.from_sampling(scenario.sampling)
    rows: dict[int, list[np.ndarray]] = {p.index: [] for p in plans}
    names: dict[int, tuple[str, ...]] = {}
    for step in iter_collect(plans, root_seed, limits, scenario.sampling.pulses_per_batch, client=client, per_pulse=per_pulse):
        for index, batch_index, stats in step.new:
            names.setdefault(index, tuple(stats.counts))
            rows[index].append(to_row(stats, batch_index, names[index]))
    return [
        PointResult(p, np.concatenate(rows[p.index]) if rows[p.index] else np.zeros(0, dtype=batch_dtype(names.get(p.index, ()))))
        for p in plans
    ]
