"""When a sweep point stops: :class:`Limits` and the prefix tally :class:`PointTally`.

Batches of one point are accepted in index order 0, 1, 2, ...; each batch's streams depend only on
(root seed, point, batch index), so the rows are the same whatever runs them and in which order.
A point stops at ``sampling.batches`` (or the pulse cap), or, with a target, once the standard error
of the target estimate falls below that fraction of its value (after ``min_batches``): a function
of the accepted batch prefix only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qrate.errors import InputError
from qrate.formulas import RunningSpread
from qrate.protocols.estimator import Report, RunningSummary
from qrate.scenario.schema import Sampling
from qrate.stats import BatchStats, to_row


@dataclass(frozen=True, slots=True)
class Limits:
    """When a sweep point stops (checked after every batch, in batch-index order).

    Attributes:
        max_batches: batches at most (``sampling.batches``).
        max_pulses: pulses at most per point (None: no cap besides ``max_batches``).
        target_relative_error: stop once the standard error of ``target_estimate`` is at most
            this fraction of its value (None: off), after ``min_batches`` batches.
        target_estimate: a ``qrate plot --y`` name (``rate``: the heralded coincidence rate).
    """

    max_batches: int
    max_pulses: int | None = None
    target_relative_error: float | None = None
    min_batches: int = 3
    target_estimate: str = "rate"

    @classmethod
    def from_sampling(cls, sampling: Sampling, *, max_pulses: int | None = None) -> Limits:
        """The limits a scenario's ``[sampling]`` sets (plus an optional pulse cap)."""
        estimate, error = sampling.target_estimate or ("rate", None)
        return cls(sampling.batches, max_pulses, error, sampling.min_batches, estimate)

    def batch_cap(self, pulses_per_batch: int) -> int:
        """Largest number of batches a point can reach (``max_batches`` and ``max_pulses``)."""
        if self.max_pulses is None:
            return self.max_batches
        return max(1, min(self.max_batches, -(-self.max_pulses // pulses_per_batch)))

    def check(self, reports: Sequence[Mapping[str, Any]]) -> None:
        """InputError naming ``sampling.target.estimate`` unless every point reports the target estimate."""
        from qrate.estimates import quantity

        if self.target_relative_error is None:
            return
        for report in reports:
            try:
                quantity(report, self.target_estimate)
            except ValueError as exc:
                raise InputError("sampling.target.estimate", str(exc)) from None


def relative_error(estimates: Mapping[str, Any], report: Mapping[str, Any] | Report, name: str) -> float:
    """Standard error over value of the estimate plotted as ``name`` (inf where undefined).

    The standard error is the quantity's own (``sem``), else its batch spread over sqrt(batches),
    else its 95 % interval's half-width / 1.96.
    """
    from qrate.estimates import quantity

    q = quantity(report, name)
    value = estimates.get(q.key)
    if value is None or value == 0:
        return math.inf
    se = None
    if q.sem is not None:
        se = estimates.get(q.sem)
    elif q.std is not None and estimates.get(q.std) is not None:
        se = estimates[q.std] / math.sqrt(estimates["batches"])
    elif q.ci is not None and None not in (estimates.get(q.ci[0]), estimates.get(q.ci[1])):
        se = (estimates[q.ci[1]] - estimates[q.ci[0]]) / (2 * 1.959963984540054)
    return math.inf if se is None else abs(se / value)


class PointTally:
    """The contiguous prefix of batches 0, 1, ..., n-1 of one point and its stopping decision.

    The decision depends on the prefix only, so whoever runs the batches and in whichever order
    they finish, a point stops at the same batch index. Every update is O(1) in time and memory:
    the heralded rate's error from a Welford mean of the batch success probabilities, any other
    target estimate from a running summary of the prefix
    (:class:`qrate.protocols.estimator.RunningSummary`: sums of every row field, Welford
    accumulators of the per-batch values), which gives what :func:`qrate.estimates.estimate_point`
    gives on the prefix's rows; no row is kept.
    """

    __slots__ = ("_p", "_running", "_typed", "counter_names", "last_error", "limits", "n", "pulses", "report")  # memory per point

    def __init__(self, limits: Limits, report: Mapping[str, Any] | None = None) -> None:
        self.limits = limits
        self.report = report
        self.counter_names: tuple[str, ...] = ()  # those of the first batch (stored rows hold every counter)
        self.n = 0
        self.pulses = 0
        self._p = RunningSpread()  # the batch success probabilities (heralded-rate target)
        self._running: RunningSummary | None = None
        self._typed: Report | None = None
        if self._by_estimate and report is not None:
            from qrate.estimates import running_summary

            self._typed = Report.from_json(report)
            self._running = running_summary(report, self._typed)
        self.last_error = math.inf  # relative error at the latest decision (progress display)

    @property
    def _by_estimate(self) -> bool:
        return self.limits.target_relative_error is not None and self.limits.target_estimate != "rate"

    def add(self, stats: BatchStats) -> None:
        """Append the next batch (index ``self.n``)."""
        if self._running is not None:
            self.counter_names = self.counter_names or tuple(stats.counts)
            self._running.add(to_row(stats, self.n, self.counter_names))
        self.n += 1
        self.pulses += int(stats.pulses)
        self._p.add(stats.successes / stats.pulses if stats.pulses else 0.0)

    def relative_error(self) -> float:
        """Relative standard error of the target estimate (inf if undefined; the latest decision's
        once :meth:`release` dropped the running summary)."""
        if self.n < 2:
            return math.inf
        if self._by_estimate and self.report is not None:
            if self._running is None or self._typed is None:
                return self.last_error
            from qrate.estimates import estimate_summary

            est = estimate_summary(self._running.summary(), self._typed)
            return relative_error(est, self._typed, self.limits.target_estimate)
        if self._p.mean <= 0:
            return math.inf
        return self._p.spread()[1] / self._p.mean

    def release(self) -> None:
        """Drop the running summary of a non-rate target's estimate once the point has stopped."""
        self._running = None

    def enough(self) -> bool:
        """True once the prefix meets a limit."""
        lim = self.limits
        if self.n >= lim.max_batches or (lim.max_pulses is not None and self.pulses >= lim.max_pulses):
            return True
        if lim.target_relative_error is None or self.n < lim.min_batches:
            return False
        self.last_error = self.relative_error()
        return self.last_error <= lim.target_relative_error
