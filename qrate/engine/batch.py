"""One batch at one sweep point: heralding, then the Stim protocol on the successes.

Loss and Pauli noise are independent, so the heralded successes are counted first and the
protocol circuit runs on the successes only; cost grows with the successes, not the pulses:

A protocol use may consume several heralded carriers (``carriers_per_use``, e.g. 3 for
teleportation); the protocol runs on ``successes // carriers_per_use`` uses.

* independent fading per pulse (``coherence_time_s = 0``): K ~ Binomial(N, mean success
  probability), exact in distribution because every transmittance enters the per-pulse success
  probability linearly and independently (:mod:`qrate.engine.plan`); the transmittance moments
  come from a diagnostic sample of ``min(N, MOMENT_SAMPLES)`` draws (:data:`qrate.stats.MOMENT_SAMPLES`);
* block fading: one transmittance draw per downlink per block and Binomial(block pulses, p(η))
  per block (:func:`qrate.engine._kernels.block_successes`), in chunks of blocks;
* with memories (``plan.memory``): the batch is an operating time; the renewal process of the stored
  links gives the delivered states and their storage times, and the protocol runs once per class of
  storage-noise events (:mod:`qrate.memory.herald`).

Every batch draws everything from its one generator (:class:`qrate.seeding.BatchStreams`: the
point's Philox stream at the batch's counter), in a fixed order: successes, transmittance moments,
counters. :func:`run_batches` runs several batches of one point with the point's set-up done once;
each batch's numbers are those :func:`run_batch` gives it alone.

:func:`herald_per_pulse` is the slow reference path (one Bernoulli per pulse per element, with
numpy), kept for tests of the fast path.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qrate._testhooks import throttled
from qrate.channels.freespace import sample_transmittance, sample_transmittance_blocks
from qrate.engine import _kernels
from qrate.engine.plan import CounterSampler, PointPlan
from qrate.errors import count_arg
from qrate.protocols.compiled import CompiledProtocol
from qrate.protocols.pulses import PulseCounts, PulseSampler
from qrate.seeding import MAX_SEED, BatchStreams
from qrate.stats import MOMENT_SAMPLES, BatchStats

IID_MOMENT_SAMPLES = MOMENT_SAMPLES
"""Transmittance draws per batch for the moments when fading is independent per pulse (the one
rule lives in :data:`qrate.stats.MOMENT_SAMPLES`)."""
BLOCK_CHUNK = 1 << 18
"""Coherence blocks drawn at once (bounds memory for long batches)."""


@dataclass(frozen=True, slots=True)
class Heralds:
    """Heralded successes of a batch and the moments of the joint free-space transmittance."""

    successes: int
    eta_count: int
    eta_sum: float
    eta_sumsq: float


_WEIBULL: list[tuple[PointPlan, tuple[np.ndarray, np.ndarray, np.ndarray] | None]] = []


def _weibull_parameters(plan: PointPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(peaks, scales_l, half_shapes) of the plan's downlinks if every one uses the Weibull model,
    else None; the latest plan's are kept (a point's batches run one after another: no per-point memory)."""
    if _WEIBULL and _WEIBULL[0][0] is plan:
        return _WEIBULL[0][1]
    budgets = [dl.budget for dl in plan.downlinks]
    params = None
    if budgets and all(b.link.model == "weibull" for b in budgets):
        params = (
            np.array([b.factor * b.eta0 for b in budgets], dtype=np.float64),
            np.array([b.weibull_scale_l for b in budgets], dtype=np.float64),
            np.array([0.5 * b.weibull_shape for b in budgets], dtype=np.float64),
        )
    _WEIBULL[:] = [(plan, params)]
    return params


def _draws(plan: PointPlan, n: int, rng: np.random.Generator) -> np.ndarray:
    """(downlinks, n) independent transmittance draws (downlink after downlink from ``rng``).

    When every downlink uses the Weibull model they are drawn in one Numba call
    (:func:`qrate.engine._kernels.weibull_rows`: the same numbers as one
    :func:`~qrate.channels.freespace.sample_transmittance` call per downlink)."""
    weibull = _weibull_parameters(plan)
    if weibull is not None:
        return _kernels.weibull_rows(rng, n, *weibull)
    if not plan.downlinks:
        return np.ones((0, n))
    return np.stack([sample_transmittance(dl.budget, n, rng) for dl in plan.downlinks])


