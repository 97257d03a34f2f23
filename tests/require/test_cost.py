"""Cheapest hardware under the Ferreira da Silva et al. cost, against a Lagrange closed form."""

from __future__ import annotations

import math

import pytest

from qrate.cli import main
from qrate.require.cost import error_of, minimise_cost, parse_cost_fields, value_of
from qrate.require.evaluate import Evaluator
from qrate.require.request import parse_target
from qrate.scenario import load_scenario

FIELDS = ["detectors.efficiency", "sources.ghz_success_probability"]


def test_cheapest_hardware_matches_lagrange_closed_form() -> None:
    """Table I: p_success ∝ eta_det^4 · p_ghz (four users' detectors, one GHZ source), so with errors
    e = −ln p the target is 4 e_d + e_g <= R and the cost a/e_d + b/e_g (a, b: the base errors) is least at
    e_d = k sqrt(a) / 2, e_g = k sqrt(b), k = R / (2 sqrt(a) + sqrt(b)) (a Lagrange multiplier)."""
    sc = load_scenario(
        "khan-acka-leo", ["detectors.efficiency=0.8", "sources.ghz_success_probability=0.5"], ["ground_distance_km=1000"]
    )
    specs = parse_cost_fields(FIELDS)
    ev = Evaluator(sc, FIELDS, options=dict.fromkeys(FIELDS, "--minimise-cost"))
    p_base = ev.expected({})["p_success"]
    a, b = error_of("efficiency", 0.8), error_of("efficiency", 0.5)
    p_target = 0.1
    r_budget = math.log(p_base) + 4 * a + b - math.log(p_target)
    k = r_budget / (2 * math.sqrt(a) + math.sqrt(b))
    want = {FIELDS[0]: value_of("efficiency", k * math.sqrt(a) / 2), FIELDS[1]: value_of("efficiency", k * math.sqrt(b))}
    res = minimise_cost(ev, specs, parse_target(f"p_success >= {p_target}"), batches=20)
    assert res.feasible
    for f in FIELDS:
        assert res.values[f] == pytest.approx(want[f], rel=2e-3)
    assert res.cost == pytest.approx(a / (k * math.sqrt(a) / 2) + b / (k * math.sqrt(b)), rel=1e-4)
    assert res.estimate == pytest.approx(p_target, rel=1e-4)
    assert res.mc_estimate is not None and res.mc_stderr is not None
    assert abs(res.mc_estimate - res.estimate) < 4 * res.mc_stderr
    assert res.evaluations > 0


def test_unreachable_and_bad_fields(capsys: pytest.CaptureFixture[str]) -> None:
    sc = load_scenario(
        "khan-acka-leo", ["detectors.efficiency=0.8", "sources.ghz_success_probability=0.5"], ["ground_distance_km=1000"]
    )
    ev = Evaluator(sc, FIELDS)
    res = minimise_cost(ev, parse_cost_fields(FIELDS), parse_target("p_success >= 0.9"), confirm=False)
    assert not res.feasible and res.estimate < 0.9
    base = ["require", "khan-acka-leo", "--sweep", "ground_distance_km=1000", "--target", "p_success >= 0.1"]
    assert main([*base, "--minimise-cost", "links.leo.aperture_radius_m"]) == 2
    assert "no probability of no error" in capsys.readouterr().err
    assert main([*base, "--minimise-cost", "detectors.efficiency"]) == 2  # Table I: perfect detectors, nothing to improve
    assert "no error to improve" in capsys.readouterr().err
