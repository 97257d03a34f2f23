"""Chunked execution: points planned where they run, Dask tasks of whole points, resume by a key index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

import qrate.sweep.chunks as chunks
import qrate.sweep.prepare as prepare
import qrate.sweep.run as run
from qrate.errors import InputError
from qrate.store import read_results, schema
from qrate.store.index import StoredIndex, read_rows
from qrate.sweep.run import run_to_file
from tests.sweep._helpers import assert_same_rows, scenario

SEED = 314159
TARGET = ("sampling.target_relative_error=0.01", "sampling.min_batches=3")


def _grid(points: int = 24, step: int = 50):  # type: ignore[no-untyped-def]
    return scenario(str([float(d) for d in range(0, step * points, step)]), *TARGET, pulses=3000, batches=12)


@pytest.fixture
def cluster() -> Iterator[str]:
    """An in-process Dask cluster (one worker thread) for ``run_to_file(scheduler=address)``."""
    from distributed import LocalCluster

    with LocalCluster(
        processes=False, protocol="tcp://", host="127.0.0.1", n_workers=1, threads_per_worker=1, dashboard_address="127.0.0.1:0"
    ) as lc:
        yield lc.scheduler_address


def test_point_tasks_give_the_rows_of_the_in_process_loop_across_a_resume(
    tmp_path: Path, cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """24 points with a target error: whole-point tasks (several points each), results in any order,
    a resume that finds stored points by key; the rows and file indices are the in-process loop's."""
    s = _grid()
    ref = run_to_file(s, tmp_path / "sync.h5", seed=SEED, scheduler="sync", quiet=True)
    counts = [p.rows.size for p in read_results(ref).points]
    assert len(counts) == 24 and any(n < 12 for n in counts)  # the target error stopped some points
    sizes: list[int] = []
    real = run._run_point_tasks

    def spy(sink, start, client):  # type: ignore[no-untyped-def]
        submit = client.submit

        def record(fn, *args, **kw):  # type: ignore[no-untyped-def]
            if fn is chunks.run_chunk:
                sizes.append(args[5] - args[4])
            return submit(fn, *args, **kw)

        client.submit = record
        try:
            return real(sink, start, client)
        finally:
            client.submit = submit

    monkeypatch.setattr(run, "_run_point_tasks", spy)
    monkeypatch.setattr(run, "LEGACY_POINTS_PER_THREAD", 1)
    out = run_to_file(s, tmp_path / "dask.h5", seed=SEED, scheduler=cluster, quiet=True)
    assert_same_rows(ref, out)
    assert sum(sizes) == 24 and len(sizes) > 1
    # a partial file (2 batches a point), resumed on the cluster with 24 new points between the stored ones:
    # stored points keep their file index, new ones are numbered after them in plan order
    part = run_to_file(s, tmp_path / "part.h5", seed=SEED, scheduler="sync", quiet=True, max_pulses=2 * 3000)
    more = _grid(48, step=25)
    run_to_file(more, part, seed=SEED, scheduler=cluster, quiet=True, resume=True)
    full = run_to_file(more, tmp_path / "full.h5", seed=SEED, scheduler="sync", quiet=True)
    assert_same_rows(full, part)
    index = {p.ground_distance_km: p.index for p in read_results(part).points}
    assert [index[50.0 * i] for i in range(24)] == list(range(24))
    assert [index[25.0 + 50.0 * i] for i in range(24)] == list(range(24, 48))


def test_a_point_refused_on_the_workers_leaves_no_file(tmp_path: Path, cluster: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = chunks.plans_of

    def refuse_point_17(scenario, start, stop):  # type: ignore[no-untyped-def]
        for plan in real(scenario, start, stop):
            if plan.index == 17:
                raise InputError("links.leo.aperture_radius_m", "refused at point 17")
            yield plan

    monkeypatch.setattr(chunks, "plans_of", refuse_point_17)
    monkeypatch.setattr(prepare, "CHECK_CHUNK_POINTS", 8)  # 24 points: checked as tasks on the cluster
    for where in ("sync", cluster):
        with pytest.raises(InputError, match="point 17"):
            run_to_file(_grid(), tmp_path / "x.h5", seed=SEED, scheduler=where, quiet=True)
        assert list(tmp_path.iterdir()) == []


def test_the_index_finds_points_by_key_and_their_rows_spread_over_the_table(tmp_path: Path) -> None:
    s = scenario("[0, 100, 200]", pulses=1000, batches=4)
    path = run_to_file(s, tmp_path / "a.h5", seed=SEED, scheduler="sync", quiet=True, max_pulses=2000)
    run_to_file(s, path, seed=SEED, scheduler="sync", quiet=True, resume=True)  # rows 2, 3 appended after every point's 0, 1
    res = read_results(path)
    with h5py.File(path, "r") as f:
        index = StoredIndex.from_file(f)
        keys = np.array([p.point_key.encode() for p in res.points] + [b"0" * 32])
        found = index.lookup(keys)
        assert found.tolist() == [p.index for p in res.points] + [-1]
        assert index.batches_of(found).tolist() == [4, 4, 4, 0] and index.free_index == 3
        for p in res.points:
            rows = read_rows(f[schema.BATCHES_DATASET], index.positions(np.array([p.index])))
            assert rows["point"].tolist() == [p.index] * 4
            assert sorted(rows["batch_index"].tolist()) == [0, 1, 2, 3]
            assert sorted(rows["successes"].tolist()) == sorted(p.rows["successes"].tolist())


def test_point_task_results_are_written_in_point_order_whatever_order_they_arrive() -> None:
    import random

    from qrate.sweep.chunks import ReorderBuffer

    ranges = [(0, 3), (3, 1), (4, 5), (9, 2), (11, 4)]
    for seed in range(20):
        arrival = ranges[:]
        random.Random(seed).shuffle(arrival)
        ordered, written, most_held = ReorderBuffer(0), [], 0
        for first, size in arrival:
            written += [first for first, _ in ordered.push(first, size, f"r{first}")]
            most_held = max(most_held, ordered.held)
        assert written == [first for first, _ in ranges] and ordered.held == 0
        assert most_held <= len(ranges) - 1


def test_a_dask_run_writes_rows_in_point_and_batch_order(tmp_path) -> None:
    import h5py
    import numpy as np

    from qrate.scenario import load_scenario
    from qrate.store import schema
    from qrate.sweep import run_to_file

    sc = load_scenario(
        "khan-acka-leo",
        ["sweep.ground_distance_km=[0, 500, 1000, 1500]", "sampling.batches=3", "sampling.pulses_per_batch=1000"],
        ["links.leo.aperture_radius_m=0.3,0.4,0.5,0.6,0.7,0.8"],
    )
    out = run_to_file(sc, tmp_path / "r.h5", seed=5, scheduler="local", workers=2, quiet=True)
    with h5py.File(out, "r") as f:
        rows = f[schema.BATCHES_DATASET][()]
    order = rows["point"] * 1000 + rows["batch_index"]
    assert np.all(np.diff(order) > 0)
