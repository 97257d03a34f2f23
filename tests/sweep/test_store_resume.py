"""HDF5 resume, combine, load, and refusal of bad files (which are left byte-for-byte unchanged)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from qrate._testhooks import BATCH_DELAY_ENV
from qrate.cli import main
from qrate.store import load, read_results
from qrate.sweep.run import run_to_file
from tests.sweep._helpers import assert_same_rows, overrides, rows_of, scenario, sha256

SEED = 424242


def test_resume_continues_without_recomputing(tmp_path: Path) -> None:
    s = scenario("[0, 100]", batches=8)
    whole = run_to_file(s, tmp_path / "whole.h5", seed=SEED, scheduler="sync", quiet=True)
    part = run_to_file(s, tmp_path / "part.h5", seed=SEED, scheduler="sync", quiet=True, max_pulses=3 * 2000)
    before = read_results(part)
    assert [p.rows.size for p in before.points] == [3, 3]
    run_to_file(s, part, seed=SEED, scheduler="sync", quiet=True, resume=True)
    after = read_results(part)
    assert_same_rows(whole, part)
    for a, b in zip(before.points, after.points, strict=True):  # stored rows kept as written (not recomputed)
        np.testing.assert_array_equal(a.rows["seconds"], b.rows["seconds"][:3])
    assert [r["action"] for r in after.meta["runs"]] == ["run", "resume"] and after.meta["complete"]
    # resuming a finished file adds nothing
    run_to_file(s, part, seed=SEED, scheduler="sync", quiet=True, resume=True)
    assert_same_rows(whole, part)


def test_resume_of_missing_file_starts_afresh(tmp_path: Path) -> None:
    s = scenario("[0]", batches=3)
    out = run_to_file(s, tmp_path / "new.h5", seed=SEED, scheduler="sync", quiet=True, resume=True)
    assert rows_of(out)[0.0].size == 3


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    good = run_to_file(scenario("[0]", batches=3), tmp_path / "good.h5", seed=SEED, scheduler="sync", quiet=True)
    data = good.read_bytes()
    files = {"truncated": tmp_path / "truncated.h5", "foreign": tmp_path / "foreign.h5",
             "text": tmp_path / "text.h5", "schema": tmp_path / "schema.h5"}
    files["truncated"].write_bytes(data[: len(data) // 2])
    with h5py.File(files["foreign"], "w") as f:
        f.attrs["something"] = 1
        f["x"] = np.arange(3)
    files["text"].write_text("not hdf5\n")
    files["schema"].write_bytes(data)
    with h5py.File(files["schema"], "r+") as f:
        f.attrs["qrate_schema"] = 99
    return files


def test_bad_files_give_clear_errors_and_stay_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for kind, path in _bad_files(tmp_path).items():
        digest = sha256(path)
        args = ["run", "khan-acka-leo", *overrides("[0]", 2000, 3), "--out", str(path), "--resume", "--scheduler", "sync", "--quiet"]
        assert main(args) != 0, kind
        err = capsys.readouterr().err
        assert "qrate run: error:" in err and str(path) in err, (kind, err)
        expected = {"truncated": "truncated", "foreign": "not a qrate results file", "text": "not a readable HDF5",
                    "schema": "schema 99"}[kind]
        assert expected in err, (kind, err)
        assert main(["show", str(path)]) == 2
        assert sha256(path) == digest, kind
    capsys.readouterr()


def test_resume_refuses_another_scenario_or_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.h5"
    base = ["run", "khan-acka-leo", *overrides("[0]", 2000, 3), "--scheduler", "sync", "--quiet", "--out", str(out)]
    assert main(base) == 0
    digest = sha256(out)
    assert main([*base, "--resume", "--set", "sampling.pulses_per_batch=3000"]) == 2
    assert main([*base, "--resume", "--seed", "5"]) == 2
    assert main([*base]) == 2  # exists, no --resume / --overwrite
    assert main([*base, "--resume", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "another scenario" in err and "seed" in err and "--overwrite" in err
    assert sha256(out) == digest


def test_combine_two_halves_equals_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--scheduler", "sync", "--quiet", "--seed", str(SEED)]
    runs = {"whole.h5": "[0, 100, 200]", "a.h5": "[0, 200]", "b.h5": "[100]"}
    for name, d in runs.items():
        assert main(["run", "khan-broadcast-uav", *overrides(d, 2000, 4), *common, "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    out = tmp_path / "c.h5"
    assert main(["combine", str(tmp_path / "a.h5"), str(tmp_path / "b.h5"), "--out", str(out), "--quiet"]) == 0
    assert_same_rows(tmp_path / "whole.h5", out)
    whole, comb = read_results(tmp_path / "whole.h5"), read_results(out)
    assert comb.meta["scenario_toml"] == whole.meta["scenario_toml"] and comb.meta["seed"] == SEED
    assert [r["action"] for r in comb.meta["runs"]] == ["run", "run", "combine"] and comb.meta["complete"]
    assert [p.point_key for p in comb.points] == [p.point_key for p in whole.points]
    capsys.readouterr()
    estimates = []
    for f in (tmp_path / "whole.h5", out):
        assert main(["show", str(f), "--json"]) == 0
        estimates.append([{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(capsys.readouterr().out)])
    assert estimates[0] == estimates[1]
    # load(): the same estimates as numpy arrays
    arrays = load(out)
    np.testing.assert_array_equal(arrays["ground_distance_km"], [0.0, 100.0, 200.0])
    np.testing.assert_array_equal(arrays["broadcast_rate_bps"], [r["broadcast_rate_bps"] for r in estimates[0]])
    assert "key_rate_bps" not in arrays  # a broadcast file has no conference key
    ds = arrays.to_xarray()  # xarray comes with the test extra (and the analysis extra)
    np.testing.assert_array_equal(ds["broadcast_rate_bps"].values, arrays["broadcast_rate_bps"])


def test_combine_refuses_duplicated_batches_and_other_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = (tmp_path / n for n in ("a.h5", "b.h5", "c.h5"))
    base = ["run", "khan-broadcast-uav", *overrides("[0, 100]", 2000, 3), "--scheduler", "sync", "--quiet"]
    assert main([*base, "--seed", "1", "--out", str(a)]) == 0
    assert main([*base, "--seed", "1", "--set", "sweep.ground_distance_km=[100]", "--out", str(b)]) == 0
    assert main([*base, "--seed", "2", "--set", "sweep.ground_distance_km=[200]", "--out", str(c)]) == 0
    capsys.readouterr()
    out = tmp_path / "out.h5"
    assert main(["combine", str(a), str(b), "--out", str(out)]) == 2
    assert "batch 0 of the point at 100 km" in capsys.readouterr().err and not out.exists()
    assert main(["combine", str(a), str(c), "--out", str(out)]) == 2
    assert "seed" in capsys.readouterr().err and not out.exists()
    assert main(["combine", str(a), str(a), "--out", str(a)]) == 2


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume(tmp_path: Path) -> None:
    """Kill ``qrate run`` with SIGKILL while it writes, resume: same rows as an uninterrupted run, no duplicate."""
    out, ref = tmp_path / "killed.h5", tmp_path / "ref.h5"
    # the killed run sleeps 20 ms per batch (test hook): 600 batches last >= 12 s, still running at the kill
    sets = overrides("[0, 100]", 1_000_000, 300)
    cmd = [sys.executable, "-m", "qrate.cli", "run", "khan-acka-leo", *sets, "--seed", str(SEED), "--scheduler", "sync",
           "--quiet", "--out", str(out)]
    env = {**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE", BATCH_DELAY_ENV: "0.02"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, rows = time.monotonic() + 90.0, 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with h5py.File(out, "r", locking=False) as f:
                    rows = f["batches"].shape[0]
            except (OSError, KeyError):
                rows = 0
            if rows >= 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"run ended before the kill ({rows} rows): {proc.stderr.read().decode() if proc.stderr else ''}"
        assert rows >= 5
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    killed = read_results(out)
    n_killed = sum(p.rows.size for p in killed.points)
    assert 5 <= n_killed < 600 and not killed.meta["complete"]
    assert main(["run", "khan-acka-leo", *sets, "--seed", str(SEED), "--scheduler", "sync", "--quiet", "--resume", "--out", str(out)]) == 0
    assert main(["run", "khan-acka-leo", *sets, "--seed", str(SEED), "--scheduler", "sync", "--quiet", "--out", str(ref)]) == 0
    assert_same_rows(ref, out)
    res = read_results(out)  # read_results refuses a file holding a batch twice
    assert [p.rows.size for p in res.points] == [300, 300] and res.meta["complete"]
    assert [r["action"] for r in res.meta["runs"]] == ["run", "resume"]
