"""Path-based MILP: newsvendor closed form, arc-based cross-check, exact wavelength assignment."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from qrate.provision.arc import solve_arc
from qrate.provision.costs import CostParams
from qrate.provision.evaluate import wavelength_violations
from qrate.provision.instance import (
    Application,
    demand_means,
    exact_scenarios,
    random_applications,
    sampled_scenarios,
)
from qrate.provision.model import ModelOptions, solve_sp
from qrate.provision.problem import build_problem


def _newsvendor(c_r: float, c_o: float, cdf, pmf, lam: float, x_max: int) -> tuple[int, float]:  # noqa: ANN001
    """Independent per-app newsvendor: smallest x with F(x) ≥ 1 − c_r/c_o, and its expected cost
    c_r x + c_o E[(D − x)^+] with E[(D − x)^+] = λ − x + Σ_{k<x} (x − k) P(D = k)."""
    x = next((k for k in range(x_max + 1) if cdf(k) >= 1 - c_r / c_o - 1e-12), x_max)
    shortfall = lam - x + sum((x - k) * pmf(k) for k in range(x))
    return x, c_r * x + c_o * shortfall


def _cheapest(graph: nx.Graph, s: int, d: int) -> tuple[float, float]:
    """(c^R on the shortest path, c^O = min(satellite, UAV chain)) from the paper's numbers."""
    length = nx.dijkstra_path_length(graph, s, d, weight="length_km")
    c_r = 1500 + 2250 + 2 * (1200 + 150 + 300) + length
    c_o = min(6000 + 9000 + 3000 + 500 + 20000, 6000 + 9000 + 3000 + 500 + 20 * math.ceil(length))
    return c_r, c_o


def test_exact_expectation_equals_poisson_newsvendor(graph: nx.Graph) -> None:
    lam = 10 / 3
    fact = [math.factorial(k) for k in range(20)]
    pmf = lambda k: math.exp(-lam) * lam**k / fact[k]  # noqa: E731
    cdf = lambda k: sum(pmf(j) for j in range(k + 1))  # noqa: E731
    apps = tuple(Application(i, s, d, "avatar") for i, (s, d) in enumerate([(3, 4), (1, 2), (1, 24), (21, 22), (11, 19), (6, 17)]))
    problem = build_problem(graph, apps, CostParams())
    sol = solve_sp(problem, exact_scenarios(demand_means(apps, lam), 10))
    expected_x, expected_cost = zip(*(_newsvendor(*_cheapest(graph, a.src, a.dst), cdf, pmf, lam, 10) for a in apps))
    assert sol.first.reservations.tolist() == list(expected_x)
    assert expected_x[:3] == (4, 5, 4)  # PROVISIONING.md §3.6 examples
    assert sol.objective == pytest.approx(sum(expected_cost), rel=1e-9)
    assert sol.costs.total == pytest.approx(sum(expected_cost), rel=1e-9)


def test_sampled_sp_equals_empirical_newsvendor(graph: nx.Graph, rng: np.random.Generator) -> None:
    apps = random_applications(graph, 40, rng)
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 10, rng)
    sol = solve_sp(build_problem(graph, apps, CostParams()), scen)
    total = 0.0
    for r, a in enumerate(apps):
        d = scen.demand[:, r]
        c_r, c_o = _cheapest(graph, a.src, a.dst)
        cdf = lambda k, d=d: float(np.mean(d <= k))  # noqa: E731
        x, _ = _newsvendor(c_r, c_o, cdf, lambda k: 0.0, 0.0, 10)
        total += c_r * x + c_o * float(np.mean(np.maximum(d - x, 0)))
    assert sol.objective == pytest.approx(total, rel=1e-9)


def _apps(pairs: list[tuple[int, int]]) -> tuple[Application, ...]:
    return tuple(Application(i, s, d, "avatar") for i, (s, d) in enumerate(pairs))


@pytest.mark.parametrize(
    ("pairs", "n_wavelengths", "seed"),
    [([(3, 7), (4, 8), (2, 7), (5, 9)], 2, 1), ([(1, 9), (2, 7), (6, 10), (3, 11)], 2, 3), ([(21, 13), (22, 12), (16, 10)], 2, 4)],
)
def test_path_model_matches_arc_model(graph: nx.Graph, pairs: list[tuple[int, int]], n_wavelengths: int, seed: int) -> None:
    apps = _apps(pairs)
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 6, np.random.default_rng(seed))
    problem = build_problem(graph, apps, CostParams(), k_paths=60)
    path = solve_sp(problem, scen, ModelOptions("exact", n_wavelengths, mip_rel_gap=1e-9))
    arc, x_arc, _ = solve_arc(graph, apps, scen, problem.od_cost, CostParams(), n_wavelengths=n_wavelengths)
    assert path.objective == pytest.approx(arc, rel=1e-9)
    assert wavelength_violations(problem, path.first, n_wavelengths) == []


def test_three_paths_can_be_too_few_when_capacity_binds(graph: nx.Graph) -> None:
    """Three apps compete for the links around node 16/12; with W = 2 the third needs a long detour."""
    apps = _apps([(21, 13), (22, 12), (16, 10)])
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 6, np.random.default_rng(4))
    opts = ModelOptions("exact", 2, mip_rel_gap=1e-9)
    k3 = solve_sp(build_problem(graph, apps, CostParams(), k_paths=3), scen, opts)
    k60 = solve_sp(build_problem(graph, apps, CostParams(), k_paths=60), scen, opts)
    assert k60.objective < k3.objective - 1.0


def test_exact_assignment_valid_and_aggregate_is_a_lower_bound(graph: nx.Graph, rng: np.random.Generator) -> None:
    apps = random_applications(graph, 12, rng)
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 5, rng)
    problem = build_problem(graph, apps, CostParams())
    none = solve_sp(problem, scen)
    for w in (1, 3):
        exact = solve_sp(problem, scen, ModelOptions("exact", w, mip_rel_gap=1e-9))
        agg = solve_sp(problem, scen, ModelOptions("aggregate", w, mip_rel_gap=1e-9))
        assert wavelength_violations(problem, exact.first, w) == []
        assert none.objective <= agg.objective + 1e-6 <= exact.objective + 2e-6
        # independent capacity check of the aggregate solution
        load = np.zeros(problem.n_edges)
        for r, col in enumerate(agg.first.column):
            if col >= 0:
                load[list(problem.paths[col].edge_ids)] += agg.first.reservations[r]
        assert load.max() <= w
        assert exact.first.reservations.max() <= w


def test_violation_checker_flags_bad_assignments(graph: nx.Graph) -> None:
    from qrate.provision.evaluate import FirstStage

    apps = _apps([(3, 4), (3, 4)])
    problem = build_problem(graph, apps, CostParams(), k_paths=1)
    clash = FirstStage(np.array([1, 1]), np.array([0, 1]), ((0,), (0,)))
    assert any("wavelength 0" in v for v in wavelength_violations(problem, clash, 2))
    over = FirstStage(np.array([2, 1]), np.array([0, 1]), ((0, 1), (2,)))
    msgs = wavelength_violations(problem, over, 2)
    assert any("outside" in v for v in msgs) and any("> 2 wavelengths" in v for v in msgs)
