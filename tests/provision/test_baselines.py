"""SP vs EVF / Random, WS / EVPI / VSS, the uniform-x curve and the QBN-Random first stage."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from qrate.provision.baselines import random_first_stage, wait_and_see
from qrate.provision.costs import CostParams
from qrate.provision.evaluate import FirstStage, evaluate, wavelength_violations
from qrate.provision.instance import demand_means, random_applications, sampled_scenarios
from qrate.provision.model import ModelOptions
from qrate.provision.problem import build_problem
from qrate.provision.study import ProvisionConfig, run_provision

INSTANCES = [
    ProvisionConfig(n_apps=30, seed=1, oos_scenarios=200, uniform_x=()),
    ProvisionConfig(n_apps=60, seed=2, n_scenarios=5, oos_scenarios=0, uniform_x=()),
    ProvisionConfig(n_apps=None, expectation="exact", random_draws=5, uniform_x=()),
    ProvisionConfig(n_apps=10, seed=3, model=ModelOptions("aggregate", 6), random_draws=5, oos_scenarios=0, uniform_x=()),
    ProvisionConfig(n_apps=8, seed=4, n_scenarios=4, model=ModelOptions("exact", 3), random_draws=5, oos_scenarios=0, uniform_x=()),
    ProvisionConfig(n_apps=20, seed=5, costs=CostParams(relay_mode="trusted"), random_draws=5, oos_scenarios=0, uniform_x=()),
]


@pytest.mark.parametrize("config", INSTANCES, ids=lambda c: f"{c.n_apps}-{c.expectation}-{c.model.wl_mode}-{c.costs.relay_mode}")
def test_sp_is_no_worse_than_baselines(config: ProvisionConfig) -> None:
    r = run_provision(config)
    tol = 1e-6 * r["sp_total"]
    assert r["sp_total"] <= r["evf_total"] + tol
    assert r["sp_total"] <= r["evf_lambda_total"] + tol
    assert r["sp_total"] <= r["random_total"] + tol
    assert r["vss"] >= -tol
    assert r["ws"] is not None and r["evpi"] >= -tol
    assert r["ws"] <= r["sp_total"] + tol


def test_trusted_relays_make_reservation_pointless() -> None:
    r = run_provision(ProvisionConfig(n_apps=20, seed=5, costs=CostParams(relay_mode="trusted"), random_draws=2, oos_scenarios=0))
    assert r["sp_mean_reservation"] == 0.0  # c^R ≥ 24k vs c^O ≤ 38.5k: x* = 0 (PROVISIONING.md A1)


def test_uniform_x_curve_has_interior_minimum_at_paper_scale() -> None:
    r = run_provision(ProvisionConfig(n_apps=200, seed=0, random_draws=2, oos_scenarios=0))
    curve = r["uniform_x_curve"]
    totals = [c["total"] for c in curve]
    best = int(np.argmin(totals))
    assert 0 < curve[best]["x"] < 10
    assert curve[best]["x"] == 4  # Fig. 4a
    s1 = [c["stage1"] for c in curve]
    assert np.allclose(np.diff(s1), s1[1] - s1[0]) and s1[0] == 0.0  # linear in x
    assert all(np.diff([c["stage2"] for c in curve]) <= 0)


def test_evaluate_matches_brute_force(graph: nx.Graph, rng: np.random.Generator) -> None:
    apps = random_applications(graph, 15, rng)
    problem = build_problem(graph, apps, CostParams())
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 7, rng)
    first = random_first_stage(problem, rng)
    stage1 = stage2 = 0.0
    for r, a in enumerate(apps):
        path = problem.paths[first.column[r]]
        assert path.nodes[0] == a.src and path.nodes[-1] == a.dst
        stage1 += first.reservations[r] * (7050 + path.length_km)
        length = nx.dijkstra_path_length(graph, a.src, a.dst, weight="length_km")
        c_o = min(38500, 18500 + 20 * math.ceil(length))
        for s in range(7):
            stage2 += c_o * max(scen.demand[s, r] - first.reservations[r], 0) / 7
    got = evaluate(problem, first, scen)
    assert got.stage1 == pytest.approx(stage1) and got.stage2 == pytest.approx(stage2)


def test_wait_and_see_closed_form(graph: nx.Graph, rng: np.random.Generator) -> None:
    apps = random_applications(graph, 25, rng)
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 10, rng)
    problem = build_problem(graph, apps, CostParams(), x_max=40)  # cap never binds
    unit = np.array([min(problem.od_cost[r], problem.col_cost[problem.col_app == r].min()) for r in range(25)])
    assert wait_and_see(problem, scen) == pytest.approx(float((scen.demand * unit).sum() / 10))


@pytest.mark.parametrize("mode", ["aggregate", "exact"])
def test_random_first_stage_respects_capacity(graph: nx.Graph, rng: np.random.Generator, mode: str) -> None:
    apps = random_applications(graph, 40, rng)
    problem = build_problem(graph, apps, CostParams())
    first = random_first_stage(problem, rng, ModelOptions(mode, 4))
    load = np.zeros(problem.n_edges)
    for r, col in enumerate(first.column):
        load[list(problem.paths[col].edge_ids)] += first.reservations[r]
    assert load.max() <= 4
    assert first.reservations.sum() > 0
    if mode == "exact":
        assert wavelength_violations(problem, first, 4) == []


def test_random_reservations_are_uniform(graph: nx.Graph, rng: np.random.Generator) -> None:
    apps = random_applications(graph, 500, rng)
    problem = build_problem(graph, apps, CostParams())
    x = random_first_stage(problem, rng).reservations
    se = math.sqrt(120 / 12 / x.size)  # var of U{0..10} is ((11)^2 − 1)/12 = 10
    assert abs(x.mean() - 5.0) < 5 * se
    assert set(np.unique(x)) <= set(range(11))


def test_fixed_first_stage_cost_is_what_sp_reports(graph: nx.Graph, rng: np.random.Generator) -> None:
    from qrate.provision.model import solve_sp

    apps = random_applications(graph, 10, rng)
    problem = build_problem(graph, apps, CostParams())
    scen = sampled_scenarios(demand_means(apps, 10 / 3), 10, rng)
    sol = solve_sp(problem, scen)
    assert evaluate(problem, FirstStage(sol.first.reservations, sol.first.column), scen).total == pytest.approx(sol.objective)
