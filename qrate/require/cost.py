"""The cheapest hardware that meets a target: several fields at once under one cost.

Cost (Ferreira da Silva et al., "Optimizing entanglement generation and distribution using genetic
algorithms", Quantum Sci. Technol. 6, 035007 (2021), the "minimum viable quantum repeater" cost)::

    C = Σ_i ln p_i_base / ln p_i

with p_i each parameter's *probability of no error*: an efficiency or success probability is its own
p; an error probability e (dark counts per gate, a Bell-state error, a readout flip, a dephasing
probability) gives p = 1 − e; a coherence time T (seconds) gives p = exp(−1/T). So ln p_base / ln p is
the factor by which the parameter's "error" −ln p shrinks: improving any parameter tenfold costs the
same, wherever it starts, and the scenario as given costs one per parameter.

The search runs :func:`scipy.optimize.minimize` (SLSQP) over y_i = ln(−ln p_i), bounded, with the
target as an inequality constraint on expected values (minimising ln C, the same minimum, better
scaled); it starts from the cheapest *uniform* improvement of every parameter that meets the target
(:func:`scipy.optimize.brentq`), and the request is answered as unreachable when even the all-best
corner of the ranges misses the target. The answer is confirmed by Monte Carlo.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qrate.errors import InputError
from qrate.require.evaluate import Evaluator, field_value
from qrate.require.request import Target
from qrate.require.search import check_estimate, estimate_of

DEFAULT_IMPROVEMENT = 1000.0
"""Default range of each parameter: its error −ln p from 10 times worse to this many times better."""

#: field name pattern -> (kind, what it is); kinds: "efficiency" (p = v), "error" (p = 1 − v), "time" (p = exp(−1/v))
COSTED: tuple[tuple[str, str], ...] = (
    (r"(^|_)efficiency$|success_probability$|^coupling$|visibility$|fidelity$|^t_atm_zenith$", "efficiency"),
    (r"(^|_)error$|_probability$|readout_flip$", "error"),
    (r"coherence_time_s$", "time"),
)


def kind_of(name: str) -> str | None:
    """The cost kind of a field (by its last dotted part), or None if it has no probability of no error.

    A coherence time is costed only for a memory (``memories.<node>.coherence_time_s``): a link's
    ``coherence_time_s`` is the atmosphere's, not hardware.
    """
    leaf = name.rsplit(".", 1)[-1]
    for pattern, kind in COSTED:
        if re.search(pattern, leaf):
            if kind == "time" and not name.startswith("memories."):
                return None
            return kind
    return None


def error_of(kind: str, value: float) -> float:
    """−ln p of a parameter value (its "error"; 0 for a perfect one)."""
    if kind == "efficiency":
        return -math.log(value) if value > 0 else math.inf
    if kind == "error":
        return -math.log1p(-value) if value < 1 else math.inf
    return 1.0 / value if value > 0 else math.inf


def value_of(kind: str, err: float) -> float:
    """The parameter value with error ``err`` = −ln p (inverse of :func:`error_of`)."""
    if kind == "efficiency":
        return math.exp(-err)
    if kind == "error":
        return -math.expm1(-err)
    return 1.0 / err


@dataclass(frozen=True)
class CostField:
    """One costed field: its kind and (optional) value range from ``FIELD=LO:HI``."""

    field: str
    kind: str
    lo: float | None = None
    hi: float | None = None


def parse_cost_fields(specs: Sequence[str]) -> list[CostField]:
    """Parse ``FIELD`` or ``FIELD=LO:HI`` items (InputError naming ``--minimise-cost``)."""
    out: list[CostField] = []
    for text in specs:
        name, sep, rng = text.partition("=")
        name = name.strip()
        kind = kind_of(name)
        if kind is None:
            raise InputError(
                "--minimise-cost",
                f"{name} has no probability of no error to cost; costed fields are efficiencies, success probabilities,"
                " error probabilities and coherence times",
            )
        lo = hi = None
        if sep:
            a, colon, b = rng.partition(":")
            try:
                lo, hi = float(a), float(b)
            except ValueError:
                raise InputError("--minimise-cost", f"expected FIELD=LO:HI, got {text!r}") from None
            if not (colon and math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise InputError("--minimise-cost", f"expected FIELD=LO:HI with LO < HI, got {text!r}")
        if any(c.field == name for c in out):
            raise InputError("--minimise-cost", f"{name} given twice")
        out.append(CostField(name, kind, lo, hi))
    return out


@dataclass(frozen=True)
class CostResult:
    """The cheapest hardware found (``feasible`` False: the target is unreachable in the ranges)."""

    target: str
    feasible: bool
    values: dict[str, float]
    base: dict[str, float]
    cost: float
    terms: dict[str, float]
    estimate: float
    mc_estimate: float | None
    mc_stderr: float | None
    batches: int | None
    evaluations: int
    seconds: float
    message: str = ""
    best_corner: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (nan as None)."""
        from dataclasses import asdict

        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}

    def lines(self) -> list[str]:
        """Human-readable lines."""
        from qrate.units import format_value

        if not self.feasible:
            return [
                f"{self.target}: unreachable within the ranges ({self.message}); with every field at its best"
                f" the expected value is {self.estimate:.6g}",
                *(f"  {k} = {format_value(k, v)}" for k, v in self.best_corner.items()),
                f"  {self.evaluations} expected-value evaluations, {self.seconds:.2f} s",
            ]
        out = [f"cheapest hardware for {self.target} (cost {self.cost:.4g}; the scenario as given costs {len(self.base)}):"]
        for k, v in self.values.items():
            out.append(f"  {k} = {format_value(k, v)}   (was {format_value(k, self.base[k])}; cost {self.terms[k]:.4g})")
        mc = ""
        if self.mc_estimate is not None:
            mc = f"; Monte Carlo ({self.batches} batches): {self.mc_estimate:.6g} ± {self.mc_stderr:.2g}"
        out.append(f"  {self.target.split()[0]} = {self.estimate:.6g} (expected){mc}")
        out.append(f"  {self.evaluations} expected-value evaluations, {self.seconds:.2f} s")
        return out


