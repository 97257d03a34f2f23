"""First-stage decisions and their cost on a set of scenarios (closed-form recourse).

The recourse is uncapacitated and separable per app, so for a fixed reservation the expected
second-stage cost is Σ_r c^O_r Σ_s w_sr (D_sr − a_r x_r)^+ exactly; no LP is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qrate.provision.instance import Scenarios
from qrate.provision.problem import Problem


@dataclass(frozen=True, slots=True)
class FirstStage:
    """Reserved fiber services per app, the column (app, path) they use (−1: none) and, in
    ``exact`` wavelength mode, the wavelength indices of each app's services."""

    reservations: np.ndarray  # (R,) int
    column: np.ndarray  # (R,) int
    wavelengths: tuple[tuple[int, ...], ...] | None = None

    @property
    def mean_reservation(self) -> float:
        return float(np.mean(self.reservations)) if self.reservations.size else 0.0


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Stage-1 (reservation), expected stage-2 (on-demand) and total cost."""

    stage1: float
    stage2: float

    @property
    def total(self) -> float:
        return self.stage1 + self.stage2

    def as_dict(self) -> dict[str, float]:
        return {"stage1": self.stage1, "stage2": self.stage2, "total": self.total}


def delivered(problem: Problem, first: FirstStage) -> np.ndarray:
    """Demand units covered per app by the reservation."""
    a = np.where(first.column >= 0, problem.col_delivery[np.maximum(first.column, 0)], 0.0)
    return a * first.reservations


def stage1_cost(problem: Problem, first: FirstStage) -> float:
    """Reservation cost Σ_r c^R(column_r) · x_r."""
    c = np.where(first.column >= 0, problem.col_cost[np.maximum(first.column, 0)], 0.0)
    return float(np.dot(c, first.reservations))


def stage2_per_app(problem: Problem, first: FirstStage, scenarios: Scenarios) -> np.ndarray:
    """Expected on-demand cost per app."""
    short = np.maximum(scenarios.demand - delivered(problem, first)[None, :], 0.0)
    return problem.od_cost * (scenarios.weight * short).sum(axis=0)


def evaluate(problem: Problem, first: FirstStage, scenarios: Scenarios) -> CostBreakdown:
    """Cost of a fixed first stage on ``scenarios`` (in- or out-of-sample)."""
    return CostBreakdown(stage1_cost(problem, first), float(stage2_per_app(problem, first, scenarios).sum()))


def uniform_first_stage(problem: Problem, x: int) -> FirstStage:
    """Every app reserves ``x`` services on its cheapest candidate path (capacity ignored; Fig. 4a)."""
    return FirstStage(np.full(problem.n_apps, int(x)), problem.cheapest_cols())


def constrained_uniform_first_stage(problem: Problem, x: int, wl_mode: str, n_wavelengths: int | None) -> FirstStage | None:
    """:func:`uniform_first_stage` checked against the wavelength constraints the SP is solved under.

    ``none``: the uniform stage itself. ``aggregate``: it, if no link carries more than ``W`` services.
    ``exact``: it with a wavelength assignment (continuity, uniqueness, ``x <= W``) found first-fit, apps
    with the longest paths first. None when the constraints are not met (``exact``: or first-fit found
    no assignment), so that a uniform-x comparison never shows a cost no feasible policy has: every
    stage returned is feasible for the SP, whose optimum is therefore at most its cost.
    """
    first = uniform_first_stage(problem, x)
    if wl_mode == "none" or x == 0:
        return first if wl_mode != "exact" else FirstStage(first.reservations, first.column, ((),) * problem.n_apps)
    W = int(n_wavelengths or 0)
    load = np.zeros(problem.n_edges, dtype=np.int64)
    for r in range(problem.n_apps):
        for e in problem.paths[first.column[r]].edge_ids:
            load[e] += first.reservations[r]
    if (load > W).any():
        return None
    if wl_mode == "aggregate":
        return first
    used = np.zeros((problem.n_edges, W), dtype=bool)
    chosen: list[tuple[int, ...]] = [() for _ in range(problem.n_apps)]
    order = sorted(range(problem.n_apps), key=lambda r: -len(problem.paths[first.column[r]].edge_ids))
    for r in order:
        edges = list(problem.paths[first.column[r]].edge_ids)
        free = np.flatnonzero(~used[edges].any(axis=0))
        if free.size < x:
            return None
        picked = free[:x]
        used[np.ix_(edges, picked)] = True
        chosen[r] = tuple(int(w) for w in picked)
    assigned = FirstStage(first.reservations, first.column, tuple(chosen))
    assert not wavelength_violations(problem, assigned, W)
    return assigned


def wavelength_violations(problem: Problem, first: FirstStage, n_wavelengths: int) -> list[str]:
    """Check an exact assignment: one wavelength set per app (continuity along its single path),
    x_r distinct wavelengths in 0..W−1, no (link, wavelength) used twice (uniqueness), and at most W
    services per link (capacity). Returns human-readable violations (empty = valid)."""
    out: list[str] = []
    if first.wavelengths is None:
        return ["no wavelength assignment"]
    used: dict[tuple[int, int], int] = {}
    load = np.zeros(problem.n_edges, dtype=int)
    for r, wls in enumerate(first.wavelengths):
        if len(wls) != first.reservations[r] or len(set(wls)) != len(wls):
            out.append(f"app {r}: {len(wls)} wavelengths for {first.reservations[r]} services")
        if any(w < 0 or w >= n_wavelengths for w in wls):
            out.append(f"app {r}: wavelength outside 0..{n_wavelengths - 1}")
        if not wls:
            continue
        if first.column[r] < 0 or problem.col_app[first.column[r]] != r:
            out.append(f"app {r}: services without a path of its own")
            continue
        for e in problem.paths[first.column[r]].edge_ids:
            load[e] += len(wls)
            for w in wls:
                if (e, w) in used:
                    out.append(f"link {e} wavelength {w}: apps {used[(e, w)]} and {r}")
                used[(e, w)] = r
    for e in np.flatnonzero(load > n_wavelengths):
        out.append(f"link {e}: {load[e]} services > {n_wavelengths} wavelengths")
    return out
