"""Figures of a satellite-pass run: geometry and rate through each pass, totals per pass.

One figure, three panels: elevation and slant range of every station versus time since the pass
began (one line per station and pass), the chosen rate versus time with its ±1σ band (for the
heralded rate also its planned mean, dashed), and the per-pass total of that rate as bars with ±1
standard-error bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qrate.estimates import Quantity


def plot_pass_run(
    steps: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
    passes: Sequence[Mapping[str, Any]],
    quantity: Quantity,
    path: str | Path,
    *,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Draw a pass run.

    Args:
        steps: per-step estimates (with ``pass`` and ``time_s``), as :func:`qrate.store.load.read_estimates` gives.
        params: the same steps' stored parameters (``stations``: range and elevation per station).
        passes: per-pass totals (:func:`qrate.store.load.read_passes`).
        quantity: the rate to draw (its ``total`` is the bar height).
        path: output file.
    """
    fig = Figure(figsize=(11.0, 3.8), layout="constrained")
    ax_g, ax_r, ax_b = fig.subplots(1, 3)
    ax_range = ax_g.twinx()
    by_pass: dict[int, list[int]] = {}
    for i, e in enumerate(steps):
        by_pass.setdefault(int(e["pass"]), []).append(i)
    stations = list(params[0]["stations"]) if params else []
    for n, (p, idx) in enumerate(sorted(by_pass.items())):
        t = np.array([steps[i]["time_s"] for i in idx])
        for j, gs in enumerate(stations):
            el = [params[i]["stations"][gs]["elevation_deg"] for i in idx]
            rng = [params[i]["stations"][gs]["range_km"] for i in idx]
            label = f"{gs}" if n == 0 else None
            ax_g.plot(t, el, color=f"C{j}", lw=1.0, label=label)
            ax_range.plot(t, rng, color=f"C{j}", lw=1.0, ls=":")
        y = np.array([np.nan if steps[i].get(quantity.key) is None else steps[i][quantity.key] for i in idx]) * quantity.scale
        err_key = quantity.std or quantity.sem
        err = np.array([steps[i].get(err_key) or 0.0 for i in idx]) * quantity.scale if err_key else np.zeros_like(y)
        ax_r.plot(t, y, color=f"C{n % 10}", lw=1.2, label=f"pass {p}")
        ax_r.fill_between(t, y - err, y + err, color=f"C{n % 10}", alpha=0.25, lw=0)
        if quantity.key == "rate_bps":  # the planned mean: visible where too few successes are simulated
            planned = np.array([params[i]["p_success_expected"] * params[i]["report"]["repetition_rate_hz"] for i in idx])
            ax_r.plot(t, planned * quantity.scale, color=f"C{n % 10}", lw=0.8, ls="--", label="planned mean" if n == 0 else None)
    ax_g.set_xlabel("time since the pass began (s)")
    ax_g.set_ylabel("elevation (deg, solid)")
    ax_range.set_ylabel("slant range (km, dotted)")
    ax_g.legend(fontsize=7, title="station", title_fontsize=7)
    ax_r.set_xlabel("time since the pass began (s)")
    ax_r.set_ylabel(quantity.label + ", ±1σ")
    if len(by_pass) <= 8:
        ax_r.legend(fontsize=7)
    total = quantity.total
    if total is not None and passes:
        x = np.arange(len(passes))
        h = np.array([p.get(total) or 0.0 for p in passes])
        se = np.array([p.get(total + "_stderr") or 0.0 for p in passes])
        ax_b.bar(x, h, yerr=se, capsize=3, color="C0", alpha=0.8)
        ax_b.set_xticks(x, [str(p["start_utc"])[:16].replace("T", "\n") for p in passes], fontsize=6)
        ax_b.set_ylabel(f"{total.replace('_', ' ')} per pass, ±1 s.e.")
        ax_b.set_xlabel("pass start (UTC)")
    for ax in (ax_g, ax_r, ax_b):
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
