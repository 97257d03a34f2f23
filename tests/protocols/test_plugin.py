"""A protocol is one module plus one registry line: the example in example_protocol.py runs end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qrate
from qrate.cli import main
from qrate.errors import InputError
from qrate.protocols import registry
from qrate.scenario import load_scenario
from tests.protocols import example_protocol
from tests.protocols.example_protocol import NAME, TARGET

OVERRIDES = [f"protocol.name={NAME}", "protocol.participants=[]"]
SMALL = ["sweep.ground_distance_km=[0, 500]", "sampling.pulses_per_batch=20000", "sampling.batches=3", "sampling.seed=11"]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one registry line, added for the test only."""
    monkeypatch.setitem(registry.PROTOCOLS, NAME, TARGET)


def test_unregistered_protocol_is_unknown() -> None:
    with pytest.raises(InputError, match="protocol.name"):
        load_scenario("khan-acka-leo", OVERRIDES)


def test_its_own_parameters_are_validated_by_its_module(registered: None) -> None:
    s = load_scenario("khan-acka-leo", [*OVERRIDES, f'protocol.{NAME}.basis="Z"'])
    assert s.protocol.params == example_protocol.GhzCheckParams(basis="Z")
    assert load_scenario("khan-acka-leo", OVERRIDES).protocol.params.basis == "X"  # type: ignore[attr-defined]  # its default
    with pytest.raises(InputError) as exc:
        load_scenario("khan-acka-leo", [*OVERRIDES, f'protocol.{NAME}.basis="Y"'])
    assert exc.value.field == f"protocol.{NAME}.basis"
    with pytest.raises(InputError) as exc:  # another protocol's parameter
        load_scenario("khan-acka-leo", [*OVERRIDES, "protocol.verification_fraction=0.2"])
    assert exc.value.field == "protocol.verification_fraction"


def test_example_protocol_runs_end_to_end(registered: None, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "check.h5"
    sets = [x for o in [*OVERRIDES, *SMALL] for x in ("--set", o)]
    assert main(["run", "khan-acka-leo", *sets, "--scheduler", "sync", "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "chk_err" in table and "failed checks / checks" in table  # its own columns and legend
    assert main(["show", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["protocol"] for r in rows] == [NAME, NAME]
    for r in rows:
        # fiber dephasing (2 % per traversal, four users) flips the X parity: errors, but far from random
        assert 0.01 < r["check_error_rate"] < 0.3
        assert r["checked_rate_bps"] == pytest.approx(r["rate_bps"])
        assert r["check_error_rate_ci_low"] < r["check_error_rate"] < r["check_error_rate_ci_high"]
    loaded = qrate.load(out)
    assert np.all(loaded["checked_rate_bps"] > 0) and loaded["checked_rate_bps"][0] > loaded["checked_rate_bps"][1]
    assert main(["plot", str(out), "--out", str(tmp_path / "c.png")]) == 0  # its default quantity
    assert (tmp_path / "c.png").stat().st_size > 0


def test_protocol_modules_declare_everything(registered: None) -> None:
    """Every registered protocol declares its parameters, estimators and report in its class."""
    for name in registry.PROTOCOLS:
        cls = registry.protocol_class(name)
        assert issubclass(cls.Params, registry.ProtocolParams)
        kinds = [e.kind for e in cls.estimators]
        assert kinds and len(set(kinds)) == len(kinds)
        for e in cls.estimators:
            assert registry.estimator_class(name, e.kind) is e
