"""Monte Carlo estimates of planned points in this process, without a results file.

The same batches as ``qrate run`` (:func:`qrate.engine.batch.run_batch`, random streams from
``(seed, point key, batch index)``), run in order here: used to confirm a threshold found on
expected values and by the tests that compare expected values with sampled means.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qrate.engine.batch import run_batch
from qrate.engine.grid import counter_names
from qrate.engine.plan import PointPlan, compile_protocol
from qrate.estimates import estimate_point, pass_summary, pass_totals
from qrate.stats import to_row


def point_rows(
    plan: PointPlan, seed: int, batches: int, pulses_per_batch: int, names: Sequence[str] | None = None, scale: int = 1
) -> np.ndarray:
    """The batch table of ``batches`` batches at one point (its own pulses per batch if it has them, times ``scale``)."""
    compiled = compile_protocol(plan)
    names = tuple(names) if names is not None else counter_names([plan])
    pulses = (plan.pulses_per_batch or pulses_per_batch) * int(scale)
    return np.concatenate([to_row(run_batch(plan, compiled, seed, b, pulses), b, names) for b in range(batches)])


def mc_estimates(plan: PointPlan, seed: int, batches: int, pulses_per_batch: int) -> dict[str, Any]:
    """Estimates of one point from ``batches`` sampled batches."""
    rows = point_rows(plan, seed, batches, pulses_per_batch)
    return estimate_point(rows, plan.report(), extra={**plan.axes, "ground_distance_km": plan.ground_distance_km})


def mc_passes(
    plans: Sequence[PointPlan], seed: int, batches: int, pulses_per_batch: int, scale: int = 1
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-pass totals and summary of a pass run's steps, sampled (as ``qrate show`` computes them from a file).

    A step's batch holds its pulses per batch times ``scale`` (``scale`` = the scenario's batches: every
    batch is one whole pass, so the totals' standard errors shrink as 1/sqrt(batches)).
    """
    names = counter_names(plans)
    by_pass: dict[int, list[tuple[dict[str, Any], np.ndarray, float]]] = {}
    starts: dict[int, str] = {}
    window_days = 0.0
    report = plans[0].report() if plans else {}
    for plan in plans:
        rows = point_rows(plan, seed, batches, pulses_per_batch, names, scale)
        est = estimate_point(rows, plan.report(), extra=dict(plan.axes))
        i = int(plan.axes["pass"])
        by_pass.setdefault(i, []).append((est, rows, float(plan.extra["weight_s"])))
        starts[i] = str(plan.extra.get("pass_start_utc"))
        window_days = float(plan.extra.get("window_days", 0.0))
    passes = [{"pass": i, "start_utc": starts[i], **pass_totals(steps, report)} for i, steps in sorted(by_pass.items())]
    return passes, (pass_summary(passes, window_days) if passes else {})


def jackknife_se(rows: np.ndarray, report: Any, key: str) -> float:
    """Jackknife standard error over batches of the estimate ``key`` computed from the pooled rows.

    Works for any estimate that is a smooth function of the pooled counters (rates, QBERs, the finite
    key, worst-case rates); nan with fewer than 2 batches or where an estimate is undefined.
    """
    n = rows.size
    if n < 2:
        return float("nan")
    values = []
    for i in range(n):
        v = estimate_point(np.delete(rows, i), report).get(key)
        if v is None:
            return float("nan")
        values.append(float(v))
    arr = np.asarray(values)
    return float(np.sqrt((n - 1) / n * np.sum((arr - arr.mean()) ** 2)))


def standard_error(est: dict[str, Any], key: str, rows: np.ndarray | None = None, report: Any = None) -> float:
    """Standard error of estimate ``key``: its declared one (``*_stderr``, ``*_sem_*``), else its 95 %
    interval's half-width over 1.96 (a proportion's binomial error), else its spread across batches
    over sqrt(batches), else the batch jackknife from ``rows`` (when given), else nan."""
    from scipy import stats

    from qrate.estimates import CONFIDENCE, quantities

    q = next((q for q in quantities(report) if q.key == key), None) if report is not None else None
    for name in (key + "_stderr", q.sem if q else None):
        if name and est.get(name) is not None:
            return float(est[name])
    if q is not None and q.ci is not None and est.get(q.ci[0]) is not None and est.get(q.ci[1]) is not None:
        z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
        return (float(est[q.ci[1]]) - float(est[q.ci[0]])) / (2 * z)
    if q is not None and q.std is not None and est.get(q.std) is not None and int(est.get("batches") or 0) > 1:
        return float(est[q.std]) / float(np.sqrt(int(est["batches"])))
    if rows is not None and report is not None:
        return jackknife_se(rows, report, key)
    return float("nan")
