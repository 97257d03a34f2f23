"""SIGKILL ``qrate run`` at several random (seeded) points, ``--resume`` each time: nothing lost, nothing twice."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from qrate.store import read_results
from qrate.sweep.run import run_to_file
from tests.reliability.conftest import QRATE, cli, stored_rows, wait_for
from tests.sweep._helpers import assert_same_rows, overrides, scenario

SEED = 8_2025
PULSES = 600_000
BATCHES, POINTS = 300, 2  # the killed runs sleep BATCH_DELAY_S per batch: 600 batches last >= 12 s, the kills land within ~1 s
SETS = overrides("[0, 100]", PULSES, BATCHES)


def _assert_clean_prefix(path: Path) -> int:
    """The file opens with plain h5py and with qrate; every point holds batches 0..k-1 exactly once."""
    with h5py.File(path, "r") as f:
        assert f.attrs["qrate_format"] == "qrate-results"
    res = read_results(path)  # refuses a batch stored twice
    assert len(res.points) == POINTS
    done = 0
    for p in res.points:
        np.testing.assert_array_equal(p.rows["batch_index"], np.arange(p.rows.size))  # no gap, no duplicate
        done += p.rows.size
    rc, out, err = cli(["show", str(path)])
    assert rc == 0 and "Traceback" not in err, err
    assert out.startswith("# khan-acka-leo (acka)")
    return done


@pytest.mark.slow
def test_sigkill_at_random_points_and_resume_each_time(tmp_path: Path, spawn) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    total = BATCHES * POINTS
    out = tmp_path / "killed.h5"
    base = [*QRATE, "run", "khan-acka-leo", *SETS, "--seed", str(SEED), "--scheduler", "sync", "--quiet", "--out", str(out)]
    done = 0
    for i in range(3):
        at = done + rng.randint(1, 4)  # kill after 1-4 new batches, at a random moment inside the next one
        proc = spawn(base + (["--resume"] if i else []), log=f"run{i}", slow=True)
        wait_for(lambda at=at: stored_rows(out) >= at, 120, f"{at} stored batches", proc)
        time.sleep(rng.uniform(0.0, 0.15))  # land anywhere inside a batch or a flush
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        now = _assert_clean_prefix(out)
        assert done <= now < total and now >= at, (done, now, at)
        assert not read_results(out).meta["complete"]
        done = now
    rc, _, err = cli(base[len(QRATE):] + ["--resume"])
    assert rc == 0, err
    assert _assert_clean_prefix(out) == total
    ref = run_to_file(scenario("[0, 100]", pulses=PULSES, batches=BATCHES), tmp_path / "ref.h5", seed=SEED,
                      scheduler="sync", quiet=True)
    assert_same_rows(ref, out)
    res = read_results(out)
    assert res.meta["complete"] and [r["action"] for r in res.meta["runs"]] == ["run", "resume", "resume", "resume"]
