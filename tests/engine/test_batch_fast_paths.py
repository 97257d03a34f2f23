"""The fast paths of a batch draw exactly the numbers of the plain ones (same streams, same rows)."""

from __future__ import annotations

import numpy as np
import pytest

from qrate.channels.freespace import sample_transmittance
from qrate.engine import batch
from qrate.engine.grid import plan_sweep
from qrate.scenario import load_scenario
from qrate.seeding import batch_seed_sequence, batch_streams


@pytest.mark.parametrize("seed", [(0, 0, 0), (2**128 - 1, 2**128 - 1, 2**20), (7, 123456789, 4)])
def test_batch_streams_are_the_spawned_children(seed: tuple[int, int, int]) -> None:
    rng, stim_seed = batch_streams(*seed)
    channel, stim_stream = batch_seed_sequence(*seed).spawn(2)
    assert stim_seed == int(stim_stream.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    np.testing.assert_array_equal(rng.random(8), np.random.default_rng(channel).random(8))


def test_batch_streams_refuse_negative_components() -> None:
    with pytest.raises(ValueError):
        batch_streams(1, -1, 0)


def test_fused_weibull_draws_equal_one_call_per_downlink() -> None:
    plan = plan_sweep(load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[700]"]))[0]
    assert len(plan.downlinks) >= 2 and batch._weibull_parameters(plan) is not None
    fused, plain = batch_streams(3, plan.key, 2)[0], batch_streams(3, plan.key, 2)[0]
    got = batch._draws(plan, 1000, fused)
    want = np.stack([sample_transmittance(dl.budget, 1000, plain) for dl in plan.downlinks])
    np.testing.assert_array_equal(got, want)
    assert fused.random() == plain.random()  # both generators consumed the same draws


def test_weibull_rows_draw_row_after_row_with_each_rows_parameters() -> None:
    from qrate.channels._kernels import weibull_transmittance
    from qrate.engine._kernels import weibull_rows

    peaks, scales, halves = np.array([0.9, 0.2, 0.5]), np.array([0.3, 2.0, 0.01]), np.array([0.7, 1.3, 2.5])
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    got = weibull_rows(a, 257, peaks, scales, halves)
    want = np.stack([weibull_transmittance(b, 257, p, s, h) for p, s, h in zip(peaks, scales, halves)])
    np.testing.assert_array_equal(got, want)
