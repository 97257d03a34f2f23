"""Sufficient statistics per batch (additive) and the batch table they are stored in.

A batch returns :class:`BatchStats`: pulses, heralded successes, protocol counters, and the
moments of the sampled joint free-space transmittance. Batches of one point add exactly
(``a + b``), so runs and files combine without loss; statistics of two different points refuse to
add. Estimates are computed from a table of batch rows by :mod:`qrate.estimates`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: fields of a batch row before the protocol counters (which follow, prefixed ``COUNTER_PREFIX``)
BASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("batch_index", "<i8"),
    ("pulses", "<i8"),
    ("successes", "<i8"),
    ("eta_count", "<i8"),
    ("eta_sum", "<f8"),
    ("eta_sumsq", "<f8"),
    ("seconds", "<f8"),
)
COUNTER_PREFIX = "c_"

MOMENT_SAMPLES = 128
"""Joint free-space transmittance draws per batch for the reported mean transmittance when the
batch does not draw one per coherence block (independent fading, memories, pulse samplers): a
diagnostic sample, read only by ``mean_eta_free_space`` and its standard error (``qrate.estimates``),
which the sample's own scatter gives honestly (``qrate.formulas.moment_se``)."""


@dataclass(frozen=True, slots=True)
class BatchStats:
    """Sufficient statistics of one batch (sums of batches: :func:`total` of their rows).

    Attributes:
        pulses: source ticks simulated.
        successes: heralded ticks (every photon detected, every BSM succeeded).
        eta_count, eta_sum, eta_sumsq: number, sum and sum of squares of the joint free-space
            transmittance draws of the batch (per coherence block, or a diagnostic sample).
        seconds: wall time spent.
        counts: protocol counters of the protocol run on the successes.
        point_key: content key of the sweep point the batch belongs to (None: not tied to a point).
    """

    pulses: int
    successes: int
    eta_count: int = 0
    eta_sum: float = 0.0
    eta_sumsq: float = 0.0
    seconds: float = 0.0
    counts: Mapping[str, int] = field(default_factory=dict)
    point_key: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.pulses:
            raise ValueError(f"need 0 <= successes <= pulses, got successes={self.successes}, pulses={self.pulses}")


def batch_dtype(counter_names: Sequence[str]) -> np.dtype:
    """Structured dtype of one batch row with the given protocol counters."""
    return np.dtype([*BASE_FIELDS, *((COUNTER_PREFIX + n, "<i8") for n in counter_names)])


def to_row(stats_: BatchStats, batch_index: int, counter_names: Sequence[str]) -> np.ndarray:
    """One batch as a structured row (shape ``(1,)``)."""
    row = np.zeros(1, dtype=batch_dtype(counter_names))
    row["batch_index"] = batch_index
    for name in ("pulses", "successes", "eta_count", "eta_sum", "eta_sumsq", "seconds"):
        row[name] = getattr(stats_, name)
    for n in counter_names:
        row[COUNTER_PREFIX + n] = stats_.counts.get(n, 0)
    return row


def counter_names_of(rows: np.ndarray) -> tuple[str, ...]:
    """Protocol counter names stored in a batch table."""
    return tuple(n[len(COUNTER_PREFIX) :] for n in rows.dtype.names or () if n.startswith(COUNTER_PREFIX))


def row_stats(row: np.void, counter_names: Sequence[str]) -> BatchStats:
    """One stored batch row back as :class:`BatchStats` (the inverse of :func:`to_row`)."""
    return BatchStats(
        pulses=int(row["pulses"]),
        successes=int(row["successes"]),
        eta_count=int(row["eta_count"]),
        eta_sum=float(row["eta_sum"]),
        eta_sumsq=float(row["eta_sumsq"]),
        seconds=float(row["seconds"]),
        counts={n: int(row[COUNTER_PREFIX + n]) for n in counter_names},
    )


def total(rows: np.ndarray) -> BatchStats:
    """Sum of a batch table."""
    names = counter_names_of(rows)
    return BatchStats(
        pulses=int(rows["pulses"].sum()),
        successes=int(rows["successes"].sum()),
        eta_count=int(rows["eta_count"].sum()),
        eta_sum=float(rows["eta_sum"].sum()),
        eta_sumsq=float(rows["eta_sumsq"].sum()),
        seconds=float(rows["seconds"].sum()),
        counts={n: int(rows[COUNTER_PREFIX + n].sum()) for n in names},
    )