class _Moments:
    """The diagnostic transmittance sample of a run of batches: each batch draws its raw numbers
    from its own generator into its row; the moments of all rows are taken at once at the end
    (:func:`qrate.engine._kernels.weibull_moments` / :func:`~qrate.engine._kernels.joint_moments`,
    row by row: a batch's moments do not depend on the other rows)."""

    __slots__ = ("buf", "m", "plan", "weibull")

    def __init__(self, plan: PointPlan, count: int, pulses: int) -> None:
        self.plan = plan
        self.m = min(pulses, MOMENT_SAMPLES)
        self.weibull = _weibull_parameters(plan)
        self.buf = np.empty((count, len(plan.downlinks), self.m), dtype=np.float64)

    def draw(self, i: int, rng: np.random.Generator) -> None:
        """Row ``i``: standard exponentials (Weibull model) or transmittances (other models)."""
        if self.m == 0:
            return
        if self.weibull is not None:
            rng.standard_exponential(out=self.buf[i].reshape(-1))
        else:
            for k, dl in enumerate(self.plan.downlinks):
                self.buf[i, k] = sample_transmittance(dl.budget, self.m, rng)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """(sums, sums of squares) of the joint transmittance of every row."""
        if self.weibull is not None:
            return _kernels.weibull_moments(self.buf, *self.weibull)
        return _kernels.joint_moments(self.buf)


def herald(plan: PointPlan, pulses: int, rng: np.random.Generator) -> Heralds:
    """Successes among ``pulses`` pulses by the binomial(-block) path (what a batch draws first)."""
    pulses = count_arg("pulses", pulses)
    if plan.block_pulses == 0:
        successes = int(rng.binomial(pulses, min(plan.p_success_expected, 1.0))) if pulses else 0
        mom = _Moments(plan, 1, pulses)
        mom.draw(0, rng)
        s1, s2 = mom.moments()
        return Heralds(successes, mom.m, float(s1[0]), float(s2[0]))
    return _herald_blocks(plan, pulses, rng)


