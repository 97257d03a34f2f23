"""Counters -> estimates with error bars, driven by the protocol's report stored in the results file.

Every protocol module declares its report (:class:`qrate.protocols.estimator.Report`): which
estimator classes (:class:`qrate.protocols.estimator.Estimator`, one kind each, defined in the
protocol's own module) read which counters. The report is written into every results file as
JSON when the file is created, so this module turns a file's batch rows into estimates using only
the file: the heralding statistics common to every protocol, then each estimator of the report.
The shared statistics (Clopper–Pearson, spreads, entropies, the finite-key bound, pass
integrals) are in :mod:`qrate.formulas`.

Conventions: rates are in bit/s (per second of source operation at ``repetition_rate_hz``);
``*_std_bps`` is the 1σ spread across batches of the per-batch rates (as in Khan et al.'s figures),
``*_sem_bps`` its standard error of the mean; ``*_ci_low/high`` are 95 % Clopper–Pearson
intervals; ``*_stderr`` is a standard error. ``None`` stands for "not applicable / unknown".

Small and noisy counts: ``successes_expected`` is the planned mean count of a point (where the
file stores it), so a point whose expected count is below one is read as an expectation with the
upper end of ``p_success``'s interval, not as "0 ± 0"; ``noise_herald_fraction`` (stored by the
engine) is the expected fraction of heralds made by noise clicks (dark counts, background).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qrate.formulas import (
    CONFIDENCE,
    Step,
    binary_entropy,
    count_value,
    error_entropy,
    finite_key_length_bits,
    integrate,
    moment_se,
    poisson_upper,
    proportion,
    secret_fraction,
    spread,
    step_stderr,
)
from qrate.longterm import long_term_summary as pass_summary
from qrate.protocols.estimator import HERALDING, Batches, Estimator, Quantity, Report, RunningSummary, Summary
from qrate.stats import COUNTER_PREFIX

__all__ = [
    "CONFIDENCE",
    "HERALDING",
    "NOISE_DOMINATED",
    "Quantity",
    "binary_entropy",
    "error_entropy",
    "estimate_point",
    "estimate_summary",
    "finite_key_length_bits",
    "inconsistency",
    "pass_summary",
    "pass_totals",
    "proportion",
    "quantities",
    "quantity",
    "running_summary",
    "secret_fraction",
    "show_quantities",
    "spread",
]

NOISE_DOMINATED = 0.5
"""A point is flagged as noise-dominated when more than this fraction of its heralds are expected from noise."""

ReportLike = Mapping[str, Any] | Report


def _report(report: ReportLike) -> Report:
    return report if isinstance(report, Report) else Report.from_json(report)


def _estimators(report: ReportLike) -> tuple[Estimator, ...]:
    return _report(report).estimators


def quantities(report: ReportLike) -> tuple[Quantity, ...]:
    """Every quantity a point of this report has: heralding first, then the protocol's."""
    return HERALDING + tuple(show_quantities(report))


def show_quantities(report: ReportLike) -> Sequence[Quantity]:
    """Quantities printed by ``qrate show`` after the heralding columns."""
    return tuple(q for e in _estimators(report) for q in e.quantities)


def quantity(report: ReportLike, y: str) -> Quantity:
    """The quantity plotted as ``--y y`` (ValueError naming the choices if there is none)."""
    for q in quantities(report):
        if q.y == y:
            return q
    have = [q.y for q in quantities(report) if q.y]
    name = report.protocol if isinstance(report, Report) else report.get("protocol")
    raise ValueError(f"{y} is not reported for protocol {name!r}; choose one of {', '.join(have)}")


def inconsistency(report: ReportLike, rows: np.ndarray) -> str | None:
    """A one-line description of the first batch whose counters contradict the report's roles, or None."""
    b = Batches(rows, 1.0)
    for e in _estimators(report):
        for part, whole in e.limits():
            bad = np.flatnonzero(b.count(part) > b.count(whole))
            if bad.size:
                i = int(rows["batch_index"][bad[0]])
                return f"batch {i} counts more {part!r} than {whole!r}"
    return None


class _Heralding:
    """The heralding statistics' per-batch values: success probability and heralded rate."""

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        p = b.p_batches
        return {"p": p, "rate": b.rate_hz * p}


HERALDS = _Heralding()
"""The source of the heralding statistics' spreads (first of every :class:`~qrate.protocols.estimator.RunningSummary`)."""


def _heralding(b: Summary) -> dict[str, Any]:
    s = b.sums
    exact = isinstance(s["successes"], int | np.integer)  # else expected (real) counts
    pulses, successes = b.pulses, count_value(s["successes"])
    eta_count, eta_sum, eta_sumsq = int(s["eta_count"]), float(s["eta_sum"]), float(s["eta_sumsq"])
    names = [f[len(COUNTER_PREFIX) :] for f in s if f.startswith(COUNTER_PREFIX)]
    counts = {n: int(s[COUNTER_PREFIX + n]) if exact else b.total(n) for n in names}
    p, p_lo, p_hi = proportion(successes, pulses)
    binom_se = math.sqrt(max(p * (1 - p), 0.0) / pulses)
    spreads = b.spreads(HERALDS)
    _, p_sem = spreads["p"]
    if b.batches >= 2 and math.isfinite(p_sem):
        from scipy import stats

        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, b.batches - 1)) * p_sem
        p_lo, p_hi = min(p_lo, max(p - half, 0.0)), max(p_hi, min(p + half, 1.0))
    rate_std, rate_sem = spreads["rate"]
    return {
        "batches": b.batches,
        "pulses": pulses,
        "successes": successes,
        "p_success": p,
        # never below the binomial floor: few batches can scatter less than chance allows
        "p_success_stderr": max(p_sem, binom_se) if math.isfinite(p_sem) else binom_se,
        "p_success_binomial_stderr": binom_se,
        "p_success_ci_low": p_lo,
        "p_success_ci_high": p_hi,
        "rate_bps": b.rate_hz * p,
        "rate_std_bps": rate_std,
        "rate_sem_bps": rate_sem,
        "mean_eta_free_space": eta_sum / eta_count if eta_count else math.nan,
        "mean_eta_free_space_stderr": moment_se(eta_count, eta_sum, eta_sumsq),
        "counts": counts,
        "seconds": float(s["seconds"]),
    }


