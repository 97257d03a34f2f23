"""Caps on input size: one line, exit 2, nothing written, no time or memory spent first.

Pulses per point fit 64-bit counters; a distance list has the range's point cap; ``qrate link`` never
allocates per shot; scenario files are bounded in size and nesting; names and user counts fit the
results file; the Python API refuses counts that are not counts.
"""

from __future__ import annotations

import time
import tomllib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from qrate.errors import InputError, count_arg
from qrate.scenario import load_scenario, validate_data
from qrate.scenario.presets import preset_text
from qrate.scenario.schema import MAX_DISTANCES, MAX_NAME_LENGTH, MAX_PULSES_PER_POINT, MAX_USERS
from tests.reliability.conftest import cli

PRESET = tomllib.loads(preset_text("khan-acka-leo"))


def _refused(args: list[str], *needles: str) -> str:
    rc, out, err = cli(args)
    assert rc == 2, (args[:4], rc, err[:500])
    assert err.count("\n") == 1 and "Traceback" not in err, err[:500]
    assert len(err) < 1000, f"{len(err)} characters"
    for needle in needles:
        assert needle in err, (needle, err)
    return err


# ------------------------------------------------------------------------------ pulses per point
@pytest.mark.parametrize(("pulses", "batches"), [(2**62, 4), (2**60, 2), (2**41, 1_000_000)])
def test_pulses_per_point_must_fit_64_bit_counters(pulses: int, batches: int, tmp_path: Path) -> None:
    assert pulses * batches > MAX_PULSES_PER_POINT
    sets = ["--set", f"sampling.pulses_per_batch={pulses}", "--set", f"sampling.batches={batches}"]
    _refused(["validate", "khan-acka-leo", *sets], "sampling.pulses_per_batch")
    out = tmp_path / "big.h5"
    _refused(["run", "khan-acka-leo", *sets, "--scheduler", "sync", "--quiet", "--out", str(out)], "sampling.pulses_per_batch")
    assert not out.exists()


def test_pulses_per_point_at_the_cap_is_valid_and_max_pulses_is_capped(tmp_path: Path) -> None:
    rc, _, err = cli(["validate", "khan-acka-leo", "--set", f"sampling.pulses_per_batch={2**59}", "--set", "sampling.batches=2",
                      "--set", "sweep.ground_distance_km=[0]"])
    assert rc == 0, err
    out = tmp_path / "r.h5"
    _refused(["run", "khan-acka-leo", "--max-pulses", str(2**61), "--scheduler", "sync", "--out", str(out)], "--max-pulses")
    assert not out.exists()


# ------------------------------------------------------------------------------ sweep points
def test_a_distance_list_has_the_same_cap_as_a_range() -> None:
    many = [float(i) for i in range(MAX_DISTANCES + 1)]
    for sweep in ({"ground_distance_km": many, "max_points": 100_000},
                  {"ground_distance_km": {"start_km": 0, "stop_km": MAX_DISTANCES, "step_km": 1}, "max_points": 100_000}):
        data = {**PRESET, "sweep": sweep}
        with pytest.raises(InputError) as info:
            validate_data(data)
        assert info.value.field.startswith("sweep.ground_distance_km") and str(MAX_DISTANCES) in info.value.message
    ok = validate_data({**PRESET, "sweep": {"ground_distance_km": many[:MAX_DISTANCES]}})
    assert len(ok.sweep.distances_km()) == MAX_DISTANCES


def test_a_huge_distance_list_is_refused_in_seconds() -> None:
    data = {**PRESET, "sweep": {"ground_distance_km": [float(i % 1000) for i in range(200_000)]}}
    t0 = time.monotonic()
    with pytest.raises(InputError) as info:
        validate_data(data)
    assert time.monotonic() - t0 < 20
    assert info.value.field == "sweep.ground_distance_km" and len(info.value.message) < 200


# ------------------------------------------------------------------------------ qrate link
LINK = ["link", "--altitude-km", "500", "--ground-distance-km", "0,300", "--divergence-rad", "1e-5",
        "--aperture-radius-m", "0.5", "--pointing-rad", "1e-6", "--json"]


