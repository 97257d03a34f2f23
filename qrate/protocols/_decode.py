"""Vectorised helpers on measurement records: parities, flags, unpacking, seeds, stim sampling.

A round declares what it counts as *parities* (XORs of measurement-record indices) and *flags*
(:class:`Flag`: ``invert XOR OR_{j in parities} bit_j``); :func:`parity_bits` and
:func:`flag_values` turn records into per-shot flags, the one decoder every protocol shares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import stim

from qrate.errors import count_arg
from qrate.seeding import MAX_STIM_SEED

CHUNK_SHOTS = 1 << 16
"""Shots per stim call inside one ``sample_counts`` (bounds memory; results do not depend on it)."""


def as_bool_records(records: np.ndarray, num_measurements: int) -> np.ndarray:
    """Bool ``(shots, M)`` records from bool or stim bit-packed uint8 ``(shots, ceil(M/8))`` arrays."""
    rec = np.asarray(records)
    if rec.dtype == np.bool_:
        return rec
    if rec.dtype == np.uint8:
        return np.unpackbits(rec, axis=1, count=num_measurements, bitorder="little").astype(np.bool_)
    raise TypeError(f"records must be bool or bit-packed uint8, got {rec.dtype}")


def xor_columns(rec: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Per-shot XOR of the given record columns (all-False for no columns)."""
    if len(columns) == 0:
        return np.zeros(rec.shape[0], dtype=np.bool_)
    return np.bitwise_xor.reduce(rec[:, list(columns)], axis=1)


def stim_seeds(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` independent integer seeds for stim drawn from ``rng``."""
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=n, dtype=np.int64)]


DEFAULT_METHOD = "flip"
"""Stim back end of every protocol: ``FlipSimulator`` sampled 1.0-1.9x faster than
``compile_sampler`` for every layout from 4 to 32 users (``benchmarks/bench_protocols.py``)."""


def sample_records(circuit: stim.Circuit, shots: int, seed: int, *, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Bool measurement records ``(shots, M)`` of ``circuit``, deterministic for ``seed``.

    ``method="compiled"`` uses ``compile_sampler`` (tableau reference sample + Pauli frames);
    ``"flip"`` uses ``stim.FlipSimulator`` plus the reference sample. Both give the same
    distribution; benchmarks/bench_protocols.py compares their speed.
    """
    shots = count_arg("shots", shots)
    seed = count_arg("seed", seed, maximum=MAX_STIM_SEED)
    if method == "compiled":
        return circuit.compile_sampler(seed=seed).sample(shots)
    if method == "flip":
        sim = stim.FlipSimulator(batch_size=shots, num_qubits=circuit.num_qubits, seed=seed)
        sim.do(circuit)
        flips = sim.get_measurement_flips(bit_packed=False)  # (M, shots)
        ref = circuit.reference_sample()
        return np.logical_xor(flips.T, ref[np.newaxis, :])
    raise ValueError(f"method must be 'compiled' or 'flip', got {method!r}")


Sampler = Literal["exact", "stim"]
"""How counters are drawn (the one place this choice is defined; ``sampling.sampler`` in a scenario):
``"exact"`` from stim's detector error model (:mod:`qrate.protocols.exact`), ``"stim"`` every shot
sampled with stim and decoded."""
DEFAULT_SAMPLER: Sampler = "exact"
"""Counter sampler of every protocol unless a scenario or caller says otherwise."""
SAMPLER_CHOICES: tuple[Sampler, ...] = get_args(Sampler)


@dataclass(frozen=True)
class Flag:
    """A per-shot 0/1 counter increment: ``invert XOR OR_{j in parities} bit_j``.

    Attributes:
        parities: indices into the round's ``parities`` (one: that parity; several: "any of";
            none: the constant ``invert``).
        invert: complement the result (e.g. count *equal* bits, or a parity whose ideal value is 1).
    """

    parities: tuple[int, ...]
    invert: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "parities", tuple(int(j) for j in self.parities))
        object.__setattr__(self, "invert", bool(self.invert))
        if any(j < 0 for j in self.parities) or len(set(self.parities)) != len(self.parities):
            raise ValueError(f"flag parities must be distinct non-negative indices, got {self.parities}")


def canonical_parity(indices: Iterable[int]) -> tuple[int, ...]:
    """Sorted record indices that occur an odd number of times (the same XOR, without repeats)."""
    return tuple(sorted(i for i, c in Counter(int(i) for i in indices).items() if c % 2))


def parity_bits(rec: np.ndarray, parities: Sequence[Sequence[int]]) -> np.ndarray:
    """Bool ``(shots, k)``: per-shot XOR of the record columns of each of the ``k`` parities."""
    out = np.zeros((rec.shape[0], len(parities)), dtype=np.bool_)
    for j, cols in enumerate(parities):
        out[:, j] = xor_columns(rec, canonical_parity(cols))
    return out


def flag_values(bits: np.ndarray, flags: Mapping[str, Flag]) -> dict[str, np.ndarray]:
    """Per-shot bool flags by counter name from parity bits ``(shots, k)``."""
    out: dict[str, np.ndarray] = {}
    for name, f in flags.items():
        v = bits[:, list(f.parities)].any(axis=1) if f.parities else np.zeros(bits.shape[0], dtype=np.bool_)
        out[name] = np.logical_xor(v, f.invert)
    return out