def _context(report: Mapping[str, Any], typed: Report) -> tuple[float, int, float | None, str]:
    """``(rate_hz, carriers_per_use, key_block_s, finite_key)`` of a report's points."""
    block = report.get("key_block_s")
    return (
        float(report["repetition_rate_hz"]),
        typed.carriers_per_use,
        float(block) if block else None,
        str(report.get("finite_key", "grasselli2018")),
    )


def estimate_point(rows: np.ndarray, report: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Estimates of one point (JSON-able; ``None`` where not applicable) from its batch rows.

    Args:
        rows: the point's batch table (:func:`qrate.stats.batch_dtype`), at least one row.
        report: the JSON form of the protocol's report with the point's ``repetition_rate_hz``
            and ``key_block_s`` (as :meth:`qrate.engine.PointPlan.report` and results files give it).
        extra: values copied into the result first (the point's axes, e.g. ``ground_distance_km``;
            ``p_success_expected`` and ``noise_herald_fraction`` from the plan, where known).
    """
    if rows.size == 0:
        raise ValueError("no batches")
    typed = _report(report)
    return estimate_summary(Summary.of_rows(rows, *_context(report, typed)), typed, extra=extra)


def running_summary(report: Mapping[str, Any], typed: Report | None = None) -> RunningSummary:
    """An empty running summary of one point of ``report`` (feed it rows, then :func:`estimate_summary`;
    ``typed``: the report already read, :meth:`Report.from_json`)."""
    typed = typed or _report(report)
    return RunningSummary((HERALDS, *typed.estimators), *_context(report, typed))


def estimate_summary(summary: Summary, report: ReportLike, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:func:`estimate_point` of a point's :class:`~qrate.protocols.estimator.Summary` (from its rows,
    or a running summary's, :func:`running_summary`)."""
    typed = _report(report)
    out: dict[str, Any] = {"protocol": typed.protocol, **(dict(extra) if extra else {}), **_heralding(summary)}
    p_exp = out.get("p_success_expected")
    if isinstance(p_exp, int | float) and not isinstance(p_exp, bool):
        out["successes_expected"] = float(p_exp) * out["pulses"]
    noise = out.get("noise_herald_fraction")
    if isinstance(noise, int | float) and not isinstance(noise, bool):
        out["noise_dominated"] = bool(noise > NOISE_DOMINATED)
    for e in typed.estimators:
        out.update(e.compute(summary, out["p_success"]))
    return {k: _jsonable(v) for k, v in out.items()}


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    return v


# ----------------------------------------------------------------------------- satellite passes
def pass_totals(steps: Sequence[Step], report: Mapping[str, Any]) -> dict[str, Any]:
    """Totals of one satellite pass from its steps: ``(estimates, batch rows, weight_s)`` each.

    Every rate with a ``total`` name is integrated over the pass, Σ rate × weight_s, with the
    standard error √Σ (se × weight_s)² from each step's standard error (its batch spread over
    √batches). The heralded count also gets its planned mean (``heralded_pairs_expected``, where
    the steps carry ``p_success_expected``) and the upper end of its 95 % Poisson interval
    (``heralded_pairs_upper``), so that a pass with less than one expected herald reads as such.
    Each estimator then adds its own pass totals (:meth:`~qrate.protocols.estimator.Estimator.pass_totals`,
    e.g. a conference key's finite-key length with the pass as one block).
    """
    typed = _report(report)
    rate_hz = float(report["repetition_rate_hz"])
    out: dict[str, Any] = {"duration_s": float(sum(w for _, _, w in steps)), "steps": len(steps)}
    for q in quantities(typed):
        if q.total is not None:
            values = [(e.get(q.key), step_stderr(e, q.sem, q.std), w) for e, _, w in steps]
            out[q.total], out[q.total + "_stderr"] = integrate(values)
    heralds = HERALDING[1].total
    assert heralds is not None
    if steps and all(e.get("p_success_expected") is not None for e, _, _ in steps):
        out[heralds + "_expected"] = math.fsum(float(e["p_success_expected"]) * rate_hz * w for e, _, w in steps)
    simulated = sum(float(rows["pulses"].sum()) for _, rows, _ in steps)
    physical = sum(w * rate_hz for _, _, w in steps)
    if simulated > 0:
        k = int(sum(int(rows["successes"].sum()) for _, rows, _ in steps))
        out[heralds + "_upper"] = poisson_upper(k) * physical / simulated
    for e in typed.estimators:
        out.update(e.pass_totals(steps, rate_hz))
    return out