def test_link_memory_does_not_grow_with_coherence_time() -> None:
    tracemalloc.start()
    try:
        rc, out, err = cli([*LINK, "--samples", "10", "--coherence-time-s", "100", "--rate-hz", "1e6"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rc == 0, err
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB for 10 samples"  # per shot: 1e8 floats = 763 MiB
    import json

    rows = [json.loads(line) for line in out.splitlines()]
    assert all(r["blocks"] == 1 and r["samples"] == 10 and r["shots_per_block"] == 10 for r in rows)
    q = rows[0]["quantiles"]
    assert q["0.05"] == q["0.5"] == q["0.95"] == rows[0]["mean_transmittance"]  # one draw for all shots


def test_link_survives_absurd_coherence_times() -> None:
    for tau, rate in (("1e300", "1e6"), ("1e300", "1e300")):
        rc, out, err = cli([*LINK, "--samples", "1000", "--coherence-time-s", tau, "--rate-hz", rate])
        assert rc == 0 and "Traceback" not in err, err


def test_block_quantiles_equal_per_shot_quantiles() -> None:
    from qrate._cli.link import QUANTILES, block_quantiles

    rng = np.random.default_rng(5)
    for n, per_block in ((1000, 7), (10, 3), (5, 10), (12_345, 1000), (3, 2)):
        blocks = -(-n // per_block)
        draws = rng.random(blocks)
        weights = np.full(blocks, float(per_block))
        weights[-1] = n - per_block * (blocks - 1)
        expected = np.quantile(np.repeat(draws, weights.astype(int)), QUANTILES)
        np.testing.assert_array_equal(block_quantiles(draws, weights, QUANTILES), expected)


# ------------------------------------------------------------------------------ scenario files
def test_endless_or_huge_scenario_files_are_refused(tmp_path: Path) -> None:
    t0 = time.monotonic()
    _refused(["validate", "/dev/zero"], "larger than 1 MiB")
    big = tmp_path / "big.toml"
    big.write_text(preset_text("khan-acka-leo") + "# padding\n" * 120_000)
    _refused(["validate", str(big)], "larger than 1 MiB")
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("depth", [20, 500, 5000])
def test_deeply_nested_scenarios_are_refused(depth: int, tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(preset_text("khan-acka-leo") + f"\n[extra]\nv = {'[' * depth}{']' * depth}\n")
    _refused(["validate", str(deep)], "nested more than")
    _refused(["validate", "khan-acka-leo", "--set", f"name={'[' * depth}{']' * depth}"], "nested more than")
    nested: dict = {}
    node = nested
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(InputError, match="nested more than"):
        validate_data({**PRESET, "extra": nested})


# ------------------------------------------------------------------------------ names and users
def _scenario_with(users_gs1: list[str], users_gs2: list[str] | None = None) -> dict:
    data = tomllib.loads(preset_text("khan-acka-leo"))
    gs = data["nodes"]["ground_stations"]
    gs["GS1"]["users"] = users_gs1
    if users_gs2 is not None:
        gs["GS2"] = {"users": users_gs2}
    everyone = users_gs1 + (users_gs2 if users_gs2 is not None else gs["GS2"]["users"])
    data["links"]["fiber"]["lengths_km"] = dict.fromkeys(everyone, 1.0)
    data["protocol"]["participants"] = [everyone[0], everyone[-1]]
    data["protocol"]["sender"] = everyone[0]
    data["sweep"]["ground_distance_km"] = [0]
    return data


def test_names_longer_than_the_cap_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(_scenario_with(["A" * 40_000, "Bob"])))
    _refused(["validate", str(path)], "at most 64 characters")
    path.write_text(tomli_w.dumps(_scenario_with(["A" * (MAX_NAME_LENGTH + 1), "Bob"])))
    _refused(["validate", str(path)], "nodes.ground_stations.GS1.users")
    path.write_text(tomli_w.dumps(_scenario_with(["A" * MAX_NAME_LENGTH, "Bob"])))
    rc, _, err = cli(["validate", str(path)])
    assert rc == 0, err


def test_user_counts_beyond_the_cap_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(_scenario_with([f"u{i}" for i in range(1500)])))
    _refused(["validate", str(path)], "nodes.ground_stations.GS1.users", f"at most {MAX_USERS}")
    half = MAX_USERS // 2
    path.write_text(tomli_w.dumps(_scenario_with([f"a{i}" for i in range(half)], [f"b{i}" for i in range(half + 1)])))
    _refused(["validate", str(path)], "nodes.ground_stations", f"at most {MAX_USERS}")
    scenario = validate_data(_scenario_with([f"a{i}" for i in range(half)], [f"b{i}" for i in range(half)]))
    assert len(scenario.users()) == MAX_USERS


def test_the_largest_network_allowed_can_be_stored(tmp_path: Path) -> None:
    """128 users, every name 64 characters: the results file holds them (HDF5 headers are limited)."""
    half = MAX_USERS // 2
    names_a = [f"a{i:03d}".ljust(MAX_NAME_LENGTH, "x") for i in range(half)]
    names_b = [f"b{i:03d}".ljust(MAX_NAME_LENGTH, "x") for i in range(half)]
    data = _scenario_with(names_a, names_b)
    data["protocol"]["participants"] = [*names_a, *names_b]
    data["sampling"].update({"pulses_per_batch": 1000, "batches": 2})
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "big-network.h5"
    rc, _, err = cli(["run", str(path), "--scheduler", "sync", "--quiet", "--out", str(out)])
    assert rc == 0, err[-2000:]


# ------------------------------------------------------------------------------ Python API counts
@pytest.mark.parametrize("bad", [10.5, 10.0, True, np.bool_(True), 2**70, -1, "3", None])
def test_count_arg_refuses_what_is_not_a_count(bad: object) -> None:
    with pytest.raises(InputError) as info:
        count_arg("shots", bad)
    assert info.value.field == "shots"


def test_count_arg_accepts_integers_in_bounds() -> None:
    assert count_arg("n", 0) == 0 and count_arg("n", np.int64(7)) == 7 and count_arg("n", 2**62) == 2**62
    with pytest.raises(InputError, match=r"\[1, "):
        count_arg("n", 0, minimum=1)


def test_anonymity_audit_of_zero_shots_is_an_error_not_nan() -> None:
    from qrate.protocols import AnonymousConferenceKeyAgreement, PauliNoise, anonymity_audit, khan_acka_layout

    layout, parts, _ = khan_acka_layout()
    p = AnonymousConferenceKeyAgreement(layout, parts, "alice").compile(PauliNoise())
    for shots in (0, -5, 10.5, True, 2**70):
        with pytest.raises(InputError) as info:
            anonymity_audit(p, p, shots=shots, seed=1)  # type: ignore[arg-type]
        assert info.value.field == "shots"
    with pytest.raises(InputError) as info:
        anonymity_audit(p, p, shots=100, seed=1, resplits=1)
    assert info.value.field == "resplits"
    assert anonymity_audit(p, p, shots=200, seed=1).shots == 200


def test_scenario_loading_keeps_working_for_the_presets() -> None:
    for name in ("khan-acka-leo", "khan-broadcast-uav"):
        assert load_scenario(name).name
