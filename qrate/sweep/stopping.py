"""When a sweep point stops: :class:`Limits` and the prefix tally :class:`PointTally`.

Batches of one point are accepted in index order 0, 1, 2, ...; each batch's streams depend only on
(root seed, point, batch index), so the rows are the same whatever runs them and in which order.
With ``sampling.target_relative_error`` a point stops once the standard error of its mean
coincidence rate falls below that fraction of the rate (after ``min_batches``), or at
``sampling.batches``: a function of the accepted batch prefix only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qrate.scenario.schema import Sampling


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
