"""Additive batch statistics: sums, refusals, the batch table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qrate.stats import BatchStats, sum_stats, to_row, total

NAMES = ("key_rounds", "z_err:A:B")


def _stats(draw: st.DrawFn) -> BatchStats:
    pulses = draw(st.integers(0, 10**12))
    succ = draw(st.integers(0, pulses))
    counts = {n: draw(st.integers(0, 10**6)) for n in ("a", "b")}
    return BatchStats(pulses, succ, draw(st.integers(0, 100)), draw(st.floats(0, 100)), draw(st.floats(0, 100)), 0.0, counts)


stats_strategy = st.composite(_stats)()


@settings(max_examples=50, deadline=None)
@given(stats_strategy, stats_strategy, stats_strategy)
def test_batch_stats_add_is_commutative_associative_with_zero(x: BatchStats, y: BatchStats, z: BatchStats) -> None:
    assert x + y == y + x
    left, right = (x + y) + z, x + (y + z)
    assert (left.pulses, left.successes, left.counts, left.eta_count) == (right.pulses, right.successes, right.counts, right.eta_count)
    assert left.eta_sum == pytest.approx(right.eta_sum)
    assert x + BatchStats(0, 0) == x
    assert sum_stats([x, y]) == x + y


def test_batch_stats_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError):
        BatchStats(pulses=10, successes=11)


def test_batch_stats_of_two_points_refuse_to_add() -> None:
    a, b = BatchStats(10, 1, point_key=1), BatchStats(10, 2, point_key=2)
    with pytest.raises(ValueError, match="two sweep points"):
        a + b
    assert (a + BatchStats(5, 1, point_key=1)).point_key == 1
    assert (a + BatchStats(5, 1)).pulses == 15  # an unkeyed zero or partial sum adds


def test_total_sums_rows() -> None:
    rows = np.concatenate([
        to_row(BatchStats(5, 1, counts={"key_rounds": 1}), 0, NAMES),
        to_row(BatchStats(7, 2, counts={"key_rounds": 2}), 1, NAMES),
    ])
    t = total(rows)
    assert (t.pulses, t.successes, t.counts["key_rounds"], t.counts["z_err:A:B"]) == (12, 3, 3, 0)
