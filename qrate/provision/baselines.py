"""Baselines and metrics: QBN-EVF (EEV), QBN-Random, wait-and-see (WS), EVPI, VSS (see "QBN-EVF and QBN-Random
baselines" and "Wait-and-see, EVPI and VSS" in qrate/MODELS.md)."""

from __future__ import annotations

import numpy as np

from qrate.errors import InputError
from qrate.provision.evaluate import FirstStage, evaluate
from qrate.provision.instance import Scenarios, expected_value_scenario
from qrate.provision.model import ModelOptions, Solution, solve_sp
from qrate.provision.problem import Problem

EVF_MEANS = ("sample", "lambda")


def solve_evf(problem: Problem, mean_demand: np.ndarray, options: ModelOptions = ModelOptions()) -> Solution:
    """Expected-value problem: one scenario at ⌈mean⌉ per app. Its ``first`` is the EVF first stage;
    evaluate it on the scenarios to get the EEV."""
    return solve_sp(problem, expected_value_scenario(mean_demand), options)


def random_first_stage(problem: Problem, rng: np.random.Generator, options: ModelOptions = ModelOptions()) -> FirstStage:
    """QBN-Random: x_r ~ U{0..X_max}, a uniform candidate path, wavelengths first-fit in random
    app order; services that find no wavelength (or no capacity, ``aggregate``) are dropped."""
    R, X = problem.n_apps, problem.x_max
    x = rng.integers(0, X + 1, size=R)
    column = np.empty(R, dtype=int)
    for r in range(R):
        cols = np.flatnonzero(problem.col_app == r)
        column[r] = cols[rng.integers(cols.size)]
    if options.wl_mode == "none":
        return FirstStage(x, column)
    W = int(options.n_wavelengths or 0)
    free = np.ones((problem.n_edges, W), dtype=bool)  # exact: per (link, wavelength)
    load = np.zeros(problem.n_edges, dtype=int)  # aggregate: services per link
    wavelengths: list[tuple[int, ...]] = [()] * R
    for r in rng.permutation(R):
        edges = np.asarray(problem.paths[column[r]].edge_ids)
        if options.wl_mode == "aggregate":
            x[r] = min(x[r], int(W - load[edges].max()))
            load[edges] += x[r]
            continue
        take = np.flatnonzero(free[edges].all(axis=0))[: x[r]]
        x[r] = take.size
        free[np.ix_(edges, take)] = False
        wavelengths[r] = tuple(int(w) for w in take)
    return FirstStage(x, column, tuple(wavelengths) if options.wl_mode == "exact" else None)


def wait_and_see(problem: Problem, scenarios: Scenarios, options: ModelOptions = ModelOptions()) -> float | None:
    """WS = E_ω[optimal cost knowing ω]. Separable (enumerated per app and column) without capacity;
    with capacity one MILP per sampled scenario; ``None`` when capacity binds and scenarios are per-app
    marginals (exact expectation), where the joint wait-and-see problem is not enumerable."""
    if options.wl_mode == "none":
        xs = np.arange(problem.x_max + 1, dtype=float)  # (X+1,)
        d = scenarios.demand[:, problem.col_app]  # (S, P)
        short = np.maximum(d[:, :, None] - problem.col_delivery[None, :, None] * xs[None, None, :], 0.0)
        cost = problem.col_cost[None, :, None] * xs + problem.od_cost[problem.col_app][None, :, None] * short  # (S, P, X+1)
        best_col = cost.min(axis=2)  # (S, P)
        best = np.full((scenarios.n_points, problem.n_apps), np.inf)
        np.minimum.at(best.T, problem.col_app, best_col.T)
        return float((scenarios.weight * best).sum())
    w = scenarios.weight
    if not np.allclose(w, w[:, :1]):
        return None
    total = 0.0
    for s in range(scenarios.n_points):
        one = Scenarios(scenarios.demand[s : s + 1], np.ones((1, problem.n_apps)))
        total += w[s, 0] * solve_sp(problem, one, options).objective
    return total


def evf_mean(kind: str, scenarios: Scenarios, lam: np.ndarray) -> np.ndarray:
    """Mean demand used by the EV problem: sample mean (``"sample"``, default) or λ (``"lambda"``)."""
    if kind not in EVF_MEANS:
        raise InputError("evf_mean", f"expected one of {EVF_MEANS}, got {kind!r}")
    return scenarios.mean() if kind == "sample" else np.asarray(lam, dtype=float)


def random_costs(
    problem: Problem,
    scenario_sets: dict[str, Scenarios],
    draws: int,
    rng: np.random.Generator,
    options: ModelOptions = ModelOptions(),
) -> dict[str, np.ndarray]:
    """Total cost of ``draws`` QBN-Random first stages on each named scenario set."""
    if draws < 1:
        raise InputError("--random-draws", f"expected at least 1 draw, got {draws}")
    out = {name: np.empty(draws) for name in scenario_sets}
    for i in range(draws):
        first = random_first_stage(problem, rng, options)
        for name, sc in scenario_sets.items():
            out[name][i] = evaluate(problem, first, sc).total
    return out
