"""One provisioning study: build the instance, solve SP, EVF (and EVF(λ)), Random, WS, the uniform-x
curve, and evaluate every first stage in- and out-of-sample. Returns a JSON-able dict."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qrate.errors import InputError
from qrate.provision.baselines import evf_mean, random_costs, solve_evf, wait_and_see
from qrate.provision.costs import CostParams
from qrate.provision.evaluate import FirstStage, constrained_uniform_first_stage, evaluate
from qrate.provision.instance import (
    APP_TYPES,
    EXPECTATIONS,
    all_pairs_applications,
    demand_means,
    exact_scenarios,
    random_applications,
    sampled_scenarios,
)
from qrate.provision.model import ModelOptions, solve_sp
from qrate.provision.problem import Problem, build_problem
from qrate.provision.topology import usnet

RATE_MODES = ("paper", "physical")


@dataclass(frozen=True)
class ProvisionConfig:
    """Everything that defines a study. ``n_apps=None`` is the all-pairs instance (276 apps)."""

    n_apps: int | None = 200
    n_scenarios: int = 10
    demand_mean: float | None = None  # None: n_scenarios / 3 (the paper's |Ω|/3)
    expectation: str = "sampled"  # "exact": Poisson expectations instead of sampled scenarios
    seed: int = 0
    k_paths: int = 3  # K shortest candidate paths per app ("Candidate paths" in qrate/MODELS.md)
    x_max: int = 10
    model: ModelOptions = field(default_factory=ModelOptions)
    costs: CostParams = field(default_factory=CostParams)
    evf_mean: str = "sample"  # EV problem at the sample mean, or "lambda" ("QBN-EVF and QBN-Random baselines")
    random_draws: int = 20  # QBN-Random first stages averaged ("QBN-EVF and QBN-Random baselines")
    oos_scenarios: int = 2000  # fresh scenarios for out-of-sample evaluation (0: skip)
    uniform_x: tuple[int, ...] = tuple(range(11))
    type_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)  # λ multipliers for APP_TYPES (default 1: types are labels)
    rates: str = "paper"

    def __post_init__(self) -> None:
        if self.expectation not in EXPECTATIONS:
            raise InputError("--expectation", f"expected one of {EXPECTATIONS}, got {self.expectation!r}")
        if self.rates not in RATE_MODES:
            raise InputError("--rates", f"expected one of {RATE_MODES}, got {self.rates!r}")
        for name in ("n_scenarios", "k_paths", "random_draws"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')}", f"expected an integer >= 1, got {getattr(self, name)}")
        for name in ("x_max", "oos_scenarios", "seed"):
            if getattr(self, name) < 0:
                raise InputError(f"--{name.replace('_', '-')}", f"expected an integer >= 0, got {getattr(self, name)}")
        if self.n_apps is not None and self.n_apps < 1:
            raise InputError("--apps", f"expected at least 1 application, got {self.n_apps}")
        if self.demand_mean is not None and not (self.demand_mean >= 0 and np.isfinite(self.demand_mean)):
            raise InputError("--demand-mean", f"expected a finite value >= 0, got {self.demand_mean}")
        if any(x < 0 or x > self.x_max for x in self.uniform_x):
            raise InputError("--uniform-x", f"values must lie in 0..{self.x_max}")

    @property
    def lam(self) -> float:
        return self.n_scenarios / 3 if self.demand_mean is None else float(self.demand_mean)


def build(config: ProvisionConfig) -> tuple[Problem, np.ndarray, Any, Any, np.random.Generator]:
    """Problem, λ per app, in-sample and out-of-sample scenarios (or None) and the Random stream."""
    ss_apps, ss_dem, ss_oos, ss_rand = np.random.SeedSequence(config.seed).spawn(4)
    graph = usnet()
    apps = (
        all_pairs_applications(graph)
        if config.n_apps is None
        else random_applications(graph, config.n_apps, np.random.default_rng(ss_apps))
    )
    rates = None
    if config.rates == "physical":
        from functools import partial

        from qrate.provision.physical import physical_rates

        rates = partial(physical_rates, costs=config.costs, graph=graph)
    problem = build_problem(graph, apps, config.costs, k_paths=config.k_paths, x_max=config.x_max, rates=rates)
    lam = demand_means(apps, config.lam, dict(zip(APP_TYPES, config.type_scale)))
    if config.expectation == "exact":
        scen, oos = exact_scenarios(lam, config.x_max), None
    else:
        scen = sampled_scenarios(lam, config.n_scenarios, np.random.default_rng(ss_dem))
        oos = sampled_scenarios(lam, config.oos_scenarios, np.random.default_rng(ss_oos)) if config.oos_scenarios else None
    return problem, lam, scen, oos, np.random.default_rng(ss_rand)


def _first_dict(problem: Problem, first: FirstStage) -> dict[str, Any]:
    return {
        "reservations": first.reservations.tolist(),
        "paths": [list(problem.paths[c].nodes) if c >= 0 else [] for c in first.column],
        **({"wavelengths": [list(w) for w in first.wavelengths]} if first.wavelengths is not None else {}),
    }


UNIFORM_NOTE = {
    "aggregate": "uniform x on each app's cheapest path, under the SP's constraint of at most --wavelengths"
    " services per link; infeasible (null in JSON): some link would carry more",
    "exact": "uniform x on each app's cheapest path with a first-fit wavelength assignment, under the SP's"
    " wavelength constraints; infeasible (null in JSON): x > --wavelengths, a link over capacity,"
    " or no assignment found",
}
"""What the uniform-x curve means when wavelength constraints apply (``uniform_x_note`` in the result)."""


def _uniform_point(problem: Problem, x: int, opts: ModelOptions, scen: Any) -> dict[str, Any]:
    """One point of the uniform-x curve, under the same wavelength constraints as the SP (None: infeasible)."""
    first = constrained_uniform_first_stage(problem, x, opts.wl_mode, opts.n_wavelengths)
    if first is None:
        return {"x": x, "stage1": None, "stage2": None, "total": None}
    return {"x": x, **evaluate(problem, first, scen).as_dict()}


def run_provision(config: ProvisionConfig = ProvisionConfig()) -> dict[str, Any]:
    """Run the study; keys include sp_total, evf_total, random_total, random_total_std, uniform_x_curve,
    sp_mean_reservation, solve_seconds, ws, evpi, vss and an ``out_of_sample`` block."""
    t0 = time.perf_counter()
    problem, lam, scen, oos, rng = build(config)
    opts = config.model
    sp = solve_sp(problem, scen, opts)
    evf = solve_evf(problem, evf_mean(config.evf_mean, scen, lam), opts)
    evf_lam = solve_evf(problem, lam, opts)
    eev = evaluate(problem, evf.first, scen)
    eev_lam = evaluate(problem, evf_lam.first, scen)
    sets = {"in": scen, **({"oos": oos} if oos is not None else {})}
    rnd = random_costs(problem, sets, config.random_draws, rng, opts)
    ws = wait_and_see(problem, scen, opts)
    curve = [_uniform_point(problem, int(x), opts, scen) for x in config.uniform_x]
    out: dict[str, Any] = {
        "n_apps": problem.n_apps,
        "instance": "all-pairs" if config.n_apps is None else "random",
        "expectation": config.expectation,
        "n_scenarios": scen.n_points if config.expectation == "sampled" else None,
        "seed": config.seed,
        "demand_mean": config.lam,
        "wl_mode": opts.wl_mode,
        "n_wavelengths": opts.n_wavelengths,
        "rates": config.rates,
        "sp_stage1": sp.costs.stage1,
        "sp_stage2": sp.costs.stage2,
        "sp_total": sp.costs.total,
        "sp_mean_reservation": sp.first.mean_reservation,
        "evf_stage1": eev.stage1,
        "evf_stage2": eev.stage2,
        "evf_total": eev.total,
        "evf_mean_reservation": evf.first.mean_reservation,
        "evf_lambda_total": eev_lam.total,
        "random_total": float(rnd["in"].mean()),
        "random_total_std": float(rnd["in"].std(ddof=1)) if config.random_draws > 1 else 0.0,
        "random_draws": config.random_draws,
        "ws": ws,
        "evpi": None if ws is None else sp.costs.total - ws,
        "vss": eev.total - sp.costs.total,
        "uniform_x_curve": curve,
        **({"uniform_x_note": UNIFORM_NOTE[opts.wl_mode]} if opts.wl_mode != "none" else {}),
        "solve_seconds": sp.solve_seconds,
        "model_size": {"vars": sp.n_vars, "integer": sp.n_integer, "rows": sp.n_rows},
        "od_uav_apps": sum(m == "uav" for m in problem.od_mode),
        "sp": _first_dict(problem, sp.first),
    }
    if oos is not None:
        out["out_of_sample"] = {
            "n_scenarios": oos.n_points,
            "sp_total": evaluate(problem, sp.first, oos).total,
            "evf_total": evaluate(problem, evf.first, oos).total,
            "evf_lambda_total": evaluate(problem, evf_lam.first, oos).total,
            "random_total": float(rnd["oos"].mean()),
        }
    out["wall_seconds"] = time.perf_counter() - t0
    return out
