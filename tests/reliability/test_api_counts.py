"""Every public entry point that takes a count of shots, pulses or batches refuses what is not an
integer in range with an InputError naming the argument (one rule: :func:`qrate.errors.count_arg`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qrate.engine import compile_protocol, herald, herald_per_pulse, plan_sweep, run_batch
from qrate.errors import InputError
from qrate.protocols._decode import sample_records
from qrate.protocols.decoy_bb84 import DecoyParams, DecoyPulses
from qrate.scenario import load_scenario
from qrate.sweep.run import run_to_file

BAD = [10.5, 10.0, 2**70, -1, True, "3", None, np.float64(3.0)]


@pytest.fixture(scope="module")
def point() -> Any:
    scenario = load_scenario("khan-acka-leo", ["sweep.ground_distance_km=[0]", "sampling.pulses_per_batch=1000", "sampling.batches=1"])
    plan = plan_sweep(scenario)[0]
    return scenario, plan, compile_protocol(plan)


def _calls(point: Any, tmp_path: Path) -> dict[str, tuple[str, Callable[[Any], object]]]:
    scenario, plan, compiled = point
    rng = np.random.default_rng(1)
    name = compiled.rounds[0].name
    return {
        "sample_counts": ("shots", lambda v: compiled.sample_counts(shots=v, seed=1)),
        "sample_counts-seed": ("seed", lambda v: compiled.sample_counts(shots=10, seed=v)),
        "sample_transcripts": ("shots", lambda v: compiled.sample_transcripts(name, v, 1)),
        "split_shots": ("shots", lambda v: compiled.split_shots(v, rng)),
        "check_exact": ("shots", lambda v: compiled.check_exact(shots=v)),
        "sample_records": ("shots", lambda v: sample_records(compiled.rounds[0].circuit, v, 1)),
        "herald": ("pulses", lambda v: herald(plan, v, rng)),
        "herald_per_pulse": ("pulses", lambda v: herald_per_pulse(plan, v, rng)),
        "run_batch": ("pulses", lambda v: run_batch(plan, compiled, 1, 0, v)),
        "run_batch-index": ("batch_index", lambda v: run_batch(plan, compiled, 1, v, 100)),
        "decoy_sample_pulses": ("pulses", lambda v: DecoyPulses(1e-3, 1e-6, DecoyParams()).sample_pulses(v, rng)),
        "run_to_file": ("max_pulses", lambda v: run_to_file(scenario, tmp_path / "r.h5", seed=1, scheduler="sync", quiet=True,
                                                             max_pulses=v)),
    }


ENTRIES = ["sample_counts", "sample_counts-seed", "sample_transcripts", "split_shots", "check_exact", "sample_records",
           "herald", "herald_per_pulse", "run_batch", "run_batch-index", "decoy_sample_pulses", "run_to_file"]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_count_that_is_not_an_integer_in_range_is_refused_naming_the_argument(entry: str, bad: object, point: Any,
                                                                              tmp_path: Path) -> None:
    argument, call = _calls(point, tmp_path)[entry]
    if argument == "seed" and bad == 2**70:
        bad = 2**128  # a seed may be as large as 2**128 - 1
    if argument == "max_pulses" and bad is None:
        return  # None: no limit
    with pytest.raises(InputError) as info:
        call(bad)
    assert info.value.field == argument
    assert not (tmp_path / "r.h5").exists()


def test_the_issue_cases(point: Any) -> None:
    compiled = point[2]
    for shots in (10.5, 2**70):
        with pytest.raises(InputError, match="^shots: "):
            compiled.sample_counts(shots=shots, seed=1)
    assert compiled.sample_counts(shots=np.int64(10), seed=1) == compiled.sample_counts(shots=10, seed=1)
    assert compiled.sample_counts(shots=10, seed=1)["shots"] == 10
