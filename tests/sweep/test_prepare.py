"""Preparing a run: ``auto`` picks the faster scheduler from measured batch time, cores and Dask's overhead."""

from __future__ import annotations

import io

import pytest

import qrate.sweep.prepare as prepare
from qrate.engine import plan_sweep
from qrate.sweep import Limits
from qrate.sweep.scheduler import SchedulerSpec
from tests.sweep._helpers import scenario


def test_two_cores_never_pay_for_a_cluster_sixteen_do_when_the_work_is_long() -> None:
    for work_s in (1.0, 100.0, 1e4):
        sync, local = prepare.projected_seconds(work_s / 1000, 1000, 100, workers=2, cores=2)
        assert local > sync  # the client keeps one of the two cores busy: one worker's worth is left
    sync, local = prepare.projected_seconds(0.1, 1000, 100, workers=16, cores=16)
    assert local < sync / 5  # 15 workers besides the client, less the cluster start
    sync, local = prepare.projected_seconds(1e-6, 10, 10**6, workers=16, cores=16)
    assert local >= prepare.CLIENT_POINT_S * 10**6 > sync  # tiny batches: the client is the bottleneck


@pytest.mark.parametrize("cores, expected", [(2, "sync"), (16, "local")])
def test_auto_follows_the_projection(cores: int, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario("[0, 100, 200]", batches=40)
    plans = plan_sweep(s)
    monkeypatch.setattr(prepare, "usable_cores", lambda: cores)
    monkeypatch.setattr(prepare, "AUTO_SYNC_MAX_S", 0.0)  # small test sweep: decide by the projection alone
    import qrate.sweep.collect as collect

    real = collect.sample_batches

    def slow(*args, **kw):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        return [replace(b, seconds=1.0) for b in real(*args, **kw)]  # as if a batch took 1 s

    monkeypatch.setattr(collect, "sample_batches", slow)
    said = io.StringIO()
    spec, ready = prepare.choose_scheduler(
        SchedulerSpec("auto"), plans, 5, Limits.from_sampling(s.sampling), 2000, {}, say=lambda t: said.write(t + "\n")
    )
    assert spec.kind == expected and sorted(ready[plans[0].index]) == [0, 1]
    assert f"({cores} cores)" in said.getvalue() and "projected" in said.getvalue()
