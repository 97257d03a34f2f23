"""The contract of a protocol that draws its counters from the pulses themselves.

Most protocols run on heralded carriers: the engine counts the successes of a batch (loss and
noise clicks) and the protocol's Stim rounds draw the counters of those successes
(:class:`qrate.protocols.compiled.CompiledProtocol`). A prepare-and-measure protocol (e.g.
decoy-state BB84 with weak coherent pulses) has no heralded carrier: what each pulse yields
depends on its own intensity and basis. Such a protocol sets ``pulse_counters = True`` on its
class and implements ``pulse_sampler(plan) -> PulseSampler``; the engine then hands every batch's
pulses to that sampler (:func:`qrate.engine.batch.run_batch`) and reads its expected success
probability and noise share from it (:class:`qrate.engine.plan.PointPlan`). The sampler must draw
exactly, with a cost independent of the number of pulses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class PulseCounts:
    """What a batch of pulses yields: successes (detections), counters, and the moments of the
    free-space transmittance (count, sum, sum of squares of the draws it made)."""

    successes: int
    counts: Mapping[str, int] = field(default_factory=dict)
    eta_count: int = 0
    eta_sum: float = 0.0
    eta_sumsq: float = 0.0


class PulseSampler(ABC):
    """Counters of a batch of pulses, drawn exactly (cost independent of the number of pulses)."""

    counter_names: tuple[str, ...] = ()

    def free_space_transmittance(self) -> float | None:
        """Mean transmittance of the free-space link(s) its pulses cross (None: the plan's product of downlinks)."""
        return None

    @property
    def round_samplers(self) -> dict[str, str]:
        """How the counters are drawn (stored with each point, like a Stim protocol's per-round samplers)."""
        return {"pulses": "exact-multinomial"}

    @abstractmethod
    def sample_pulses(self, pulses: int, rng: np.random.Generator) -> PulseCounts:
        """The successes and counters of ``pulses`` pulses."""

    @abstractmethod
    def expected_counts(self, pulses: float) -> dict[str, float]:
        """The mean of every counter over ``pulses`` pulses."""

    @abstractmethod
    def success_probability(self) -> float:
        """Mean successes (detections) per pulse."""

    @abstractmethod
    def signal_success_probability(self) -> float:
        """Mean successes per pulse that needed no noise click (dark count, background, afterpulse)."""