def minimise_cost(
    ev: Evaluator, fields: Sequence[CostField], target: Target, *, confirm: bool = True, batches: int | None = None
) -> CostResult:
    """Cheapest values of ``fields`` meeting ``target`` (module docstring)."""
    from scipy import optimize

    start = time.perf_counter()
    n0 = ev.evaluations
    base_vals: dict[str, float] = {}
    bounds: list[tuple[float, float]] = []
    y_base = []
    for f in fields:
        value = float(field_value(ev.base, f.field)[1])
        e0 = error_of(f.kind, value)
        if not (0 < e0 < math.inf):
            raise InputError("--minimise-cost", f"{f.field} = {value:g} has no error to improve (the cost needs 0 < p < 1)")
        base_vals[f.field] = value
        if f.lo is not None and f.hi is not None:
            ea, eb = sorted((error_of(f.kind, f.lo), error_of(f.kind, f.hi)))
            if not (ea > 0 and eb < math.inf):
                raise InputError("--minimise-cost", f"{f.field}: the range {f.lo:g}:{f.hi:g} includes a perfect or useless value")
        else:
            ea, eb = e0 / DEFAULT_IMPROVEMENT, e0 * 10
            if f.kind != "time":
                eb = min(eb, error_of(f.kind, 1e-12 if f.kind == "efficiency" else 1 - 1e-12))
        bounds.append((math.log(ea), math.log(eb)))
        y_base.append(math.log(e0))
    names = [f.field for f in fields]
    kinds = [f.kind for f in fields]
    sign = 1.0 if target.at_least else -1.0
    scale = abs(target.value) or 1.0

    def values(y: np.ndarray) -> dict[str, float]:
        return {n: value_of(k, math.exp(float(u))) for n, k, u in zip(names, kinds, y, strict=True)}

    cache: dict[tuple[float, ...], float] = {}

    def estimate(y: np.ndarray) -> float:
        key = tuple(float(u) for u in y)
        if key not in cache:
            cache[key] = estimate_of(ev.expected(values(y)), target.estimate)
        return cache[key]

    def margin(y: np.ndarray) -> float:
        v = estimate(y)
        return sign * (v - target.value) / scale if math.isfinite(v) else -1.0

    def cost(y: np.ndarray) -> float:
        return float(np.sum(np.exp(np.asarray(y_base) - y)))

    check_estimate(ev, values(np.asarray(y_base)), target)
    best = np.array([lo for lo, _ in bounds])
    if margin(best) < 0:
        return CostResult(
            str(target), False, {}, base_vals, math.nan, {}, estimate(best), None, None, None,
            ev.evaluations - n0, time.perf_counter() - start, "even the best corner misses it", values(best),
        )  # fmt: skip
    lows, highs = np.array([lo for lo, _ in bounds]), np.array([hi for _, hi in bounds])

    def uniform(t: float) -> np.ndarray:  # every error shrunk by the same factor e^t (clipped to the ranges)
        return np.clip(np.asarray(y_base) - t, lows, highs)

    t_best = float(np.max(np.asarray(y_base) - lows))
    t_worst = float(np.min(np.asarray(y_base) - highs))
    if margin(uniform(t_worst)) >= 0:
        t0 = t_worst
    else:  # the cheapest uniform improvement that meets the target: a feasible, well-placed start
        t0 = optimize.brentq(lambda t: margin(uniform(t)), t_worst, t_best, xtol=1e-4)
        for _ in range(60):
            if margin(uniform(t0)) >= 0:
                break
            t0 += 1e-4
    y0 = uniform(t0)
    res = optimize.minimize(
        lambda y: math.log(cost(y)),  # log of the cost: the same minimum, better scaled
        y0,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "ineq", "fun": margin}],
        options={"ftol": 1e-6, "maxiter": 200},
    )
    y = np.clip(res.x, lows, highs)
    if margin(y) < -1e-6 or cost(y) > cost(y0):  # the optimiser ended infeasible or worse: keep the start
        y = y0
    terms = {n: float(math.exp(b - u)) for n, b, u in zip(names, y_base, y, strict=True)}
    vals = values(y)
    mc = se = None
    n_b = None
    if confirm:
        est, s = ev.monte_carlo(vals, target.estimate, batches)
        mc, se, n_b = estimate_of(est, target.estimate), s, int(est.get("batches") or batches or 0)
    return CostResult(
        str(target), True, vals, base_vals, cost(y), terms, estimate(y), mc, se, n_b,
        ev.evaluations - n0, time.perf_counter() - start, str(res.message),
    )  # fmt: skip
