"""The in-process sweep loop and the stopping rule shared with the Dask loop (:mod:`qrate.sweep`).

Batches of one point run in index order 0, 1, 2, ...; each batch's streams depend only on
(root seed, point, batch index), so the rows are the same whatever runs them and in which order.
With ``sampling.target_relative_error`` a point stops once the standard error of its mean
coincidence rate falls below that fraction of the rate (after ``min_batches``), or at
``sampling.batches`` (:class:`Limits`, :class:`PointTally`: a function of the batch prefix only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.engine.batch import run_batch
from qrate.engine.plan import (
    PointPlan,
    compile_protocol,
    counter_roles,
    plan_sweep,
    protocol_of,
)
from qrate.scenario.schema import Sampling, Scenario
from qrate.stats import (
    BatchStats,
    batch_dtype,
    counter_names_of,
    estimate_point,
    to_row,
)

Progress = Callable[[PointPlan, int, BatchStats], None]


@dataclass(frozen=True, slots=True)
class PointResult:
    """One point's plan and its batch rows."""

    plan: PointPlan
    rows: np.ndarray


@dataclass(frozen=True, slots=True)
class Limits:
    """When a sweep point stops (checked after every batch, in batch-index order).

    Attributes:
        max_batches: batches at most (``sampling.batches``).
        max_pulses: pulses at most per point (None: no cap besides ``max_batches``).
        target_relative_error: stop once the standard error of the mean coincidence rate is at
            most this fraction of the rate (None: off), after ``min_batches`` batches.
    """

    max_batches: int
    max_pulses: int | None = None
    target_relative_error: float | None = None
    min_batches: int = 3

    @classmethod
    def from_sampling(cls, sampling: Sampling, *, max_pulses: int | None = None) -> Limits:
        """The limits a scenario's ``[sampling]`` sets (plus an optional pulse cap)."""
        return cls(sampling.batches, max_pulses, sampling.target_relative_error, sampling.min_batches)

    def batch_cap(self, pulses_per_batch: int) -> int:
        """Largest number of batches a point can reach (``max_batches`` and ``max_pulses``)."""
        if self.max_pulses is None:
            return self.max_batches
        return max(1, min(self.max_batches, -(-self.max_pulses // pulses_per_batch)))


class PointTally:
    """The contiguous prefix of batches 0, 1, ..., n-1 of one point and its stopping decision.

    The decision depends on the prefix only, so whoever runs the batches and in whichever order
    they finish, a point stops at the same batch index.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.n = 0
        self.pulses = 0
        self._mean = 0.0  # running mean and sum of squared deviations of the batch success
        self._m2 = 0.0  # probabilities (Welford), so each update is O(1)

    def add(self, pulses: int, successes: int) -> None:
        """Append the next batch (index ``self.n``)."""
        self.n += 1
        self.pulses += int(pulses)
        p = successes / pulses if pulses else 0.0
        delta = p - self._mean
        self._mean += delta / self.n
        self._m2 += delta * (p - self._mean)

    def relative_error(self) -> float:
        """Standard error of the mean success probability over its mean (inf if undefined)."""
        if self.n < 2 or self._mean <= 0:
            return math.inf
        return math.sqrt(self._m2 / (self.n - 1)) / math.sqrt(self.n) / self._mean

    def enough(self) -> bool:
        """True once the prefix meets a limit."""
        lim = self.limits
        if self.n >= lim.max_batches or (lim.max_pulses is not None and self.pulses >= lim.max_pulses):
            return True
        if lim.target_relative_error is None or self.n < lim.min_batches:
            return False
        return self.relative_error() <= lim.target_relative_error


def run_sweep(
    scenario: Scenario,
    root_seed: int,
    *,
    writer: Any | None = None,
    progress: Progress | None = None,
    per_pulse: bool = False,
    plans: Sequence[PointPlan] | None = None,
    limits: Limits | None = None,
) -> list[PointResult]:
    """Run every sweep point of ``scenario``; append each batch to ``writer`` if given.

    Args:
        scenario: validated scenario.
        root_seed: root entropy of the run.
        writer: a :class:`qrate.store.ResultsWriter` (or None: results only in memory).
        progress: called after every batch with (plan, batch index, stats).
        per_pulse: use the per-pulse reference path (slow; tests).
        plans: precomputed plans (default: :func:`plan_sweep`).
        limits: when each point stops (default: :meth:`Limits.from_sampling`).
    """
    plans = list(plans) if plans is not None else plan_sweep(scenario)
    sampling = scenario.sampling
    limits = limits or Limits.from_sampling(sampling)
    results = []
    for plan in plans:
        compiled = compile_protocol(plan)
        names = compiled.counter_names
        if writer is not None:
            writer.add_point(plan.index, ground_distance_km=plan.ground_distance_km, point_key=plan.key, params=plan.params())
        rows: list[np.ndarray] = []
        tally = PointTally(limits)
        batch_index = 0
        while not tally.enough():
            stats = run_batch(plan, compiled, root_seed, batch_index, sampling.pulses_per_batch, per_pulse=per_pulse)
            rows.append(to_row(stats, batch_index, names))
            tally.add(stats.pulses, stats.successes)
            if writer is not None:
                writer.append(plan.index, batch_index, stats)
            if progress is not None:
                progress(plan, batch_index, stats)
            batch_index += 1
        table = np.concatenate(rows) if rows else np.zeros(0, dtype=batch_dtype(names))
        results.append(PointResult(plan, table))
    return results


def point_estimates(scenario: Scenario, result: PointResult) -> dict[str, Any]:
    """Estimates of one point (see :func:`qrate.stats.estimate_point`)."""
    return estimates_from_rows(scenario, result.rows, result.plan.ground_distance_km)


def estimates_from_rows(scenario: Scenario, rows: np.ndarray, ground_distance_km: float) -> dict[str, Any]:
    """Estimates of one point from its batch rows and the scenario that produced them."""
    protocol = protocol_of(scenario)
    spec = scenario.protocol
    out = estimate_point(
        rows,
        protocol=spec.name,
        repetition_rate_hz=scenario.sources.repetition_rate_hz,
        verification_fraction=spec.verification_fraction if spec.name == "acka" else 0.0,
        roles=counter_roles(protocol, counter_names_of(rows)),
        n_parties=len(spec.participants) if spec.participants else len(scenario.users()),
        extra={"ground_distance_km": float(ground_distance_km)},
    )
    if spec.name == "anonymous-entanglement":
        from qrate.protocols.entanglement import bell_fidelity

        fidelity = bell_fidelity(out["counts"])
        out["bell_fidelity"] = None if math.isnan(fidelity) else fidelity
    return out
