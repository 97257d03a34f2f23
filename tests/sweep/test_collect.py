"""The batch loop: acceptance in index order, deterministic stopping, limits, scheduler options, progress."""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pytest

from qrate.engine import plan_sweep
from qrate.errors import InputError
from qrate.stats import BatchStats
from qrate.sweep import Limits, PointTally, run_sweep
from qrate.sweep.collect import SweepStatus, _Point, iter_collect
from qrate.sweep.progress import SweepProgress
from qrate.sweep.scheduler import open_client, parse_scheduler
from tests.sweep._helpers import scenario


def _stats(k: int, n: int = 1000) -> BatchStats:
    return BatchStats(pulses=n, successes=k)


def _reference_stop(successes: list[int], limits: Limits, n: int = 1000) -> int:
    """Sequential rule written out with numpy: first k where the first k batches meet a limit."""
    for k in range(1, len(successes) + 1):
        if k >= limits.max_batches or (limits.max_pulses is not None and k * n >= limits.max_pulses):
            return k
        if limits.target_relative_error is not None and k >= limits.min_batches:
            p = np.array(successes[:k]) / n
            if p.mean() > 0 and p.std(ddof=1) / math.sqrt(k) <= limits.target_relative_error * p.mean():
                return k
    return len(successes)


@pytest.mark.parametrize("order_seed", [0, 1, 2])
def test_stop_index_does_not_depend_on_completion_order(order_seed: int) -> None:
    rng = np.random.default_rng(7)
    successes = [int(x) for x in rng.binomial(1000, 0.3, size=60)]
    limits = Limits(max_batches=60, target_relative_error=0.01, min_batches=3)
    expected = _reference_stop(successes, limits)
    assert 3 < expected < 60  # the target error, not the cap, decides
    plan = plan_sweep(scenario("[0]"))[0]
    point = _Point(plan, limits, 1000, None, None)
    order = list(range(60))
    random.Random(order_seed).shuffle(order)
    accepted = []
    for b in order:
        if point.done:
            break
        point.buffer[b] = _stats(successes[b])
        accepted += [i for _, i, _ in point.advance()]
    assert point.done and accepted == list(range(expected)) and point.tally.n == expected


@pytest.mark.parametrize("min_batches", [2, 3, 4, 7])
def test_a_met_target_stops_exactly_at_min_batches(min_batches: int) -> None:
    """Batches that agree exactly meet any target from the 2nd batch on: the stop is min_batches itself."""
    limits = Limits(max_batches=50, target_relative_error=0.01, min_batches=min_batches)
    assert _reference_stop([300] * 50, limits) == min_batches
    tally = PointTally(limits)
    while not tally.enough():
        tally.add(_stats(300))
    assert tally.n == min_batches
    # through the sweep loop: a 1e5-pulse batch at P ~ 0.44 has a relative SEM ~ 0.2 % << 1 %
    s = scenario("[0]", "sampling.target_relative_error=0.01", f"sampling.min_batches={min_batches}", pulses=10**5,
                 batches=50)
    (res,) = run_sweep(s, 5)
    assert res.rows.size == min_batches


def test_stored_batches_are_skipped_and_not_yielded() -> None:
    s = scenario("[0, 100]", batches=6)
    plans = plan_sweep(s)
    lim = Limits.from_sampling(s.sampling)
    whole = {(i, b): st for step in iter_collect(plans, 3, lim, 2000) for i, b, st in step.new}
    assert sorted(whole) == [(i, b) for i in (0, 1) for b in range(6)]
    from qrate.stats import batch_dtype, to_row

    names = tuple(whole[0, 0].counts)
    stored = {0: np.concatenate([to_row(whole[0, b], b, names) for b in (0, 1, 3)]).astype(batch_dtype(names))}
    rest = [(i, b) for step in iter_collect(plans, 3, lim, 2000, stored=stored) for i, b, _ in step.new]
    assert rest == [(0, 2), (0, 4), (0, 5)] + [(1, b) for b in range(6)]


