"""One seed, one set of numbers: ``sync``, LocalCluster with 1, 2 and 4 workers, and across a resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from qrate.store import read_results
from qrate.sweep.run import run_to_file
from tests.sweep._helpers import assert_same_rows, scenario

SEED = 2718281828
# a target error stops each point after a handful of batches while others are still in flight, so
# the stopping rule must ignore completion order (speculative batches past the stop are dropped)
EXTRA = ("sampling.target_relative_error=0.01", "sampling.min_batches=3")


def _scenario():  # type: ignore[no-untyped-def]
    return scenario("[0, 250, 500]", *EXTRA, pulses=3000, batches=30)


@pytest.mark.slow
def test_sync_and_1_2_4_workers_and_a_resume_give_identical_rows(tmp_path: Path) -> None:
    s = _scenario()
    ref = run_to_file(s, tmp_path / "sync.h5", seed=SEED, scheduler="sync", quiet=True)
    counts = [p.rows.size for p in read_results(ref).points]
    assert all(3 <= n < 30 for n in counts), counts  # the target error, not the cap, stopped every point
    for workers in (1, 2, 4):
        out = run_to_file(s, tmp_path / f"local{workers}.h5", seed=SEED, scheduler="local", workers=workers, quiet=True)
        assert_same_rows(ref, out)
        assert read_results(out).meta["runs"][0]["scheduler"] == f"local({workers})"
    # interrupted after 2 batches per point (sync), finished on 2 workers
    part = run_to_file(s, tmp_path / "part.h5", seed=SEED, scheduler="sync", quiet=True, max_pulses=2 * 3000)
    assert [p.rows.size for p in read_results(part).points] == [2, 2, 2]
    run_to_file(s, part, seed=SEED, scheduler="local", workers=2, quiet=True, resume=True)
    assert_same_rows(ref, part)


def test_seed_taken_from_the_resumed_file(tmp_path: Path) -> None:
    """``--resume`` without ``--seed`` continues with the file's seed (the scenario has none)."""
    data = _scenario().model_dump(mode="json")
    data["sampling"]["seed"] = None
    from qrate.scenario import validate_data

    s = validate_data(data)
    part = run_to_file(s, tmp_path / "p.h5", seed=SEED, scheduler="sync", quiet=True, max_pulses=3000)
    run_to_file(s, part, scheduler="sync", quiet=True, resume=True)
    ref = run_to_file(s, tmp_path / "ref.h5", seed=SEED, scheduler="sync", quiet=True)
    assert_same_rows(ref, part)
    assert read_results(part).meta["seed"] == SEED
