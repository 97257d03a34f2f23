"""Path-based two-stage stochastic program (sample-average / exact-expectation extensive form),
solved as one MILP with ``scipy.optimize.milp`` (HiGHS); see "Two-stage stochastic program" in qrate/MODELS.md.

Variables: u_p ∈ {0,1} (column p = app r on candidate path k chosen, C3), the fiber services on it
(``none``/``aggregate``: n_p ∈ {0..X_max}; ``exact``: z_p,w ∈ {0,1} per wavelength w, C2/C4/C6) and the
on-demand demand units y_s,r ≥ 0 (continuous: the recourse LP is integral for integer data).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from qrate.errors import InputError, QrateError
from qrate.provision.evaluate import CostBreakdown, FirstStage, evaluate
from qrate.provision.instance import Scenarios
from qrate.provision.problem import WL_MODES, Problem

MAX_EXACT_BINARIES = 200_000


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """Solver switches: wavelength mode ("Wavelength constraints" in qrate/MODELS.md), wavelengths per link, HiGHS tolerances."""

    wl_mode: str = "none"
    n_wavelengths: int | None = None
    mip_rel_gap: float = 1e-7
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.wl_mode not in WL_MODES:
            raise InputError("--wl-mode", f"expected one of {WL_MODES}, got {self.wl_mode!r}")
        if self.wl_mode != "none" and (self.n_wavelengths is None or self.n_wavelengths < 1):
            raise InputError("--wavelengths", f"wl_mode {self.wl_mode!r} needs a number of wavelengths >= 1")


@dataclass(frozen=True, slots=True)
class Solution:
    """An optimal first stage, its objective (= in-sample cost) and solver statistics."""

    first: FirstStage
    costs: CostBreakdown
    objective: float
    solve_seconds: float
    n_vars: int
    n_integer: int
    n_rows: int


class _Rows:
    """Accumulates sparse constraint rows lo ≤ A x ≤ hi."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.r.append(np.asarray(rows) + self.n)
        self.c.append(np.asarray(cols))
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.n += len(lo)

    def constraint(self, n_vars: int) -> LinearConstraint:
        a = sp.csr_array((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.n, n_vars))
        return LinearConstraint(a, np.concatenate(self.lo), np.concatenate(self.hi))


