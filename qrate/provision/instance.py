"""Applications (endpoints, types) and demand scenarios.

Demand is per application: D_r(ω) ~ Poisson(λ_r) i.i.d. over apps and scenarios, with
λ_r = (|Ω|/3)·scale[type] (the type scales default to 1, i.e. types are labels; see "Applications and demand
scenarios" in qrate/MODELS.md).

A :class:`Scenarios` holds per-app demand points and their weights, shape (S, R) each, every column of
``weight`` summing to 1. Because the recourse is uncapacitated it is separable per app, so only the
marginals matter: sampled scenarios share one weight 1/S; the *exact* expectation uses, per app, the
points 0..X_max with their Poisson probabilities plus one tail point E[D | D > X_max] (exact because
(D − x)^+ = D − x on the tail when x ≤ X_max).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import networkx as nx
import numpy as np
from scipy import stats

from qrate.errors import InputError

APP_TYPES = ("avatar", "digital_twin", "ai_model")
TYPE_CYCLE = (1, 4, 5)  # 20/80/100 of 200
EXPECTATIONS = ("sampled", "exact")


@dataclass(frozen=True, slots=True)
class Application:
    """One Metaverse application: a QKD demand between ``src`` and ``dst`` (node ids)."""

    index: int
    src: int
    dst: int
    kind: str


@dataclass(frozen=True, slots=True)
class Scenarios:
    """Per-app demand points ``demand`` (S, R) (services) and probabilities ``weight`` (S, R)."""

    demand: np.ndarray
    weight: np.ndarray

    @property
    def n_points(self) -> int:
        return int(self.demand.shape[0])

    def mean(self) -> np.ndarray:
        """Expected demand per app (services)."""
        return (self.demand * self.weight).sum(axis=0)


def app_kinds(n_apps: int) -> list[str]:
    """Type labels in the ratio 1:4:5 (avatar, digital twin, AI model; 20/80/100 of 200), rounded."""
    counts = [round(n_apps * c / sum(TYPE_CYCLE)) for c in TYPE_CYCLE]
    counts[-1] = n_apps - sum(counts[:-1])
    return [kind for kind, c in zip(APP_TYPES, counts) for _ in range(c)]


def max_random_apps(graph: nx.Graph) -> int:
    """Largest number of random apps: distinct ordered pairs s ≠ d."""
    n = graph.number_of_nodes()
    return n * (n - 1)


def random_applications(graph: nx.Graph, n_apps: int, rng: np.random.Generator) -> tuple[Application, ...]:
    """``n_apps`` seeded random distinct ordered pairs s ≠ d (see "Applications and demand scenarios" in qrate/MODELS.md)."""
    limit = max_random_apps(graph)
    if n_apps < 1:
        raise InputError("--apps", f"expected at least 1 application, got {n_apps}")
    if n_apps > limit:
        raise InputError("--apps", f"at most {limit} applications (distinct ordered node pairs), got {n_apps}")
    nodes = sorted(graph.nodes)
    pairs = [(s, d) for s in nodes for d in nodes if s != d]
    pick = rng.choice(len(pairs), size=n_apps, replace=False)
    kinds = app_kinds(n_apps)
    return tuple(Application(i, pairs[p][0], pairs[p][1], kinds[i]) for i, p in enumerate(pick))


def all_pairs_applications(graph: nx.Graph) -> tuple[Application, ...]:
    """One app per unordered node pair (276 on USNET), RNG-free."""
    pairs = list(combinations(sorted(graph.nodes), 2))
    kinds = app_kinds(len(pairs))
    return tuple(Application(i, s, d, kinds[i]) for i, (s, d) in enumerate(pairs))


def demand_means(apps: tuple[Application, ...], mean: float, type_scale: dict[str, float] | None = None) -> np.ndarray:
    """λ_r = mean · type_scale[kind] (scales default 1: the types are labels)."""
    scale = type_scale or {}
    bad = set(scale) - set(APP_TYPES)
    if bad:
        raise InputError("type_scale", f"unknown application types {sorted(bad)}; expected {APP_TYPES}")
    lam = np.array([mean * scale.get(a.kind, 1.0) for a in apps], dtype=float)
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise InputError("demand_mean", "demand means must be finite and >= 0")
    return lam


def sampled_scenarios(lam: np.ndarray, n_scenarios: int, rng: np.random.Generator) -> Scenarios:
    """``n_scenarios`` equiprobable joint scenarios, D ~ Poisson(λ_r)."""
    if n_scenarios < 1:
        raise InputError("--scenarios", f"expected at least 1 scenario, got {n_scenarios}")
    demand = rng.poisson(lam, size=(n_scenarios, lam.size)).astype(float)
    return Scenarios(demand, np.full(demand.shape, 1.0 / n_scenarios))


def exact_scenarios(lam: np.ndarray, x_max: int) -> Scenarios:
    """Poisson marginals as points 0..x_max plus the tail point E[D | D > x_max] (exact for x ≤ x_max)."""
    k = np.arange(x_max + 1, dtype=float)
    pmf = stats.poisson.pmf(k[:, None], lam[None, :])
    tail_p = stats.poisson.sf(x_max, lam)  # P(D > x_max)
    tail_mass = lam * stats.poisson.sf(x_max - 1, lam)  # E[D; D > x_max] = λ P(D ≥ x_max)
    with np.errstate(invalid="ignore", divide="ignore"):
        tail_v = np.where(tail_p > 0, tail_mass / np.where(tail_p > 0, tail_p, 1.0), x_max + 1.0)
    demand = np.vstack([np.repeat(k[:, None], lam.size, axis=1), tail_v[None, :]])
    weight = np.vstack([pmf, tail_p[None, :]])
    return Scenarios(demand, weight / weight.sum(axis=0, keepdims=True))


def expected_value_scenario(mean: np.ndarray) -> Scenarios:
    """One scenario at ⌈mean⌉ (services are integers, so x + y ≥ D̄ ⇔ x + y ≥ ⌈D̄⌉; see "QBN-EVF and QBN-Random baselines" in
    qrate/MODELS.md)."""
    d = np.ceil(np.asarray(mean, dtype=float) - 1e-9)[None, :]
    return Scenarios(d, np.ones_like(d))
