"""The built-in suite: stages in order (``dask`` last), the result document and the targets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from qrate.bench._timing import machine_info
from qrate.bench.engine import end_to_end, protocol, reference_figures
from qrate.bench.kernels import heralding, transmittance
from qrate.bench.memory import FLAT_TOLERANCE, memory
from qrate.bench.scaling import dask

Stage = Callable[[bool], list[dict[str, Any]]]

STAGES: dict[str, Stage] = {
    "transmittance": transmittance,
    "heralding": heralding,
    "protocol": protocol,
    "end_to_end": end_to_end,
    "reference_figures": reference_figures,
    "memory": memory,
    "dask": dask,
}
"""Stage name -> function(quick) returning result rows; run in this order."""

SUITE = "qrate-bench"
REFERENCE_BUDGET_S = 60.0
"""Target: both reference figures on 2 cores in at most this many seconds."""


def _pick(results: Sequence[dict[str, Any]], stage: str) -> list[dict[str, Any]]:
    return [r for r in results if r["stage"] == stage]


def targets(results: Sequence[dict[str, Any]], peer: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The issue's targets, measured from ``results`` (and the SeQUeNCe ``peer`` rows, if any)."""
    out: list[dict[str, Any]] = []
    ratios = [r["qrate_over_sequence_per_pulse"] for r in peer if "qrate_over_sequence_per_pulse" in r]
    if ratios:
        m = min(ratios)
        out.append(
            {"name": "qrate / SeQUeNCe time per simulated pulse (worst case)", "target": 1e5, "measured": m, "met": m >= 1e5}
        )
    rows = [r for r in _pick(results, "protocol") if "(compiled)" in r["name"]]
    if rows:
        m = min(r["fraction_of_limit"] for r in rows)
        out.append(
            {
                "name": "heralded shots/s as a fraction of raw stim (worst preset, compiled)",
                "target": 0.5,
                "measured": m,
                "met": m >= 0.5,
            }
        )
    measured = [r for r in _pick(results, "dask") if r["name"].startswith("both reference figures")]
    if measured:
        m = measured[0]["seconds"]
        out.append(
            {
                "name": "both reference figures, 2 cores, seconds (measured on 2 Dask workers)",
                "target": REFERENCE_BUDGET_S,
                "measured": m,
                "met": m <= REFERENCE_BUDGET_S,
            }
        )
    proj = [r for r in _pick(results, "reference_figures") if r["name"] == "both reference figures"]
    if proj:
        m = proj[0]["projected_2core_ideal_s"]
        out.append(
            {
                "name": "both reference figures, 2 cores, seconds (projected: 1-core time / 2)",
                "target": REFERENCE_BUDGET_S,
                "measured": m,
                "met": m <= REFERENCE_BUDGET_S,
            }
        )
    sp = [r for r in _pick(results, "dask") if r["name"].startswith("speed-up")]
    if sp:
        m = sp[0]["per_s"]
        out.append({"name": "speed-up from 1 to 2 Dask workers", "target": 1.85, "measured": m, "met": m >= 1.85})
    mem = _pick(results, "memory")
    if mem:
        m = max(r["peak_vs_1x"] for r in mem)
        out.append(
            {
                "name": "peak RSS per worker at 100x pulses / at 1x (flat)",
                "target": FLAT_TOLERANCE,
                "measured": m,
                "met": m <= FLAT_TOLERANCE,
            }
        )
    return out


def run_suite(
    quick: bool,
    only: Iterable[str] | None = None,
    *,
    log: Callable[[str], None] | None = None,
    peer: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Run the stages (all, or ``only`` in suite order) and return ``{suite, machine, results, targets, ...}``.

    Raises:
        KeyError: an unknown stage name (the CLI turns it into InputError).
    """
    chosen = list(STAGES) if only is None else list(only)
    for name in chosen:
        if name not in STAGES:
            raise KeyError(name)
    results: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    for name, stage in STAGES.items():
        if name not in chosen:
            continue
        start = time.perf_counter()
        rows = stage(quick)
        seconds[name] = time.perf_counter() - start
        results.extend(rows)
        if log is not None:
            for r in rows:
                log(format_row(r))
    return {
        "suite": SUITE,
        "machine": machine_info(),
        "quick": quick,
        "stages": chosen,
        "stage_seconds": seconds,
        "results": results,
        "targets": targets(results, peer),
    }


def format_row(r: dict[str, Any]) -> str:
    """One line: stage, name, rate, fraction of the limit."""
    frac = r.get("fraction_of_limit")
    tail = f"  {frac:6.1%} of limit" if isinstance(frac, float) else ""
    if r["stage"] == "memory" and "baseline_rss_mib" in r:  # a memory row: what the batch itself added
        tail = (
            f"  (baseline {r['baseline_rss_mib']:.1f} MiB, batch +{r.get('batch_rss_mib', 0.0):.1f} MiB,"
            f" {r.get('peak_vs_1x', 1.0):.2f}x the 1x peak)"
        )
    return f"{r['stage']:17s} {r['name'][:58]:58s} {r['per_s']:11.4g} {r.get('unit', '')}{tail}"
