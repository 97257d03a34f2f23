"""One batch with memories: deliveries of the renewal process, storage noise in exact classes, the protocol.

A batch is an operating time, ``pulses / repetition_rate_hz``, holding ``floor(time / attempt period)``
attempts. The renewal sampler (:func:`qrate.memory.renewal.sample_deliveries`) gives every delivery's
storage times; the final step succeeds with the read-out probability at those times.

Storage noise stays correlated within a shot and exact: each stored photon of a delivered state gets a
binary event from its own storage time t (dephasing: a Z flip with (1 − e^(−t/T2))/2; depolarising: the
photon replaced by I/2 with 1 − e^(−t/T2), i.e. ``DEPOLARIZE1(3/4)``), and the shots are counted in the
classes of their event patterns (2^photons classes). Each class runs the protocol with its events as
deterministic Pauli noise on top of the point's noise, so no storage time is binned: the classes carry
the joint distribution of the events exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qrate.engine import hardware
from qrate.memory.plan import MemoryPlan
from qrate.memory.renewal import sample_deliveries, sample_multimode
from qrate.protocols.noise import PauliNoise

MAX_STORED_PHOTONS = 12
"""Most stored photons per delivery (4096 noise classes)."""


@dataclass(frozen=True, slots=True)
class MemoryHeralds:
    """A batch's delivered states (final step passed) and their counts by storage-noise class."""

    successes: int
    classes: dict[int, int]
    deliveries: int
    attempts: int
    mean_storage_s: tuple[float, ...]


def storage_events(mp: MemoryPlan, storage_s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class code of every delivery: bit j set when stored photon j suffered its decoherence event."""
    code = np.zeros(storage_s.shape[0], dtype=np.int64)
    for j, ph in enumerate(mp.photons):
        if ph.coherence_time_s is None:
            continue
        p = -np.expm1(-storage_s[:, j] / ph.coherence_time_s)
        if ph.decoherence == "dephasing":
            p = p / 2.0
        code |= (rng.random(code.size) < p).astype(np.int64) << j
    return code


def herald_memory(mp: MemoryPlan, duration_s: float, rng: np.random.Generator) -> MemoryHeralds:
    """Delivered states of ``duration_s`` seconds of operation (cost grows with link successes, not attempts)."""
    if len(mp.photons) > MAX_STORED_PHOTONS:
        raise ValueError(f"at most {MAX_STORED_PHOTONS} stored photons per delivery, got {len(mp.photons)}")
    attempts = math.floor(duration_s / mp.attempt_period_s * (1 + 1e-12))
    keep = mp.final_probability * math.prod(ph.read_efficiency for ph in mp.photons)  # success at zero storage
    if mp.parallel:
        stored, delivered = sample_multimode(rng, mp.p_links, mp.modes, mp.cutoffs, mp.p_trigger, attempts, keep)
    else:
        _, stored, delivered = sample_deliveries(rng, mp.p_links, mp.cutoffs, mp.p_trigger, attempts, keep)
    links = np.array([ph.link for ph in mp.photons], dtype=np.int64)
    latency = np.array([ph.latency_s for ph in mp.photons])
    t = stored[:, links] * mp.attempt_period_s + latency
    if any(ph.efficiency_lifetime_s is not None for ph in mp.photons):  # the read-out's decay with storage time
        t = t[rng.random(t.shape[0]) * keep < mp.read_out_probability(t)]
    code = storage_events(mp, t, rng)
    counts = np.bincount(code, minlength=1)
    classes = {int(c): int(n) for c, n in enumerate(counts) if n}
    mean = tuple(float(x) for x in t.mean(axis=0)) if t.shape[0] else (math.nan,) * len(mp.photons)
    return MemoryHeralds(int(t.shape[0]), classes, delivered, attempts, mean)


def class_noise(base: PauliNoise, mp: MemoryPlan, code: int) -> PauliNoise:
    """``base`` with the decoherence events of class ``code`` as deterministic Pauli noise."""
    z = dict(base.z_flip)
    dep = dict(base.depolarize)
    for j, ph in enumerate(mp.photons):
        if not code >> j & 1:
            continue
        for key in ph.keys:
            if ph.decoherence == "dephasing":
                z[key] = 1.0 - z.get(key, 0.0)  # a certain Z composed with a flip p: flip 1 − p
            else:
                dep[key] = hardware.compose_depolarizing(dep.get(key, 0.0), 0.75)
    return PauliNoise(z_flip=z, x_flip=dict(base.x_flip), depolarize=dep, readout_flip=base.readout_flip)


@dataclass
class MemoryProtocol:
    """The point's compiled protocol, compiled once per storage-noise class on demand (forwards the rest)."""

    protocol: Any
    noise: PauliNoise
    memory: MemoryPlan
    sampler: str
    _compiled: dict[int, Any] = field(default_factory=dict)

    def variant(self, code: int) -> Any:
        """The protocol compiled with class ``code``'s noise."""
        if code not in self._compiled:
            self._compiled[code] = self.protocol.compile(class_noise(self.noise, self.memory, code), sampler=self.sampler)
        return self._compiled[code]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.variant(0), name)

    def sample_classes(self, classes: dict[int, int], rng: np.random.Generator) -> dict[str, int]:
        """Counters summed over the classes, class after class (ascending code) from ``rng``."""
        names = self.variant(0).counter_names
        total = np.zeros(len(names), dtype=np.int64)
        for code in sorted(classes):
            variant = self.variant(code)
            drawn = variant.draw_counts(classes[code], rng)
            if variant.counter_names == names:
                total += drawn
            else:
                index = {n: i for i, n in enumerate(names)}
                for n, v in zip(variant.counter_names, drawn.tolist()):
                    total[index[n]] += v
        return dict(zip(names, total.tolist()))
