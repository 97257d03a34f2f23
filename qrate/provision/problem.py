"""A provisioning problem: apps, candidate path columns with their costs, on-demand costs.

Column p = (app r, candidate path k). ``col_cost`` is c^R of one fiber service on it and
``col_delivery`` the demand units one such service covers (1 unless ``--rates physical``).
``od_cost`` is the on-demand cost per demand unit, the cheaper of satellite and UAV chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from qrate.errors import InputError
from qrate.provision.costs import CostParams
from qrate.provision.instance import Application
from qrate.provision.paths import Path, k_shortest_paths, min_hop_length_km

WL_MODES = ("none", "aggregate", "exact")


@dataclass(frozen=True, slots=True)
class Rates:
    """Demand units delivered per service: fiber per (app, path) column, satellite and UAV per app."""

    fiber: np.ndarray  # (P,)
    satellite: np.ndarray  # (R,)
    uav: np.ndarray  # (R,)


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the optimisation models need, flattened into numpy arrays."""

    apps: tuple[Application, ...]
    paths: tuple[Path, ...]  # one per column
    col_app: np.ndarray  # (P,) int
    col_cost: np.ndarray  # (P,) c^R per service
    col_delivery: np.ndarray  # (P,) demand units per service
    od_cost: np.ndarray  # (R,) on-demand cost per demand unit
    od_mode: tuple[str, ...]  # (R,) "satellite" | "uav"
    sp_length_km: np.ndarray  # (R,) shortest-path distance
    n_edges: int
    x_max: int

    @property
    def n_apps(self) -> int:
        return len(self.apps)

    @property
    def n_cols(self) -> int:
        return int(self.col_app.size)

    def cheapest_cols(self) -> np.ndarray:
        """Per app, the column with the least cost per delivered demand unit."""
        unit = self.col_cost / self.col_delivery
        out = np.empty(self.n_apps, dtype=int)
        for r in range(self.n_apps):
            cols = np.flatnonzero(self.col_app == r)
            out[r] = cols[np.argmin(unit[cols])]
        return out

    def edge_col_incidence(self) -> list[np.ndarray]:
        """For every edge id, the columns whose path uses it."""
        per_edge: list[list[int]] = [[] for _ in range(self.n_edges)]
        for p, path in enumerate(self.paths):
            for e in path.edge_ids:
                per_edge[e].append(p)
        return [np.asarray(c, dtype=int) for c in per_edge]


def build_problem(
    graph: nx.Graph,
    apps: Sequence[Application],
    costs: CostParams,
    *,
    k_paths: int = 3,
    x_max: int = 10,
    rates: Rates | Callable[[Sequence[Path], Sequence[Application]], Rates] | None = None,
) -> Problem:
    """Candidate paths (K shortest by km) and costs for ``apps`` on ``graph``.

    ``rates`` (demand units per service) may be given directly or as a function of the candidate
    paths (one per column) and the apps; ``None`` means one unit per service everywhere.
    """
    if x_max < 0:
        raise InputError("x_max", f"expected an integer >= 0, got {x_max}")
    cache: dict[tuple[int, int], tuple[Path, ...]] = {}
    paths: list[Path] = []
    col_app: list[int] = []
    for r, app in enumerate(apps):
        key = (app.src, app.dst)
        if key not in cache:
            cache[key] = k_shortest_paths(graph, app.src, app.dst, k_paths)
        paths.extend(cache[key])
        col_app.extend([r] * len(cache[key]))
    col_app_a = np.asarray(col_app, dtype=int)
    col_cost = np.array([costs.reservation_cost(p.link_lengths_km) for p in paths])
    sp = np.array([cache[(a.src, a.dst)][0].length_km for a in apps])
    uav_km = sp if costs.uav_distance == "shortest_path" else np.array([min_hop_length_km(graph, a.src, a.dst) for a in apps])
    if callable(rates):
        rates = rates(paths, apps)
    fiber = np.ones(len(paths)) if rates is None else np.asarray(rates.fiber, dtype=float)
    sat = np.ones(len(apps)) if rates is None else np.asarray(rates.satellite, dtype=float)
    uav = np.ones(len(apps)) if rates is None else np.asarray(rates.uav, dtype=float)
    if fiber.shape != (len(paths),) or sat.shape != (len(apps),) or uav.shape != (len(apps),):
        raise InputError("rates", "rate arrays do not match the problem's columns/apps")
    if np.any(fiber <= 0) or np.any(np.maximum(sat, uav) <= 0):
        raise InputError("rates", "every fiber column and every app needs a positive delivery rate")
    with np.errstate(divide="ignore"):
        c_sat = np.where(sat > 0, costs.satellite_cost() / np.where(sat > 0, sat, 1.0), np.inf)
        c_uav_raw = np.array([costs.uav_cost(d) for d in uav_km])
        c_uav = np.where(uav > 0, c_uav_raw / np.where(uav > 0, uav, 1.0), np.inf)
    od_cost = np.minimum(c_sat, c_uav)
    od_mode = tuple("uav" if u < s else "satellite" for s, u in zip(c_sat, c_uav))
    return Problem(
        apps=tuple(apps),
        paths=tuple(paths),
        col_app=col_app_a,
        col_cost=col_cost,
        col_delivery=fiber,
        od_cost=od_cost,
        od_mode=od_mode,
        sp_length_km=sp,
        n_edges=graph.number_of_edges(),
        x_max=int(x_max),
    )
