"""Figure of a frontier: the threshold of one field versus a second field, with its confidence band.

The line is the threshold found on expected values; the band is the Monte Carlo confirmation's
interval at each value (``qrate require``'s ``threshold_low`` / ``threshold_high``); values of the
second field at which the target is unreachable in the searched range are marked at the bottom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qrate.plot.grid import axis_label, unit_ticks


def plot_frontier(
    meta: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    logx: bool = False,
    log: bool = False,
    title: str | None = None,
    dpi: int = 150,
    ax: Any = None,
) -> Path:
    """Draw the frontier file's ``rows`` (:func:`qrate.store.frontier.read`) into ``path`` (or onto ``ax``)."""
    over, vary = str(meta["over"]), str(meta["vary"])

    def col(k: str) -> np.ndarray:
        return np.array([np.nan if r.get(k) is None else float(r[k]) for r in rows])

    x, th, lo, hi = col(over), col("threshold"), col("threshold_low"), col("threshold_high")
    order = np.argsort(x)
    x, th, lo, hi = x[order], th[order], lo[order], hi[order]
    fig = None
    if ax is None:
        fig = Figure(figsize=(6.0, 4.4), layout="constrained")
        ax = fig.subplots()
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.fill_between(
        x, np.where(ok, lo, np.nan), np.where(ok, hi, np.nan), alpha=0.3, color="C0", lw=0, label="95% interval (Monte Carlo)"
    )
    ax.plot(x, th, "o-", color="C0", ms=3, label="threshold (expected values)")
    missing = ~np.isfinite(th)
    if missing.any():
        ax.plot(
            x[missing],
            np.zeros(int(missing.sum())),
            "x",
            color="C3",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="unreachable in range",
        )
    if logx:
        ax.set_xscale("log")
    if log:
        ax.set_yscale("log")
    ys = [v for v in th if math.isfinite(v)]
    ax.set_xlabel(axis_label(over, list(x)))
    ax.set_ylabel(f"required {axis_label(vary, ys)}")
    unit_ticks(ax.xaxis, over, list(x))
    unit_ticks(ax.yaxis, vary, ys)
    ax.set_title(title or f"{meta.get('scenario_name')}: {meta.get('target')}", fontsize=9)
    ax.legend(fontsize=7)
    out = Path(path)
    if fig is not None:
        fig.savefig(out, dpi=dpi)
    return out
