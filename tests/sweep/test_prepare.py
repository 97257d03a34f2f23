"""Preparing a run: ``auto`` picks the faster scheduler from the measured cost of a point, the cores and Dask's overhead."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

import qrate.sweep.prepare as prepare
from qrate.sweep.scheduler import SchedulerSpec
from tests.sweep._helpers import scenario


def test_a_cluster_pays_only_for_long_work_and_the_client_bounds_it() -> None:
    sync, local = prepare.projected_seconds(1e-3, 1000, 1000, workers=2, cores=2)
    assert local > sync  # one second of work: the cluster's start dominates
    sync, local = prepare.projected_seconds(10.0, 1000, 1000, workers=2, cores=2)
    assert sync / 2.1 < local - prepare.LOCAL_START_S < sync / 1.8  # two cores, the client's share is small
    sync, local = prepare.projected_seconds(0.1, 1000, 100, workers=16, cores=16)
    assert local < sync / 5
    sync, local = prepare.projected_seconds(1e-6, 10**6, 10**6, workers=16, cores=16)
    assert local >= prepare.CLIENT_POINT_S * 10**6 > sync  # tiny points: the client is the bottleneck
    one, _ = prepare.projected_seconds(1.0, 100, 100, workers=1, cores=1)
    assert _ > one  # one core: never a cluster


@pytest.mark.parametrize("cores, expected", [(1, "sync"), (16, "local")])
def test_auto_times_points_keeps_them_and_follows_the_projection(
    cores: int, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s = scenario(str([float(d) for d in range(0, 2000, 10)]), batches=2, pulses=500)
    monkeypatch.setattr(prepare, "usable_cores", lambda: cores)
    monkeypatch.setattr(prepare, "AUTO_SYNC_MAX_S", 0.0)  # decide by the projection alone
    import qrate.sweep.chunks as chunks

    real = chunks.run_chunk

    def slow(*args, **kw):  # type: ignore[no-untyped-def]
        start, stop = args[4], args[5]
        time.sleep(0.1 * (stop - start))  # a point takes at least 0.1 s, on any machine
        return real(*args, **kw)

    monkeypatch.setattr(chunks, "run_chunk", slow)
    said = io.StringIO()
    prepared = prepare.prepare_run(
        s,
        tmp_path / "x.h5",
        SchedulerSpec("auto"),
        seed=5,
        resume=False,
        overwrite=False,
        max_pulses=None,
        say=lambda t: said.write(t + "\n"),
    )
    assert prepared.spec.kind == expected
    assert prepared.point_s is not None and prepared.point_s >= 0.1
    ready = [int(i) for r, _ in prepared.ready for i in r.index]
    assert ready == list(range(len(ready))) and 2 <= len(ready) < 200  # the first points, run once
    assert all(r.rows.size == 2 * r.index.size for r, _ in prepared.ready)
    assert f"({cores} cores)" in said.getvalue() and "projected" in said.getvalue()
    assert not (tmp_path / "x.h5").exists()
