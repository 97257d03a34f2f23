"""Figure of memory-assisted runs: a pass total (e.g. key bits per pass) versus memory coherence time.

One curve per label (e.g. a mode count) over the runs' coherence times, with ±1 standard-error bars,
and the memoryless (synchronous) architecture as a horizontal reference line. Zero totals are drawn
at the axis floor and marked, so a run that gives no key reads as such on the log scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

Point = tuple[float, float, float]
"""(coherence time in s, total, its standard error)."""


def plot_total_vs_coherence(
    series: Mapping[str, Sequence[Point]],
    path: str | Path,
    *,
    baseline: tuple[str, float, float] | None = None,
    y_label: str = "key bits per pass",
    title: str | None = None,
    legend_title: str | None = None,
    note: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw ``series`` (label -> points) on log-log axes; ``baseline`` = (label, total, se) as a line."""
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    values = [v for pts in series.values() for _, v, _ in pts if v > 0]
    if baseline is not None and baseline[1] > 0:
        values.append(baseline[1])
    floor = min(values) / 10 if values else 1e-3
    for label, points in series.items():
        pts = sorted(points)
        x = np.array([p[0] for p in pts])
        y = np.array([p[1] for p in pts])
        se = np.array([p[2] for p in pts])
        shown = np.where(y > 0, y, floor)
        line = ax.errorbar(x, shown, yerr=np.where(y > 0, se, 0.0), marker="o", capsize=3, label=label)
        zero = y <= 0
        if zero.any():
            ax.scatter(x[zero], shown[zero], marker="v", s=60, color=line[0].get_color(), zorder=3)
    if baseline is not None:
        name, total, total_se = baseline
        ax.axhline(max(total, floor), color="black", linestyle="--", label=f"{name}: {total:.3g} ± {total_se:.2g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory coherence time T2 (s)" + (f"\n{note}" if note else ""))
    ax.set_ylabel(f"{y_label}, ±1 s.e. (▼: zero)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(title=legend_title, fontsize=8)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out
