"""What the engine runs: a protocol compiled for given noise, as a few stim circuits ("rounds").

A heralded shot is one round of one kind (key, X-verification, ...). ``sample_counts`` splits
the shots between the rounds by a multinomial draw with the round probabilities, samples each
round's circuit with stim and sums the decoder's per-shot flags into counters. Counters are
additive over batches: ``sample_counts(a, s1) + sample_counts(b, s2)`` is a valid sample of
``a + b`` shots.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import stim

from qrate.errors import InputError
from qrate.protocols._decode import (
    CHUNK_SHOTS,
    DEFAULT_METHOD,
    as_bool_records,
    sample_records,
    stim_seeds,
    xor_columns,
)

Decoder = Callable[[np.ndarray], Mapping[str, np.ndarray]]
"""Bool records ``(shots, M)`` -> per-shot bool arrays, one per counter it feeds."""


@dataclass(frozen=True)
class Round:
    """One kind of heralded shot.

    Attributes:
        name: e.g. ``"key"``, ``"verify_x"``.
        circuit: stim circuit of one shot of this kind (noise included).
        probability: probability that a heralded shot is of this kind.
        counter: counter name that counts the shots of this kind (None: not counted separately).
        decode: vectorised decoder, records -> per-shot flags by counter name.
        announcements: public bit name -> record indices whose XOR is the announced bit, in the
            same order whoever is the sender (the transcript of the anonymity audit).
        key_bits: party -> record index of its raw key (or output) bit, where that applies.
    """

    name: str
    circuit: stim.Circuit
    probability: float
    counter: str | None
    decode: Decoder
    announcements: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    key_bits: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledProtocol:
    """A protocol compiled for one noise setting.

    Attributes:
        name: registry name of the protocol.
        rounds: the kinds of shot and their probabilities (summing to 1).
        counter_names: every counter ``sample_counts`` returns (``"shots"`` first).
        resources: carriers consumed per heralded shot, e.g. ``{"ghz": 1, "bell": 1, "bsm": 1}``.
    """

    name: str
    rounds: tuple[Round, ...]
    counter_names: tuple[str, ...]
    resources: Mapping[str, int] = field(default_factory=dict)
    method: str = DEFAULT_METHOD

    @property
    def circuits(self) -> dict[str, stim.Circuit]:
        """Round name -> stim circuit."""
        return {r.name: r.circuit for r in self.rounds}

    def round(self, name: str) -> Round:
        """The round called ``name``."""
        for r in self.rounds:
            if r.name == name:
                return r
        raise InputError("round", f"no round {name!r}; rounds: {[r.name for r in self.rounds]}")

    def decode(self, round_name: str, records: np.ndarray) -> dict[str, np.ndarray]:
        """Per-shot flags of a batch of records (bool, or stim bit-packed uint8) of one round."""
        r = self.round(round_name)
        rec = as_bool_records(records, r.circuit.num_measurements)
        return {k: np.asarray(v, dtype=np.bool_) for k, v in r.decode(rec).items()}

    def split_shots(self, shots: int, rng: np.random.Generator) -> np.ndarray:
        """Multinomial split of ``shots`` between the rounds."""
        p = np.array([r.probability for r in self.rounds], dtype=float)
        return rng.multinomial(shots, p / p.sum())

    def sample_counts(self, shots: int, seed: int) -> dict[str, int]:
        """All counters summed over ``shots`` heralded shots; deterministic for ``(shots, seed)``."""
        if shots < 0:
            raise InputError("shots", f"must be >= 0, got {shots}")
        rng = np.random.default_rng(seed)
        split = self.split_shots(shots, rng)
        seeds = stim_seeds(rng, len(self.rounds))
        counts = dict.fromkeys(self.counter_names, 0)
        counts["shots"] = int(shots)
        for r, n, s in zip(self.rounds, split, seeds):
            if r.counter is not None:
                counts[r.counter] += int(n)
            if n == 0:
                continue
            sampler = r.circuit.compile_sampler(seed=s) if self.method == "compiled" else None
            sub = np.random.default_rng(s)
            done = 0
            while done < n:
                m = int(min(CHUNK_SHOTS, n - done))
                if sampler is not None:
                    rec = sampler.sample(m)
                else:
                    rec = sample_records(r.circuit, m, int(sub.integers(2**63 - 1)), method=self.method)
                for k, flags in r.decode(rec).items():
                    counts[k] += int(np.count_nonzero(flags))
                done += m
        return counts

    def sample_transcripts(self, round_name: str, shots: int, seed: int) -> tuple[tuple[str, ...], np.ndarray]:
        """Public announcements of ``shots`` shots of one round: (names, bool ``(shots, k)``)."""
        r = self.round(round_name)
        rec = sample_records(r.circuit, shots, seed)
        names = tuple(r.announcements)
        bits = [xor_columns(rec, r.announcements[k]) for k in names]
        out = np.stack(bits, axis=1) if bits else np.zeros((shots, 0), dtype=np.bool_)
        return names, out
