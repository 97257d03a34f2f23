"""Additive batch statistics: sums, refusals, the batch table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qrate.stats import BatchStats, row_stats, to_row, total

NAMES = ("key_rounds", "z_err:A:B")


def _stats(draw: st.DrawFn) -> BatchStats:
    pulses = draw(st.integers(0, 10**12))
    succ = draw(st.integers(0, pulses))
    counts = {n: draw(st.integers(0, 10**6)) for n in ("a", "b")}
    return BatchStats(pulses, succ, draw(st.integers(0, 100)), draw(st.floats(0, 100)), draw(st.floats(0, 100)), 0.0, counts)


stats_strategy = st.composite(_stats)()


@settings(max_examples=50, deadline=None)
@given(stats_strategy, stats_strategy, stats_strategy)
def test_total_of_rows_is_the_fieldwise_sum_in_any_order(x: BatchStats, y: BatchStats, z: BatchStats) -> None:
    names = ("a", "b")
    rows = [to_row(s, i, names) for i, s in enumerate((x, y, z))]
    t, back = total(np.concatenate(rows)), total(np.concatenate(rows[::-1]))
    assert (t.pulses, t.successes, t.eta_count, t.counts) == (
        x.pulses + y.pulses + z.pulses, x.successes + y.successes + z.successes, x.eta_count + y.eta_count + z.eta_count,
        {n: x.counts[n] + y.counts[n] + z.counts[n] for n in names})
    assert (back.pulses, back.successes, back.counts) == (t.pulses, t.successes, t.counts)
    assert t.eta_sum == pytest.approx(x.eta_sum + y.eta_sum + z.eta_sum)
    assert t.eta_sumsq == pytest.approx(x.eta_sumsq + y.eta_sumsq + z.eta_sumsq)
    assert total(np.concatenate([rows[0], to_row(BatchStats(0, 0), 3, names)])).counts == x.counts  # a zero batch adds nothing
    assert row_stats(rows[0][0], names) == x


def test_batch_stats_rejects_inconsistent_counts() -> None:
    with pytest.raises(ValueError):
        BatchStats(pulses=10, successes=11)


def test_total_sums_rows() -> None:
    rows = np.concatenate([
        to_row(BatchStats(5, 1, counts={"key_rounds": 1}), 0, NAMES),
        to_row(BatchStats(7, 2, counts={"key_rounds": 2}), 1, NAMES),
    ])
    t = total(rows)
    assert (t.pulses, t.successes, t.counts["key_rounds"], t.counts["z_err:A:B"]) == (12, 3, 3, 0)
