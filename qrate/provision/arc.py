"""Arc-based model (Cao-style RWA constraints C1–C6, see "Arc-based cross-check" in qrate/MODELS.md) as a
cross-check of the
path-based model on small instances. Exact wavelength assignment with ``n_wavelengths`` per link; all
simple paths are allowed (no candidate list). Assumes one demand unit per service (no physical rates).

Variables per app r: f_r, β_r,a (arc a on r's route), α_r,w (wavelength w allocated), γ_r,a,w (r uses
w on a), all binary; y_s,r ≥ 0 on-demand units. Reservation cost Σ C_end·α + Σ κ_a·γ.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
from scipy.optimize import Bounds, milp

from qrate.errors import InputError, QrateError
from qrate.provision.costs import CostParams
from qrate.provision.instance import Application, Scenarios
from qrate.provision.model import _Rows


def solve_arc(
    graph: nx.Graph,
    apps: tuple[Application, ...],
    scenarios: Scenarios,
    od_cost: np.ndarray,
    costs: CostParams,
    *,
    n_wavelengths: int,
    x_max: int = 10,
    mip_rel_gap: float = 1e-9,
) -> tuple[float, np.ndarray, float]:
    """Solve the arc-based extensive form; return (objective, reservations per app, seconds)."""
    if n_wavelengths < 1:
        raise InputError("n_wavelengths", "expected >= 1")
    R, S, W = len(apps), scenarios.n_points, int(n_wavelengths)
    nodes = sorted(graph.nodes)
    node_ix = {v: i for i, v in enumerate(nodes)}
    arcs = [(u, v) for u, v in graph.edges] + [(v, u) for u, v in graph.edges]
    A = len(arcs)
    arc_edge = np.array([graph.edges[a]["eid"] for a in arcs])
    kappa = np.array([costs.link_cost(graph.edges[a]["length_km"]) for a in arcs])
    tail = np.array([node_ix[u] for u, _ in arcs])
    head = np.array([node_ix[v] for _, v in arcs])
    V, E = len(nodes), graph.number_of_edges()

    per = 1 + A + W + A * W  # f, beta, alpha, gamma per app
    n_vars = R * per + S * R

    def f(r: int) -> int:
        return r * per

    def beta(r: int) -> np.ndarray:
        return r * per + 1 + np.arange(A)

    def alpha(r: int) -> np.ndarray:
        return r * per + 1 + A + np.arange(W)

    def gamma(r: int) -> np.ndarray:  # (A, W)
        return r * per + 1 + A + W + np.arange(A * W).reshape(A, W)

    iy = R * per
    c = np.zeros(n_vars)
    for r in range(R):
        c[alpha(r)] = costs.endpoint_cost()
        c[gamma(r)] = kappa[:, None]
    c[iy:] = (scenarios.weight * od_cost[None, :]).ravel()
    integrality = np.zeros(n_vars)
    integrality[: R * per] = 1
    ub = np.full(n_vars, np.inf)
    ub[: R * per] = 1

    rows = _Rows()
    one_a = np.ones(A)
    for r, app in enumerate(apps):
        s, d = node_ix[app.src], node_ix[app.dst]
        # (C1) Σ_out β − Σ_in β − f·([i=s] − [i=d]) = 0
        rhs_coef = np.zeros(V)
        rhs_coef[s], rhs_coef[d] = -1.0, 1.0
        rows.add(
            np.concatenate([tail, head, np.arange(V)]),
            np.concatenate([beta(r), beta(r), np.full(V, f(r))]),
            np.concatenate([one_a, -one_a, rhs_coef]),
            np.zeros(V),
            np.zeros(V),
        )
        # (C2) x_r = Σ_w α ≤ X·f
        rows.add(
            np.zeros(W + 1, dtype=int),
            np.concatenate([alpha(r), [f(r)]]),
            np.concatenate([np.ones(W), [-float(x_max)]]),
            np.array([-np.inf]),
            np.array([0.0]),
        )
        # (C3) Σ_out β ≤ 1 per node
        rows.add(tail, beta(r), one_a, np.zeros(V), np.ones(V))
        # (C4) γ ≤ α, γ ≤ β, γ ≥ α + β − 1
        g = gamma(r).ravel()
        aw = np.tile(alpha(r), A)
        ba = np.repeat(beta(r), W)
        m = A * W
        idx = np.arange(m)
        ones, mones = np.ones(m), -np.ones(m)
        rows.add(
            np.concatenate([idx, idx]), np.concatenate([g, aw]), np.concatenate([ones, mones]), np.full(m, -np.inf), np.zeros(m)
        )
        rows.add(
            np.concatenate([idx, idx]), np.concatenate([g, ba]), np.concatenate([ones, mones]), np.full(m, -np.inf), np.zeros(m)
        )
        rows.add(
            np.concatenate([idx, idx, idx]),
            np.concatenate([g, aw, ba]),
            np.concatenate([ones, mones, mones]),
            np.full(m, -1.0),
            np.full(m, np.inf),
        )
        # recourse: Σ_w α + y_sr ≥ D_sr
        rows.add(
            np.concatenate([np.repeat(np.arange(S), W), np.arange(S)]),
            np.concatenate([np.tile(alpha(r), S), iy + np.arange(S) * R + r]),
            np.ones(S * W + S),
            scenarios.demand[:, r],
            np.full(S, np.inf),
        )
    # (C6) Σ_r (γ_r,ij,w + γ_r,ji,w) ≤ 1  per link and wavelength; (C5) Σ_r Σ_w ... ≤ W per link
    c6_r, c6_c, c5_r = [], [], []
    for r in range(R):
        g = gamma(r)
        c6_r.append((arc_edge[:, None] * W + np.arange(W)[None, :]).ravel())
        c6_c.append(g.ravel())
        c5_r.append(np.repeat(arc_edge, W))
    cols = np.concatenate(c6_c)
    rows.add(np.concatenate(c6_r), cols, np.ones(cols.size), np.zeros(E * W), np.ones(E * W))
    rows.add(np.concatenate(c5_r), cols, np.ones(cols.size), np.zeros(E), np.full(E, float(W)))

    t0 = time.perf_counter()
    res = milp(
        c,
        constraints=rows.constraint(n_vars),
        integrality=integrality,
        bounds=Bounds(np.zeros(n_vars), ub),
        options={"mip_rel_gap": mip_rel_gap, "disp": False},
    )
    seconds = time.perf_counter() - t0
    if res.x is None:
        raise QrateError(f"HiGHS found no solution for the arc model: {res.message}")
    x = np.array([round(res.x[alpha(r)].sum()) for r in range(R)])
    return float(res.fun), x, seconds
