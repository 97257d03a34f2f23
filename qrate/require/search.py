"""The threshold of one field at which an estimate reaches a target, with its confidence interval.

1. **Scan** the range at ``SCAN_POINTS`` values (evenly, or geometrically with ``log``) on expected
   values (:mod:`qrate.require.expected`): where the target's "met" changes between neighbours
   there is a crossing; a response whose differences change sign is reported as non-monotone.
2. **Bisect** each crossing with :func:`scipy.optimize.brentq` on ``estimate(x) − target`` (in
   ``log x`` with ``log``) to the relative precision asked (an estimate undefined at one end, e.g. a
   QBER with no heralded state, is bisected on "met" instead).
3. **Confirm** each threshold x* by Monte Carlo: the scenario's batches at x* give the estimate Ê
   and its standard error s (declared, else the batch jackknife); with the local slope g' of the
   expected response (central difference), the sampled threshold is x* + (target − Ê)/g' and its
   interval ± z s/|g'| (z for ``CONFIDENCE``): the delta method on the crossing of the sampled
   response, which shrinks as 1/sqrt(batches). With ``log`` the same holds in u = log x (slope
   x* g'), so the threshold and its interval stay positive: exp(log x* + (target − Ê)/(x* g') ± z s/|x* g'|).

No crossing: the target is met over the whole range (the threshold lies outside it), or it is
unreachable, and the best value in the range is refined with
:func:`scipy.optimize.minimize_scalar` around the best scanned value. See "Requirement search" in
qrate/MODELS.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np

from qrate.errors import InputError
from qrate.estimates import CONFIDENCE
from qrate.require.evaluate import Evaluator
from qrate.require.request import Target, Vary

SCAN_POINTS = 25
"""Expected-value evaluations of the initial scan of the range."""
DEFAULT_PRECISION = 1e-3
"""Relative precision of a threshold (in the field's value)."""


@dataclass(frozen=True)
class Confirmation:
    """Monte Carlo at a threshold: the estimate and its standard error, and the threshold's interval."""

    estimate: float
    stderr: float
    batches: int
    threshold: float
    low: float
    high: float
    confidence: float = CONFIDENCE


@dataclass(frozen=True)
class Crossing:
    """One value of the field at which the estimate crosses the target.

    ``met_above``: the target is met just above the threshold (else just below). ``slope``: d estimate /
    d field at the threshold, on expected values.
    """

    threshold: float
    met_above: bool
    slope: float
    confirmation: Confirmation | None = None


@dataclass(frozen=True)
class Requirement:
    """The answer to one request (see the module docstring).

    ``status``: ``found`` (crossings), ``met_everywhere`` (met at every scanned value) or
    ``unreachable`` (met at none); ``best_value`` / ``best_at``: the estimate's best expected value
    in the range and where.
    """

    field: str
    target: str
    lo: float
    hi: float
    log: bool
    precision: float
    status: str
    crossings: tuple[Crossing, ...]
    monotone: bool
    best_value: float
    best_at: float
    evaluations: int
    seconds: float
    scan: dict[str, list[float]] = dataclass_field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (nan as None)."""
        return _clean(asdict(self))


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def estimate_of(est: Mapping[str, Any], key: str) -> float:
    """The value of ``key`` in an estimates dict (nan where undefined)."""
    v = est.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan


def check_estimate(ev: Evaluator, values: Mapping[str, float], target: Target) -> dict[str, Any]:
    """Expected estimates at ``values``; InputError naming ``--target`` if the estimate is not reported."""
    est = ev.expected(values)
    if target.estimate not in est or isinstance(est.get(target.estimate), dict | str | bool):
        have = sorted(
            k for k, v in est.items() if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith("_stderr")
        )
        raise InputError("--target", f"{target.estimate!r} is not an estimate of this scenario; choose one of {', '.join(have)}")
    return est


def _try(ev: Evaluator, values: Mapping[str, float], target: Target) -> dict[str, Any] | None:
    """:func:`check_estimate`, or None where no point exists at ``values`` (an unknown estimate still raises)."""
    try:
        return check_estimate(ev, values, target)
    except InputError as exc:
        if exc.field == "--target":
            raise
        return None


def find_threshold(
    ev: Evaluator,
    vary: Vary,
    target: Target,
    *,
    precision: float = DEFAULT_PRECISION,
    confirm: bool = True,
    batches: int | None = None,
    fixed: Mapping[str, float] | None = None,
    scan_points: int = SCAN_POINTS,
) -> Requirement:
    """Search ``vary``'s range for where ``target`` is met (module docstring); ``fixed``: other fields' values;
    ``scan_points``: values of the initial scan (crossings closer together than its spacing can be missed)."""
    from scipy import optimize

    start = time.perf_counter()
    fixed = dict(fixed or {})
    n0 = ev.evaluations
    to_u: Callable[[float], float] = math.log if vary.log else float
    to_x: Callable[[float], float] = math.exp if vary.log else float

    def g(x: float) -> float:
        try:
            return estimate_of(ev.expected({vary.field: x, **fixed}), target.estimate)
        except InputError:  # a value the scenario accepts but no point exists at (a platform below the horizon)
            return math.nan

    xs = vary.scan(max(int(scan_points), 3))
    for end in (vary.lo, vary.hi):  # both ends must be values the field accepts (one line, exit 2, if not)
        ev.scenario_at({vary.field: end, **fixed})
    est = next((e for e in (_try(ev, {vary.field: x, **fixed}, target) for x in xs) if e is not None), None)
    if est is None:
        check_estimate(ev, {vary.field: xs[0], **fixed}, target)  # raises the reason of the first value
    ys = [g(x) for x in xs]
    met = [target.met(y) for y in ys]
    finite = [y for y in ys if math.isfinite(y)]
    diffs = np.diff([y for y in ys if math.isfinite(y)])
    scale = max((abs(y) for y in finite), default=0.0)
    steps = np.sign(diffs[np.abs(diffs) > 1e-9 * scale]) if scale > 0 else np.zeros(0)
    monotone = bool(steps.size == 0 or np.all(steps == steps[0]))

    crossings: list[Crossing] = []
    for i in range(len(xs) - 1):
        if met[i] == met[i + 1]:
            continue
        a, b = to_u(xs[i]), to_u(xs[i + 1])
        ya, yb = ys[i], ys[i + 1]
        tol = precision / 4
        if math.isfinite(ya) and math.isfinite(yb) and ya != target.value and yb != target.value:
            u = optimize.brentq(
                lambda u: g(to_x(u)) - target.value, a, b, xtol=tol if vary.log else tol * 1e-6, rtol=max(tol, 4e-16)
            )
        else:  # bisection on "met" (an end where the estimate is undefined or exactly at the target)
            lo_met = met[i]
            while abs(b - a) > (tol if vary.log else tol * max(abs(to_x(a)), abs(to_x(b)), 1e-300)):
                m = 0.5 * (a + b)
                if target.met(g(to_x(m))) == lo_met:
                    a = m
                else:
                    b = m
            u = 0.5 * (a + b)
        x = to_x(u)
        crossings.append(Crossing(x, met_above=met[i + 1], slope=_slope(g, x, vary, precision)))

    if crossings:
        status = "found"
    elif all(met):
        status = "met_everywhere"
    else:
        status = "unreachable"
    best_at, best_value = _best(g, xs, ys, vary, target, precision)
    if confirm and crossings:
        crossings = [
            Crossing(c.threshold, c.met_above, c.slope, _confirm(ev, vary, target, c, batches, fixed)) for c in crossings
        ]
    return Requirement(
        field=vary.field,
        target=str(target),
        lo=vary.lo,
        hi=vary.hi,
        log=vary.log,
        precision=precision,
        status=status,
        crossings=tuple(crossings),
        monotone=monotone,
        best_value=best_value,
        best_at=best_at,
        evaluations=ev.evaluations - n0,
        seconds=time.perf_counter() - start,
        scan={"x": xs, "estimate": ys},
    )


def _slope(g: Callable[[float], float], x: float, vary: Vary, precision: float) -> float:
    """d g / d x at ``x`` by a central difference (a relative step of 10 × precision, kept in range)."""
    h = 10 * precision * (x if vary.log else max(abs(x), (vary.hi - vary.lo) * 1e-3))
    a, b = max(vary.lo, x - h), min(vary.hi, x + h)
    return (g(b) - g(a)) / (b - a) if b > a else math.nan


def _best(
    g: Callable[[float], float], xs: list[float], ys: list[float], vary: Vary, target: Target, precision: float
) -> tuple[float, float]:
    """Where the estimate is best (largest for ``>=``, smallest for ``<=``) in the range, refined."""
    from scipy import optimize

    sign = -1.0 if target.at_least else 1.0
    score = [sign * y if math.isfinite(y) else math.inf for y in ys]
    i = int(np.argmin(score))
    if not math.isfinite(score[i]):
        return math.nan, math.nan
    lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
    if 0 < i < len(xs) - 1:
        to_u = math.log if vary.log else float
        to_x = math.exp if vary.log else float

        def f(u: float) -> float:
            y = g(to_x(u))
            return sign * y if math.isfinite(y) else math.inf

        res = optimize.minimize_scalar(f, bounds=(to_u(lo), to_u(hi)), method="bounded", options={"xatol": precision})
        if res.fun < score[i]:
            return to_x(float(res.x)), sign * float(res.fun)
    return xs[i], ys[i]


def _confirm(
    ev: Evaluator, vary: Vary, target: Target, c: Crossing, batches: int | None, fixed: Mapping[str, float]
) -> Confirmation:
    """Monte Carlo at the threshold and the delta-method interval of the threshold (module docstring)."""
    from scipy import stats

    est, se = ev.monte_carlo({vary.field: c.threshold, **fixed}, target.estimate, batches)
    value = estimate_of(est, target.estimate)
    n = int(est.get("batches") or batches or 0)
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    if not (math.isfinite(c.slope) and c.slope != 0 and math.isfinite(value)):
        return Confirmation(value, se, n, math.nan, math.nan, math.nan)
    if vary.log:  # the delta method in u = log x, as searched: a positive threshold and interval
        slope_u = c.slope * c.threshold  # d estimate / d log x
        u = math.log(c.threshold) + (target.value - value) / slope_u
        half = z * se / abs(slope_u) if math.isfinite(se) else math.nan
        return Confirmation(value, se, n, math.exp(u), math.exp(u - half), math.exp(u + half))
    x = c.threshold + (target.value - value) / c.slope
    half = z * se / abs(c.slope) if math.isfinite(se) else math.nan
    return Confirmation(value, se, n, x, x - half, x + half)
