"""The fast paths of a batch draw exactly the numbers of the plain ones (same streams, same rows)."""

from __future__ import annotations

import numpy as np
import pytest

from qrate.channels.freespace import sample_transmittance
from qrate.engine import batch
from qrate.engine.grid import plan_sweep
from qrate.scenario import load_scenario
from qrate.seeding import BatchStreams, batch_generator, point_stream_key


@pytest.mark.parametrize("seed", [(0, 0, 0), (2**128 - 1, 2**128 - 1, 2**20), (7, 123456789, 4)])
def test_batch_generator_is_the_points_philox_stream_at_the_batch_counter(seed: tuple[int, int, int]) -> None:
    root, point, b = seed
    key = np.random.SeedSequence(root, spawn_key=(point,)).generate_state(2, dtype=np.uint64)
    want = np.random.Generator(np.random.Philox(key=key, counter=[0, 0, 0, b]))
    np.testing.assert_array_equal(batch_generator(*seed).random(8), want.random(8))
    np.testing.assert_array_equal(point_stream_key(root, point), key)


def test_batch_streams_reposition_one_generator_per_batch() -> None:
    streams = BatchStreams(5, 99)
    first = streams.at(3).random(5)
    streams.at(4).random(100)  # another batch in between
    np.testing.assert_array_equal(streams.at(3).random(5), first)
    assert not np.array_equal(streams.at(4).random(5), first)
    np.testing.assert_array_equal(batch_generator(5, 99, 3).random(5), first)


def test_batch_streams_refuse_negative_components() -> None:
    with pytest.raises(ValueError):
        batch_generator(1, -1, 0)
    with pytest.raises(ValueError):
        BatchStreams(1, 2).at(-1)


def test_fused_weibull_draws_equal_one_call_per_downlink() -> None:
    plan = plan_sweep(load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[700]"]))[0]
    assert len(plan.downlinks) >= 2 and batch._weibull_parameters(plan) is not None
    fused, plain = batch_generator(3, plan.key, 2), batch_generator(3, plan.key, 2)
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


def test_weibull_moments_are_the_joint_transmittance_moments_row_by_row() -> None:
    from qrate.engine._kernels import joint_moments, weibull_moments

    peaks, scales, halves = np.array([0.9, 0.2]), np.array([0.3, 2.0]), np.array([0.7, 1.3])
    e = np.random.default_rng(3).standard_exponential((4, 2, 129))
    eta = peaks[None, :, None] * np.exp(-scales[None, :, None] * e ** halves[None, :, None])
    joint = eta.prod(axis=1)
    s1, s2 = weibull_moments(e, peaks, scales, halves)
    np.testing.assert_allclose(s1, joint.sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(s2, (joint**2).sum(axis=1), rtol=1e-13)
    j1, j2 = joint_moments(eta)
    np.testing.assert_allclose(j1, s1, rtol=1e-13)
    np.testing.assert_allclose(j2, s2, rtol=1e-13)
    one = weibull_moments(e[2:3], peaks, scales, halves)  # a row's moments do not depend on the others
    assert (one[0][0], one[1][0]) == (s1[2], s2[2])


def _fields(s: object) -> tuple:
    return (s.pulses, s.successes, s.eta_count, s.eta_sum, s.eta_sumsq, dict(s.counts), s.point_key)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("khan-acka-leo", []),  # independent fading, exact-table counters (one joint multinomial)
        ("khan-acka-leo-realistic", []),  # exact transmittance model (non-Weibull moments), realistic noise
        ("khan-acka-leo", ["links.leo.coherence_time_s=1e-4"]),  # block fading
        ("micius-2017-bb84", []),  # a pulse sampler (decoy-state BB84)
        ("khan-acka-leo", ["sampling.sampler='stim'"]),  # per-shot stim rounds, seeds from the batch's generator
    ],
)
def test_run_batches_equal_run_batch_bit_for_bit(preset: str, overrides: list[str]) -> None:
    from qrate.sweep.collect import compiled_protocol, sample_batches

    s = load_scenario(preset, ["sweep.ground_distance_km=[300]", *overrides])
    plan = plan_sweep(s)[0]
    compiled = compiled_protocol(plan)
    pulses = 200_000
    one = [batch.run_batch(plan, compiled, 17, b, pulses) for b in range(3, 9)]
    together = batch.run_batches(plan, compiled, 17, 3, 6, pulses)
    split = batch.run_batches(plan, compiled, 17, 6, 3, pulses) + batch.run_batches(plan, compiled, 17, 3, 3, pulses)
    split = split[3:] + split[:3]
    via_sweep = sample_batches(plan, 17, 3, 6, pulses)
    assert [_fields(x) for x in together] == [_fields(x) for x in one]
    assert [_fields(x) for x in split] == [_fields(x) for x in one]
    assert [_fields(x) for x in via_sweep] == [_fields(x) for x in one]
    assert len({(x.successes, x.eta_sum) for x in one}) > 1  # the batches differ from each other


def test_the_iid_moment_sample_estimates_the_mean_transmittance_within_its_standard_error() -> None:
    import math

    from qrate.formulas import moment_se
    from qrate.stats import MOMENT_SAMPLES
    from qrate.sweep.collect import compiled_protocol

    plan = plan_sweep(load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[1500]"]))[0]
    rows = batch.run_batches(plan, compiled_protocol(plan), 5, 0, 40, 10**6)
    assert all(r.eta_count == MOMENT_SAMPLES for r in rows)
    n = sum(r.eta_count for r in rows)
    s1, s2 = sum(r.eta_sum for r in rows), sum(r.eta_sumsq for r in rows)
    se = moment_se(n, s1, s2)
    assert 0 < se < 0.05 * plan.mean_eta_joint and math.isfinite(se)
    assert abs(s1 / n - plan.mean_eta_joint) < 4 * se
    small = batch.run_batches(plan, compiled_protocol(plan), 5, 0, 1, 50)[0]
    assert small.eta_count == 50  # never more draws than pulses
