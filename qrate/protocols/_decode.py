"""Vectorised helpers on measurement records: parities, unpacking, round splitting, sampling."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import stim

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
    if method == "compiled":
        return circuit.compile_sampler(seed=seed).sample(shots)
    if method == "flip":
        sim = stim.FlipSimulator(batch_size=shots, num_qubits=circuit.num_qubits, seed=seed)
        sim.do(circuit)
        flips = sim.get_measurement_flips(bit_packed=False)  # (M, shots)
        ref = circuit.reference_sample()
        return np.logical_xor(flips.T, ref[np.newaxis, :])
    raise ValueError(f"method must be 'compiled' or 'flip', got {method!r}")