def test_sync_loop_matches_engine_loop_with_target_error() -> None:
    s = scenario("[0, 300]", "sampling.target_relative_error=0.02", batches=40)
    lim = Limits.from_sampling(s.sampling)
    got: dict[int, list[BatchStats]] = {0: [], 1: []}
    for step in iter_collect(plan_sweep(s), 11, lim, 2000):
        for i, _, st in step.new:
            got[i].append(st)
    for res in run_sweep(s, 11):
        assert [st.successes for st in got[res.plan.index]] == list(res.rows["successes"])
        assert 3 <= res.rows.size < 40


def test_limits_caps() -> None:
    lim = Limits(max_batches=10, max_pulses=2500)
    assert lim.batch_cap(1000) == 3 and Limits(max_batches=10).batch_cap(1000) == 10
    t = PointTally(lim)
    for _ in range(2):
        t.add(_stats(10))
    assert not t.enough()
    t.add(_stats(10))
    assert t.enough()
    assert PointTally(lim).relative_error() == math.inf


def test_scheduler_options_are_checked() -> None:
    assert parse_scheduler("sync").kind == "sync"
    assert parse_scheduler("tcp://127.0.0.1:8786").address == "tcp://127.0.0.1:8786"
    with pytest.raises(InputError, match="--scheduler"):
        parse_scheduler("slurm")
    with pytest.raises(InputError, match="--workers"):
        parse_scheduler("local", 0)
    with pytest.raises(InputError, match="--scheduler-file"):
        parse_scheduler("local", None, "/nonexistent/scheduler.json")
    with open_client("sync") as client:
        assert client is None


def _status(done: int) -> SweepStatus:
    return SweepStatus(done, 2, 5 * done + 3, 20, 1000 * done, 0.05, 4)


def test_progress_modes() -> None:
    quiet = io.StringIO()
    with SweepProgress(quiet=True, stream=quiet, interactive=True) as p:
        p.say("hello")
        p.update(_status(1))
    assert quiet.getvalue() == ""
    plain = io.StringIO()  # not a terminal: a plain line once the interval has passed
    with SweepProgress(stream=plain, interval_s=0.0) as p:
        p.update(_status(1))
    assert "1/2 points done" in plain.getvalue() and "5.00%" in plain.getvalue()
    rare = io.StringIO()
    with SweepProgress(stream=rare, interval_s=3600.0) as p:
        p.update(_status(1))
    assert rare.getvalue() == ""
    bar = io.StringIO()
    with SweepProgress(stream=bar, interactive=True) as p:
        p.update(_status(1))
        p.update(_status(2))
    text = bar.getvalue()
    assert "13/20" in text and "points 2/2" in text


def test_target_on_the_key_rate_stops_where_the_key_rate_error_meets_it() -> None:
    """sampling.target = {estimate = "key_rate", ...}: the point stops at the first prefix whose
    key-rate standard error (from the per-batch key rates) is within the target, computed here
    independently from the stored rows."""
    from qrate.estimates import estimate_point
    from qrate.scenario import load_scenario

    s = load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[1000.0]", "sampling.pulses_per_batch=20000",
                                        "sampling.batches=60", "sampling.seed=3",
                                        'sampling.target={estimate = "key_rate", relative_error = 0.02}'])
    (res,) = run_sweep(s, 3)
    n = res.rows.size
    assert 3 <= n < 60
    report = res.plan.report()

    def rel(k: int) -> float:
        est = estimate_point(res.rows[:k], report)
        return est["key_rate_sem_bps"] / est["key_rate_bps"]

    assert rel(n) <= 0.02 and all(rel(k) > 0.02 for k in range(3, n))
    # the rate target alone would have stopped elsewhere: the two rules differ
    rate_rows = run_sweep(load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[1000.0]",
                                                          "sampling.pulses_per_batch=20000", "sampling.batches=60",
                                                          "sampling.target_relative_error=0.02"]), 3)[0].rows.size
    assert rate_rows != n


