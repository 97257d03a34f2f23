"""`qrate validate` prints the geometry and expected success probability of every point: checked
against the closed forms of tests/engine/_reference.py (no qrate code)."""

from __future__ import annotations

import math

import pytest

from qrate.cli import main
from tests.engine import _reference as ref

LEO = {"theta": 5e-6, "pointing_rad": 5e-7, "a": 3.0, "beam": "far_field", "model": "weibull"}


def test_validate_table_holds_the_closed_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "khan-acka-leo", "--set", "sweep.ground_distance_km=[0, 1000, 2000]"]) == 0
    out = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(out) if line.split()[:1] == ["D_km"])
    assert out[head].split() == ["D_km", "slant_km", "elev_deg", "mean_eta_joint", "p_success_expected"]
    rows = [[float(x) for x in line.split()] for line in out[head + 1 :]]
    assert [r[0] for r in rows] == [0.0, 1000.0, 2000.0]
    fibers = ref.fiber(1) * ref.fiber(2) * ref.fiber(3) * ref.fiber(2)
    for d, slant, elev, eta_joint, p in rows:
        assert slant == pytest.approx(ref.slant_range_km(450.0, d), abs=5e-4)
        r_e = 6371.0
        alpha = d / 2 / r_e
        expected_elev = math.degrees(math.atan2((r_e + 450.0) * math.cos(alpha) - r_e, (r_e + 450.0) * math.sin(alpha)))
        assert elev == pytest.approx(expected_elev, abs=5e-4)
        eta = ref.downlink_mean(450.0, d, **LEO)
        assert eta_joint == pytest.approx(eta**2, rel=1e-5)
        assert p == pytest.approx(fibers * eta**2, rel=1e-5)
    assert "3 points x 10 batches x 1,000,000 pulses at 1e+06 Hz" in "\n".join(out)
