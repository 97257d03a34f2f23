"""Frontiers: the threshold of one field as a function of a second field, and its file.

``find_frontier`` runs :func:`qrate.require.search.find_threshold` at every value of the second
field (the ``--over`` field), each with its Monte Carlo confirmation, so the frontier comes with
a confidence band. ``write_frontier`` stores it as an HDF5 file that :func:`qrate.load`,
``qrate show`` (``--csv``, ``--json``) and ``qrate plot`` read (:mod:`qrate.store.frontier`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrate.require.evaluate import Evaluator
from qrate.require.request import Target, Vary
from qrate.require.search import SCAN_POINTS, Requirement, find_threshold
from qrate.scenario.schema import Scenario


@dataclass(frozen=True)
class Frontier:
    """Thresholds of ``vary.field`` (one :class:`Requirement` per value of ``over``)."""

    vary: Vary
    target: Target
    over: str
    values: tuple[float, ...]
    requirements: tuple[Requirement, ...]
    seconds: float

    def rows(self) -> list[dict[str, Any]]:
        """One row per value of the second field: its first crossing (nan where none) and its interval."""
        out = []
        for v, r in zip(self.values, self.requirements, strict=True):
            c = r.crossings[0] if r.crossings else None
            m = c.confirmation if c is not None else None
            out.append(
                {
                    self.over: v,
                    "threshold": c.threshold if c else math.nan,
                    "threshold_mc": m.threshold if m else math.nan,
                    "threshold_low": m.low if m else math.nan,
                    "threshold_high": m.high if m else math.nan,
                    "estimate_mc": m.estimate if m else math.nan,
                    "estimate_mc_stderr": m.stderr if m else math.nan,
                    "met_above": float(c.met_above) if c else math.nan,
                    "crossings": len(r.crossings),
                    "monotone": float(r.monotone),
                    "best_value": r.best_value,
                    "best_at": r.best_at,
                    "evaluations": r.evaluations,
                    "status": r.status,
                }
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: the request and every requirement."""
        return {
            "vary": self.vary.field,
            "target": str(self.target),
            "over": self.over,
            "values": list(self.values),
            "seconds": self.seconds,
            "evaluations": sum(r.evaluations for r in self.requirements),
            "requirements": [r.as_dict() for r in self.requirements],
        }

    def lines(self) -> list[str]:
        """A table: the second field, the threshold and its interval (or the status)."""
        from qrate.units import field_label, format_value

        head = f"# threshold of {field_label(self.vary.field)} for {self.target}, over {field_label(self.over)}"
        out = [head, f"{self.over.rsplit('.', 1)[-1]:>14} {'threshold':>16} {'interval':>36} {'status':>16}"]
        for row in self.rows():
            v = row[self.over]
            if math.isfinite(row["threshold"]):
                th = format_value(self.vary.field, row["threshold"])
                iv = (
                    f"[{format_value(self.vary.field, row['threshold_low'])}, {format_value(self.vary.field, row['threshold_high'])}]"
                    if math.isfinite(row["threshold_low"])
                    else "-"
                )
            else:
                th, iv = "-", "-"
            out.append(f"{format_value(self.over, v):>14} {th:>16} {iv:>36} {row['status']:>16}")
        out.append(f"# {sum(r.evaluations for r in self.requirements)} expected-value evaluations, {self.seconds:.2f} s")
        return out


def find_frontier(
    ev: Evaluator,
    vary: Vary,
    target: Target,
    over: str,
    values: Sequence[float],
    *,
    precision: float = 1e-3,
    confirm: bool = True,
    batches: int | None = None,
    scan_points: int = SCAN_POINTS,
) -> Frontier:
    """The threshold of ``vary`` for ``target`` at every value of ``over``."""
    start = time.perf_counter()
    reqs = tuple(
        find_threshold(
            ev,
            vary,
            target,
            precision=precision,
            confirm=confirm,
            batches=batches,
            fixed={over: float(v)},
            scan_points=scan_points,
        )
        for v in values
    )
    return Frontier(vary, target, over, tuple(float(v) for v in values), reqs, time.perf_counter() - start)


def check_out(out: str | Path, overwrite: bool) -> Path:
    """Check ``--out`` before any work (an existing file needs ``--overwrite``)."""
    from qrate.outputs import check_output
    from qrate.store.hdf5 import H5_SUFFIXES

    return check_output(out, overwrite=overwrite, suffixes=H5_SUFFIXES, field="out")


def write_frontier(
    frontier: Frontier, scenario: Scenario, out: str | Path, *, argv: Sequence[str] = (), overwrite: bool = False
) -> Path:
    """Write the frontier file (see :mod:`qrate.store.frontier`)."""
    from qrate.scenario.load import scenario_to_toml
    from qrate.store.frontier import write

    meta = {
        "scenario_name": scenario.name,
        "scenario_toml": scenario_to_toml(scenario),
        "protocol": scenario.protocol.name,
        "seed": str(scenario.sampling.seed),
        "vary": frontier.vary.field,
        "over": frontier.over,
        "target": str(frontier.target),
        "precision": frontier.requirements[0].precision if frontier.requirements else math.nan,
        "argv": list(argv),
    }
    return write(Path(out), frontier.over, frontier.rows(), meta, frontier.as_dict(), overwrite=overwrite)
