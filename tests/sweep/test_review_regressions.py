"""Regressions found in review: re-combining, Dask keys, unwritable outputs, picklable plans."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from qrate.cli import main
from qrate.engine import plan_sweep
from qrate.store import read_results
from qrate.store.combine import combine_files
from qrate.sweep.collect import _task_prefix
from qrate.sweep.run import run_to_file
from tests.sweep._helpers import assert_same_rows, scenario


def test_a_combined_file_can_be_combined_again(tmp_path: Path) -> None:
    parts = [run_to_file(scenario(f"[{d}]", batches=3), tmp_path / f"{d}.h5", seed=5, scheduler="sync", quiet=True)
             for d in (0, 100, 200)]
    ab = combine_files(parts[:2], tmp_path / "ab.h5")
    abc = combine_files([ab, parts[2]], tmp_path / "abc.h5")
    whole = run_to_file(scenario("[0, 100, 200]", batches=3), tmp_path / "whole.h5", seed=5, scheduler="sync", quiet=True)
    assert_same_rows(whole, abc)
    assert read_results(abc).meta["complete"]


def test_dask_keys_differ_when_batches_differ() -> None:
    plan = plan_sweep(scenario("[0]"))[0]
    keys = {_task_prefix(1, plan, 1000, False), _task_prefix(1, plan, 2000, False), _task_prefix(1, plan, 1000, True),
            _task_prefix(2, plan, 1000, False)}
    assert len(keys) == 4


def test_point_plans_pickle_with_the_standard_library() -> None:
    plan = plan_sweep(scenario("[0]"))[0]
    again = pickle.loads(pickle.dumps(plan))
    assert again.key == plan.key and again.noise == plan.noise


@pytest.mark.parametrize("verb", [["run", "khan-acka-leo", "--scheduler", "sync", "--out", "/dev/null/x.h5"],
                                  ["combine", "A.h5", "B.h5", "--out", "/dev/null/x.h5"]])
def test_unwritable_output_is_a_one_line_input_error(verb: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if verb[0] == "combine":
        for i, d in ((1, 0), (2, 100)):
            verb[i] = str(run_to_file(scenario(f"[{d}]", batches=2), tmp_path / f"{d}.h5", seed=1, scheduler="sync", quiet=True))
    assert main(verb) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and "--out" in err