def test_the_sampler_is_part_of_the_per_process_protocol_cache() -> None:
    """A point run with the exact sampler, then with per-shot Stim in the same process, must use Stim
    the second time (the point key names the distribution, not how counters are drawn)."""
    from qrate.sweep.collect import compiled_protocol

    exact = plan_sweep(scenario("[0]"))[0]
    stim = plan_sweep(scenario("[0]", 'sampling.sampler="stim"'))[0]
    assert exact.key == stim.key
    assert set(compiled_protocol(exact).round_samplers.values()) == {"exact-table"}
    assert set(compiled_protocol(stim).round_samplers.values()) == {"stim"}


def test_running_totals_equal_the_sums_over_every_point() -> None:
    """The O(1) totals of each step equal the sums over every point's tally (stored prefix, early stops)."""
    from qrate.sweep.collect import _Totals

    s = scenario("[0, 100, 200]", "sampling.target_relative_error=0.2", "sampling.min_batches=2", batches=8)
    plans = plan_sweep(s)
    limits = Limits.from_sampling(s.sampling)
    first = run_sweep(s, 11, limits=limits)
    stored = {first[0].plan.index: first[0].rows[:2]}
    captured: list[_Totals] = []
    original = _Totals.__init__

    def capture(self: _Totals) -> None:
        original(self)
        captured.append(self)

    _Totals.__init__ = capture  # type: ignore[method-assign]
    try:
        steps = list(iter_collect(plans, 11, limits, s.sampling.pulses_per_batch, stored=stored))
    finally:
        _Totals.__init__ = original  # type: ignore[method-assign]
    points = captured[0].all
    final = steps[-1].status
    assert final.points_done == final.points == 3
    assert final.batches_done == sum(p.tally.n for p in points) == final.batches_cap
    assert final.pulses_done == sum(p.tally.pulses for p in points)
    assert any(p.tally.n < 8 for p in points)  # a point stopped on its target error


def test_points_differing_only_in_loss_share_one_compiled_protocol() -> None:
    from qrate.sweep.collect import compiled_protocol

    s = scenario("[0, 500]", "links.leo.aperture_radius_m=0.5")
    wider = scenario("[0, 500]", "links.leo.aperture_radius_m=2.0")
    a, b = plan_sweep(s)[0], plan_sweep(wider)[1]
    assert a.key != b.key and a.noise == b.noise
    assert compiled_protocol(a) is compiled_protocol(b)
    noisy = plan_sweep(scenario("[0]", "detectors.readout_flip=0.01"))[0]
    assert compiled_protocol(noisy) is not compiled_protocol(a)
    assert compiled_protocol(noisy).circuits != compiled_protocol(a).circuits


def test_dask_tasks_are_chunks_of_points_and_give_the_rows_of_the_sync_loop() -> None:
    """Many small points: one task runs the batches of several points; the accepted rows are the sync loop's."""
    from distributed import Client

    s = scenario(str([float(d) for d in range(0, 1200, 50)]), batches=3, pulses=500)
    plans = plan_sweep(s)
    limits = Limits.from_sampling(s.sampling)
    sync = {(i, b): st for step in iter_collect(plans, 3, limits, 500) for i, b, st in step.new}
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address="127.0.0.1:0") as client:
        sizes: list[int] = []
        submit = client.submit

        def spy(fn, items, *args, **kw):  # type: ignore[no-untyped-def]
            sizes.append(len(items))
            return submit(fn, items, *args, **kw)

        client.submit = spy  # type: ignore[method-assign]
        dask = {(i, b): st for step in iter_collect(plans, 3, limits, 500, client=client) for i, b, st in step.new}
    assert sorted(dask) == sorted(sync) and len(sync) == 3 * len(plans)
    for k, st in sync.items():
        assert (dask[k].successes, dask[k].counts) == (st.successes, st.counts)
    assert max(sizes) > 1 and len(sizes) < len(plans)  # tasks span several points
