"""Requirement search: thresholds against closed forms, intervals, non-monotone and unreachable targets."""

from __future__ import annotations

import math

import pytest

from qrate.engine import plan_sweep
from qrate.require.evaluate import Evaluator
from qrate.require.request import parse_target, parse_vary
from qrate.require.search import find_threshold
from qrate.scenario import load_scenario

APERTURE = "links.leo.aperture_radius_m"


def _leo_exact():
    return load_scenario("khan-acka-leo", ['links.leo.model="exact"'], ["ground_distance_km=1000"])


def closed_form_radius(p_target: float) -> float:
    """Radius giving success probability ``p_target`` on the Table I LEO network with the exact beam model.

    p = C (a_1 eta)(a_2 eta) with eta = T (1 - exp(-2 r^2 / (W^2 + 4 sigma^2))) for both downlinks (the
    platform above the midpoint: equal geometry) and no background (b_k = 0); C, a_k, W, sigma, T do not
    depend on r.
    """
    (plan,) = plan_sweep(_leo_exact())
    assert plan.factors_b == (0.0, 0.0)
    dl = plan.downlinks[0]
    assert all(d.budget.beam_radius_m == dl.budget.beam_radius_m for d in plan.downlinks)
    eta = math.sqrt(p_target / (plan.constant * plan.factors_a[0] * plan.factors_a[1]))
    w2 = dl.budget.beam_radius_m**2 + 4 * dl.budget.sigma_m**2
    return math.sqrt(-w2 / 2 * math.log1p(-eta / dl.budget.factor))


def test_threshold_matches_closed_form_and_interval_shrinks_with_batches() -> None:
    target = parse_target("p_success >= 0.2")
    truth = closed_form_radius(0.2)
    widths = {}
    for batches in (10, 160):
        ev = Evaluator(_leo_exact(), [APERTURE])
        req = find_threshold(ev, parse_vary(f"{APERTURE}=0.1:3"), target, batches=batches)
        (c,) = req.crossings
        assert req.status == "found" and req.monotone and c.met_above
        assert c.threshold == pytest.approx(truth, rel=1e-3)
        m = c.confirmation
        assert m is not None and m.batches == batches
        assert m.low <= truth <= m.high
        widths[batches] = m.high - m.low
    assert 2.5 < widths[10] / widths[160] < 6.5  # 1/sqrt(batches): 4


def test_log_search_and_direction() -> None:
    ev = Evaluator(_leo_exact(), ["links.leo.divergence_rad"])
    req = find_threshold(
        ev, parse_vary("links.leo.divergence_rad=1e-6:1e-4", log=True), parse_target("p_success >= 0.2"), confirm=False
    )
    (c,) = req.crossings
    assert not c.met_above and c.slope < 0
    assert ev.expected({"links.leo.divergence_rad": c.threshold})["p_success"] == pytest.approx(0.2, rel=1e-3)


def test_unreachable_and_met_everywhere() -> None:
    ev = Evaluator(_leo_exact(), [APERTURE])
    vary = parse_vary(f"{APERTURE}=0.1:3")
    req = find_threshold(ev, vary, parse_target("p_success >= 0.9"))
    assert req.status == "unreachable" and not req.crossings
    assert req.best_at == pytest.approx(3.0)
    assert req.best_value == pytest.approx(ev.expected({APERTURE: 3.0})["p_success"])
    req = find_threshold(ev, vary, parse_target("p_success >= 1e-9"))
    assert req.status == "met_everywhere" and not req.crossings


def test_non_monotone_response_reports_every_crossing() -> None:
    """More SPDC pairs: more heralded states but more multi-pair noise, so the key rate peaks."""
    sc = load_scenario("micius-2017-entanglement", [], [])
    ev = Evaluator(sc, ["sources.spdc_mean_pair_number"])
    vary = parse_vary("sources.spdc_mean_pair_number=1e-4:0.5", log=True)
    # the preset is a pass run (its night pass of 2016-12-17): the key per pass peaks near mu = 0.1
    req = find_threshold(ev, vary, parse_target("key_bits_per_pass >= 50"), confirm=False)
    assert not req.monotone and len(req.crossings) == 2
    up, down = req.crossings
    assert up.met_above and not down.met_above and up.threshold < req.best_at < down.threshold
    for c in req.crossings:
        assert ev.expected({"sources.spdc_mean_pair_number": c.threshold})["key_bits_per_pass"] == pytest.approx(50, rel=1e-2)


def test_values_with_no_point_read_as_not_met() -> None:
    """Beyond the horizon there is no point: the search treats it as the target not met."""
    sc = load_scenario("khan-acka-leo", [], ["ground_distance_km=0"])
    ev = Evaluator(sc, ["ground_distance_km"])
    req = find_threshold(ev, parse_vary("ground_distance_km=0:6000"), parse_target("key_rate_bps >= 1e5"), confirm=False)
    (c,) = req.crossings
    assert not c.met_above and 1000 < c.threshold < 2000
    assert any(math.isnan(v) for v in req.scan["estimate"])  # the far end: platform below the horizon


def test_log_interval_is_the_delta_method_in_log_x() -> None:
    """With ``--log`` the sampled threshold and its interval come from the delta method in log x: positive
    whatever the sampling error (the linear form put this one below zero)."""
    from scipy import stats

    from qrate.require.search import Crossing, _confirm

    class Sampled:
        """Monte Carlo stub: the estimate and standard error that a confirmation would return."""

        def monte_carlo(self, values, estimate, batches):
            return {"key_rate_bps": 500.0, "batches": 4}, 100.0

    x_star = 1e-6  # response E = 200 + 100 log(x / x*): slope dE/dx = 100 / x* at x*
    c = Crossing(x_star, met_above=True, slope=100.0 / x_star)
    vary = parse_vary("sources.ghz_success_probability=1e-9:1e-3", log=True)
    m = _confirm(Sampled(), vary, parse_target("key_rate_bps >= 200"), c, 4, {})  # type: ignore[arg-type]
    z = stats.norm.ppf(0.975)
    assert m.threshold == pytest.approx(x_star * math.exp(-3.0), rel=1e-12)
    assert m.low == pytest.approx(m.threshold * math.exp(-z), rel=1e-12)
    assert m.high == pytest.approx(m.threshold * math.exp(z), rel=1e-12)
    assert 0 < m.low < m.threshold < m.high
    lin = _confirm(
        Sampled(), parse_vary("sources.ghz_success_probability=1e-9:1e-3"), parse_target("key_rate_bps >= 200"), c, 4, {}
    )  # type: ignore[arg-type]
    assert lin.threshold == pytest.approx(x_star - 3.0 * x_star, rel=1e-12)  # linear: unchanged