def _herald_blocks(plan: PointPlan, pulses: int, rng: np.random.Generator) -> Heralds:
    a = np.asarray(plan.factors_a, dtype=np.float64)
    b = np.asarray(plan.factors_b, dtype=np.float64)
    block = plan.block_pulses
    n_blocks = -(-pulses // block)
    last = pulses - (n_blocks - 1) * block
    successes, count, s1, s2 = 0, 0, 0.0, 0.0
    for start in range(0, n_blocks, BLOCK_CHUNK):
        nb = min(BLOCK_CHUNK, n_blocks - start)
        final = start + nb == n_blocks
        k, e1, e2 = _kernels.block_successes(rng, _draws(plan, nb, rng), a, b, plan.constant, block, last if final else block)
        successes, count, s1, s2 = successes + int(k), count + nb, s1 + e1, s2 + e2
    return Heralds(successes, count, s1, s2)


def _pace() -> None:
    """Nothing (the test hook QRATE_TEST_BATCH_DELAY_S makes it sleep once per batch)."""


_pace = throttled(_pace)


def herald_per_pulse(plan: PointPlan, pulses: int, rng: np.random.Generator) -> Heralds:
    """Reference path: one Bernoulli trial per pulse per lossy element (memory ∝ pulses; tests only)."""
    n = count_arg("pulses", pulses)
    block = plan.block_pulses or 1
    eta = [sample_transmittance_blocks(dl.budget, n, block, rng) for dl in plan.downlinks]
    ok = np.ones(n, dtype=bool)
    for p in plan.sources:
        ok &= rng.random(n) < p
    for k, dl in enumerate(plan.downlinks):
        if dl.to_user is None:  # photon to a BSM (or a background click standing in for it)
            ok &= (rng.random(n) < eta[k]) | (rng.random(n) < dl.noise_click_probability)
    for _ in range(plan.bsm_count):
        ok &= rng.random(n) < plan.bsm_success
    for u in plan.users:
        arrived = rng.random(n) < u.fiber_eta
        if u.downlink >= 0:
            arrived &= rng.random(n) < eta[u.downlink]
            arrived &= rng.random(n) < u.switch_eta
        detected = arrived & (rng.random(n) < u.detector_efficiency)
        ok &= detected | (rng.random(n) < u.noise_click_probability)
    joint = np.prod(np.stack(eta), axis=0)[::block] if n else np.zeros(0)
    return Heralds(int(np.count_nonzero(ok)), int(joint.size), float(joint.sum()), float(np.dot(joint, joint)))


def run_batch(
    plan: PointPlan,
    compiled: CounterSampler,
    root_seed: int,
    batch_index: int,
    pulses: int,
    *,
    per_pulse: bool = False,
) -> BatchStats:
    """Simulate batch ``batch_index`` of ``pulses`` pulses at ``plan``'s point.

    Its random numbers derive from ``(root_seed, plan.key, batch_index)`` only
    (:class:`qrate.seeding.BatchStreams`), so the result does not depend on execution order.
    A protocol with its own pulse sampler (:mod:`qrate.protocols.pulses`) draws the batch's
    successes and counters itself from the pulses.
    """
    return run_batches(plan, compiled, root_seed, count_arg("batch_index", batch_index), 1, pulses, per_pulse=per_pulse)[0]


def run_batches(
    plan: PointPlan,
    compiled: CounterSampler,
    root_seed: int,
    first: int,
    count: int,
    pulses: int,
    *,
    per_pulse: bool = False,
) -> list[BatchStats]:
    """Batches ``first, ..., first + count - 1`` of ``pulses`` pulses at ``plan``'s point.

    The same statistics (``seconds`` aside) as ``[run_batch(..., b, ...) for b in range(first,
    first + count)]``: every batch draws from its own generator; only the point's set-up (its
    streams' key, transmittance parameters, the protocol's counter table) is shared, and the
    diagnostic moments and the counters of the exact-table protocols are finished for all batches
    at once. Each batch's ``seconds`` is an equal share of the call's wall time.
    """
    start = time.perf_counter()
    pulses = count_arg("pulses", pulses)
    first = count_arg("first", first)
    count = count_arg("count", count)
    streams = BatchStreams(count_arg("root_seed", root_seed, maximum=MAX_SEED), plan.key)
    if count == 0:
        return []
    if isinstance(compiled, PulseSampler):  # the protocol draws its successes and counters itself
        drawn: list[PulseCounts] = []
        for b in range(first, first + count):
            _pace()
            drawn.append(compiled.sample_pulses(pulses, streams.at(b)))
        return _stats(plan, pulses, drawn, [dict(h.counts) for h in drawn], start)
    if plan.memory is not None or plan.block_pulses or per_pulse:
        return _run_each(plan, compiled, streams, first, count, pulses, per_pulse, start)
    # independent fading: one binomial, the moment sample's raw draws and the counters per batch
    mom = _Moments(plan, count, pulses)
    p = min(plan.p_success_expected, 1.0)
    per_use = plan.protocol.carriers_per_use
    table = compiled.counter_table if isinstance(compiled, CompiledProtocol) else None
    successes = np.zeros(count, dtype=np.int64)
    cells = None if table is None else np.empty((count, table[0].size), dtype=np.int64)
    vectors = []
    for i in range(count):
        _pace()
        rng = streams.at(first + i)
        k = int(rng.binomial(pulses, p)) if pulses else 0
        successes[i] = k
        mom.draw(i, rng)
        if cells is not None:
            cells[i] = rng.multinomial(k // per_use, table[0])  # type: ignore[index]
        else:
            vectors.append(compiled.draw_counts(k // per_use, rng))
    counters = cells @ table[1] if cells is not None else np.array(vectors)  # type: ignore[index]
    s1, s2 = mom.moments()
    names = compiled.counter_names
    seconds = (time.perf_counter() - start) / count
    return [
        BatchStats(pulses, int(k), mom.m, float(a), float(q), seconds, dict(zip(names, row)), plan.key)
        for k, a, q, row in zip(successes.tolist(), s1.tolist(), s2.tolist(), counters.tolist())
    ]


def _run_each(
    plan: PointPlan,
    compiled: CounterSampler,
    streams: BatchStreams,
    first: int,
    count: int,
    pulses: int,
    per_pulse: bool,
    start: float,
) -> list[BatchStats]:
    """Batches one by one: block fading, memories, or the per-pulse reference path."""
    heralds: list[Heralds] = []
    counts: list[dict[str, int]] = []
    for b in range(first, first + count):
        _pace()
        rng = streams.at(b)
        if plan.memory is not None:  # memory-assisted heralding: the batch is an operating time (qrate.memory.herald)
            from qrate.memory.herald import herald_memory

            mh = herald_memory(plan.memory, pulses / plan.repetition_rate_hz, rng)
            mom = _Moments(plan, 1, pulses)
            mom.draw(0, rng)
            s1, s2 = mom.moments()
            heralds.append(Heralds(mh.successes, mom.m, float(s1[0]), float(s2[0])))
            counts.append(compiled.sample_classes(mh.classes, rng))  # type: ignore[union-attr]
        else:
            h = herald_per_pulse(plan, pulses, rng) if per_pulse else herald(plan, pulses, rng)
            heralds.append(h)
            shots = h.successes // plan.protocol.carriers_per_use
            counts.append(dict(zip(compiled.counter_names, compiled.draw_counts(shots, rng).tolist())))  # type: ignore[union-attr]
    return _stats(plan, pulses, heralds, counts, start)


def _stats(
    plan: PointPlan, pulses: int, heralds: Sequence[Heralds | PulseCounts], counts: list[dict[str, int]], start: float
) -> list[BatchStats]:
    seconds = (time.perf_counter() - start) / max(len(heralds), 1)
    return [
        BatchStats(pulses, h.successes, h.eta_count, h.eta_sum, h.eta_sumsq, seconds, c, plan.key)
        for h, c in zip(heralds, counts)
    ]
