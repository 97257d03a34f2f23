"""One batch at one sweep point: heralding (Numba), then the Stim protocol on the successes.

Loss and Pauli noise are independent, so the heralded successes are counted first and the
protocol circuit runs on the successes only; cost grows with the successes, not the pulses:

A protocol use may consume several heralded carriers (``carriers_per_use``, e.g. 3 for
teleportation); the protocol runs on ``successes // carriers_per_use`` uses.

* independent fading per pulse (``coherence_time_s = 0``): K ~ Binomial(N, mean success
  probability), exact in distribution because every transmittance enters the per-pulse success
  probability linearly and independently (:mod:`qrate.engine.plan`); the transmittance moments
  come from a diagnostic sample of ``min(N, IID_MOMENT_SAMPLES)`` draws;
* block fading: one transmittance draw per downlink per block and Binomial(block pulses, p(η))
  per block (:func:`qrate.engine._kernels.block_successes`), in chunks of blocks;
* with memories (``plan.memory``): the batch is an operating time; the renewal process of the stored
  links gives the delivered states and their storage times, and the protocol runs once per class of
  storage-noise events (:mod:`qrate.memory.herald`).

:func:`herald_per_pulse` is the slow reference path (one Bernoulli per pulse per element, with
numpy), kept for tests of the fast path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from qrate._testhooks import throttled
from qrate.channels.freespace import sample_transmittance, sample_transmittance_blocks
from qrate.engine import _kernels
from qrate.engine.plan import CounterSampler, PointPlan
from qrate.errors import count_arg
from qrate.protocols.pulses import PulseCounts, PulseSampler
from qrate.seeding import MAX_SEED, batch_streams
from qrate.stats import BatchStats

IID_MOMENT_SAMPLES = 1024
"""Transmittance draws per batch for the moments when fading is independent per pulse."""
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
    return np.stack([sample_transmittance(dl.budget, n, rng) for dl in plan.downlinks])


def herald(plan: PointPlan, pulses: int, rng: np.random.Generator) -> Heralds:
    """Successes among ``pulses`` pulses by the binomial(-block) path."""
    pulses = count_arg("pulses", pulses)
    if plan.block_pulses == 0:
        successes = int(rng.binomial(pulses, min(plan.p_success_expected, 1.0))) if pulses else 0
        m = min(pulses, IID_MOMENT_SAMPLES)
        joint = np.prod(_draws(plan, m, rng), axis=0)
        return Heralds(successes, m, float(joint.sum()), float(np.dot(joint, joint)))
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


herald = throttled(herald)  # test hook (QRATE_TEST_BATCH_DELAY_S); herald itself without it


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

    Its random streams derive from ``(root_seed, plan.key, batch_index)`` only
    (:func:`qrate.seeding.batch_streams`), so the result does not depend on execution order.
    A protocol with its own pulse sampler (:mod:`qrate.protocols.pulses`) draws the batch's
    successes and counters itself from the pulses.
    """
    start = time.perf_counter()
    pulses = count_arg("pulses", pulses)
    rng, stim_seed = batch_streams(
        count_arg("root_seed", root_seed, maximum=MAX_SEED), plan.key, count_arg("batch_index", batch_index)
    )
    h: Heralds | PulseCounts
    if isinstance(compiled, PulseSampler):  # the protocol draws its successes and counters itself
        h = compiled.sample_pulses(int(pulses), rng)
        counts = dict(h.counts)
    elif plan.memory is not None:  # memory-assisted heralding: the batch is an operating time (qrate.memory.herald)
        from qrate.memory.herald import herald_memory

        mh = herald_memory(plan.memory, pulses / plan.repetition_rate_hz, rng)
        joint = np.prod(_draws(plan, min(pulses, IID_MOMENT_SAMPLES), rng), axis=0)
        h = Heralds(mh.successes, joint.size, float(joint.sum()), float(np.dot(joint, joint)))
        counts = compiled.sample_classes(mh.classes, stim_seed)  # type: ignore[attr-defined]
    else:
        h = (herald_per_pulse if per_pulse else herald)(plan, pulses, rng)
        counts = compiled.sample_counts(h.successes // plan.protocol.carriers_per_use, stim_seed)
    return BatchStats(
        pulses=int(pulses),
        successes=h.successes,
        eta_count=h.eta_count,
        eta_sum=h.eta_sum,
        eta_sumsq=h.eta_sumsq,
        seconds=time.perf_counter() - start,
        counts=counts,
        point_key=plan.key,
    )
