"""The protocol registry: every registered protocol runs from a scenario and reports what it counts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from qrate.engine import compile_protocol, plan_sweep, protocol_of
from qrate.errors import InputError
from qrate.estimates import estimate_point, quantities, quantity
from qrate.protocols import PROTOCOLS
from qrate.scenario import load_scenario
from qrate.sweep import run_sweep

#: a scenario (preset + overrides) per registered protocol
SCENARIOS = {
    "acka": ("khan-acka-leo", []),
    "broadcast": ("khan-broadcast-uav", []),
    "anonymous-entanglement": ("khan-broadcast-uav", ["protocol.name=anonymous-entanglement", 'protocol.participants=["Alice", "Hadi"]']),
    "teleportation": ("khan-broadcast-uav", ["protocol.name=teleportation", 'protocol.participants=["Alice", "Dina"]']),
    "notification": ("khan-broadcast-uav", ["protocol.name=notification", 'protocol.participants=["Alice", "Bob", "Hadi"]',
                                            "protocol.repetitions=4"]),
    # weak coherent pulses at 1e-3 transmittance: 1e8 pulses per batch give a positive key
    "decoy-bb84": (str(Path(__file__).with_name("decoy_midpoint.toml")), ["sampling.pulses_per_batch=100000000"]),
}
SMALL = ["sweep.ground_distance_km=[0.0]", "sampling.pulses_per_batch=20000", "sampling.batches=3", "sampling.seed=7"]


def test_every_registered_protocol_has_a_scenario_here() -> None:
    assert set(SCENARIOS) == set(PROTOCOLS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_protocol_runs_from_a_scenario_and_its_report_names_its_counters(name: str) -> None:
    preset, overrides = SCENARIOS[name]
    s = load_scenario(preset, SMALL + overrides)
    (plan,) = plan_sweep(s)
    compiled = compile_protocol(plan)
    report = plan.report()
    assert report["protocol"] == name
    named = set()
    for spec in report["estimators"]:
        for value in spec.values():
            if isinstance(value, str) and value in compiled.counter_names:
                named.add(value)
            elif isinstance(value, dict):
                assert set(value.values()) <= set(compiled.counter_names), value
                named |= set(value.values())
    assert named, "the report names none of the protocol's counters"
    quantity(report, report["default_y"])  # the default plot quantity exists
    (res,) = run_sweep(s, 7)
    est = estimate_point(res.rows, report)
    for q in quantities(report):
        assert q.key in est, q.key
    main = quantity(report, report["default_y"])
    assert est[main.key] > 0 and math.isfinite(est[main.key])


def test_teleportation_consumes_three_carriers_per_qubit() -> None:
    preset, overrides = SCENARIOS["teleportation"]
    s = load_scenario(preset, overrides + SMALL)
    (res,) = run_sweep(s, 7)
    est = estimate_point(res.rows, res.plan.report())
    assert est["counts"]["shots"] == sum(int(k) // 3 for k in res.rows["successes"])
    assert est["teleport_rate_bps"] == pytest.approx(est["rate_bps"] / 3)
    assert 2 / 3 < est["teleport_fidelity"] < 1.0  # above the classical 2/3, below 1 under fiber dephasing


@pytest.mark.parametrize(
    ("name", "override", "field"),
    [
        ("broadcast", 'protocol.participants=["Alice", "Bob"]', "protocol.participants"),
        ("broadcast", "protocol.verification_fraction=0.2", "protocol.verification_fraction"),
        ("acka", "protocol.repetitions=3", "protocol.repetitions"),
        ("acka", 'protocol.participants=["Bob", "Dina"]', "protocol.sender"),
        ("anonymous-entanglement", 'protocol.participants=["Alice", "Bob", "Hadi"]', "protocol.participants"),
    ],
)
def test_fields_a_protocol_does_not_read_or_refuses_are_input_errors(name: str, override: str, field: str) -> None:
    preset, overrides = SCENARIOS[name]
    with pytest.raises(InputError) as exc:  # the scenario's own parameters refuse at load, the protocol at build
        protocol_of(load_scenario(preset, [*overrides, override]))
    assert exc.value.field == field


def test_unknown_protocol_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="protocol.name"):
        load_scenario("khan-acka-leo", ["protocol.name=telepathy"])


@pytest.mark.parametrize(
    ("name", "override", "field"),
    [
        ("acka", "protocol.verification_fraction=true", "protocol.verification_fraction"),
        ("decoy-bb84", "protocol.decoy-bb84.misalignment_error=false", "protocol.decoy-bb84.misalignment_error"),
        ("decoy-bb84", "protocol.decoy-bb84.intensities=[true, 0.1, 0.0]", "protocol.decoy-bb84.intensities"),
    ],
)
def test_protocol_parameters_refuse_booleans_as_numbers(name: str, override: str, field: str) -> None:
    preset, overrides = SCENARIOS[name]  # the scenario's rule (qrate.strict), also for items of a list
    with pytest.raises(InputError) as exc:
        load_scenario(preset, [*overrides, override])
    assert exc.value.field == field
    assert "got a boolean" in exc.value.message