def solve_sp(problem: Problem, scenarios: Scenarios, options: ModelOptions = ModelOptions()) -> Solution:
    """Minimise Σ c^R·services + Σ_s,r w_sr c^O_r y_sr over the path-based model."""
    R, P, S = problem.n_apps, problem.n_cols, scenarios.n_points
    if scenarios.demand.shape != (S, R):
        raise InputError("scenarios", f"demand has shape {scenarios.demand.shape}, expected (S, {R})")
    X = problem.x_max
    exact = options.wl_mode == "exact"
    W = int(options.n_wavelengths or 0)
    if exact and P * W > MAX_EXACT_BINARIES:
        raise InputError(
            "--wavelengths",
            f"exact assignment needs {P * W} binaries (> {MAX_EXACT_BINARIES}); use --wl-mode aggregate or fewer apps/paths/wavelengths",
        )
    n_srv = P * W if exact else P  # service variables: z_{p,w} (p-major) or n_p
    iu, isv, iy = 0, P, P + n_srv  # offsets of u, services, y
    n_vars = P + n_srv + S * R
    srv_col = np.repeat(np.arange(P), W) if exact else np.arange(P)  # column of each service variable

    c = np.zeros(n_vars)
    c[isv : isv + n_srv] = problem.col_cost[srv_col]
    c[iy:] = (scenarios.weight * problem.od_cost[None, :]).ravel()  # y index s*R + r
    integrality = np.zeros(n_vars)
    integrality[: P + n_srv] = 1
    ub = np.full(n_vars, np.inf)
    ub[:P] = 1
    ub[isv : isv + n_srv] = 1 if exact else X

    rows = _Rows()
    # (C3) path uniqueness: Σ_k u_rk ≤ 1
    rows.add(problem.col_app, iu + np.arange(P), np.ones(P), np.zeros(R), np.ones(R))
    # (C2) services only on the chosen path: Σ_w z_pw − X u_p ≤ 0  (n_p − X u_p ≤ 0)
    rows.add(
        np.concatenate([srv_col, np.arange(P)]),
        np.concatenate([isv + np.arange(n_srv), iu + np.arange(P)]),
        np.concatenate([np.ones(n_srv), np.full(P, -float(X))]),
        np.full(P, -np.inf),
        np.zeros(P),
    )
    # recourse: Σ_p a_p·services_p + y_sr ≥ D_sr
    app_of_srv = problem.col_app[srv_col]
    a_srv = problem.col_delivery[srv_col]
    s_idx = np.repeat(np.arange(S), n_srv)
    rows.add(
        np.concatenate([s_idx * R + np.tile(app_of_srv, S), np.arange(S * R)]),
        np.concatenate([isv + np.tile(np.arange(n_srv), S), iy + np.arange(S * R)]),
        np.concatenate([np.tile(a_srv, S), np.ones(S * R)]),
        scenarios.demand.ravel(),
        np.full(S * R, np.inf),
    )
    incidence = problem.edge_col_incidence()
    if options.wl_mode == "aggregate":  # Σ_{p ∋ e} n_p ≤ W   (relaxation of C5/C6)
        er = np.concatenate([np.full(cols.size, e) for e, cols in enumerate(incidence)])
        ec = np.concatenate(incidence)
        rows.add(er, isv + ec, np.ones(ec.size), np.zeros(problem.n_edges), np.full(problem.n_edges, float(W)))
    elif exact:  # (C6) Σ_{p ∋ e} z_{p,w} ≤ 1  ∀ e, w   (C5 implied)
        er = np.concatenate([np.repeat(e * W + np.arange(W), cols.size) for e, cols in enumerate(incidence)])
        ec = np.concatenate([(np.tile(cols, W) * W + np.repeat(np.arange(W), cols.size)) for cols in incidence])
        m = problem.n_edges * W
        rows.add(er, isv + ec, np.ones(ec.size), np.zeros(m), np.ones(m))

    opts: dict[str, float | bool] = {"mip_rel_gap": options.mip_rel_gap, "disp": False}
    if options.time_limit_s is not None:
        opts["time_limit"] = options.time_limit_s
    t0 = time.perf_counter()
    res = milp(c, constraints=rows.constraint(n_vars), integrality=integrality, bounds=Bounds(np.zeros(n_vars), ub), options=opts)
    seconds = time.perf_counter() - t0
    if res.x is None:
        raise QrateError(f"HiGHS found no solution: {res.message}")
    first = _first_stage(problem, res.x[isv : isv + n_srv], srv_col, W if exact else 0)
    return Solution(first, evaluate(problem, first, scenarios), float(res.fun), seconds, n_vars, int(integrality.sum()), rows.n)


def _first_stage(problem: Problem, srv: np.ndarray, srv_col: np.ndarray, W: int) -> FirstStage:
    srv = np.rint(srv).astype(int)
    per_col = np.bincount(srv_col, weights=srv, minlength=problem.n_cols).astype(int)
    x = np.bincount(problem.col_app, weights=per_col, minlength=problem.n_apps).astype(int)
    column = np.full(problem.n_apps, -1)
    for p in np.flatnonzero(per_col):
        column[problem.col_app[p]] = p
    wavelengths = None
    if W:
        z = srv.reshape(problem.n_cols, W)
        wavelengths = tuple(
            tuple(int(w) for w in np.flatnonzero(z[column[r]])) if column[r] >= 0 else () for r in range(problem.n_apps)
        )
    return FirstStage(x, column, wavelengths)
