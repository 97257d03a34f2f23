"""qrate link: loss in dB with its split per factor, hardware options, and a scenario's own link."""

from __future__ import annotations

import json
import math

import pytest

from qrate.cli import main

BASE = ["link", "--altitude-km", "500", "--ground-distance-km", "0,800", "--divergence-rad", "1e-5",
        "--aperture-radius-m", "0.5", "--pointing-rad", "5e-7", "--model", "exact", "--samples", "2000", "--seed", "3", "--json"]


def _rows(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    assert main([*BASE, *extra]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_loss_is_the_analytic_mean_in_db_and_the_factors_add_up(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _rows(capsys)
    lossy = _rows(capsys, "--receiver-efficiency", "0.5", "--transmitter-efficiency", "0.8", "--extra-loss-db", "2")
    for p, q in zip(plain, lossy, strict=True):
        assert p["loss_db"] == pytest.approx(-10 * math.log10(p["analytic_mean_transmittance"]), rel=1e-12)
        assert sum(v for k, v in q["loss_factors_db"].items() if k != "total_db") == pytest.approx(q["loss_db"], rel=1e-9)
        hardware = -10 * math.log10(0.5 * 0.8) + 2.0
        assert q["loss_db"] - p["loss_db"] == pytest.approx(hardware, rel=1e-9)
        assert q["loss_factors_db"]["receiver_db"] == pytest.approx(-10 * math.log10(0.5))


def test_a_scenarios_link_is_evaluated_with_all_its_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link", "khan-acka-leo-realistic", "--link", "leo", "--ground-distance-km", "0", "--samples", "1000",
                 "--seed", "1", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["receiver_efficiency"] == 0.1205 and row["altitude_km"] == 450.0
    assert row["loss_factors_db"]["atmosphere_db"] > 0.5  # the LOWTRAN7 table at 810 nm, not T_zen = 1
    assert main(["link", "khan-acka-leo-realistic", "--link", "nope"]) == 2
    assert "--link" in capsys.readouterr().err
