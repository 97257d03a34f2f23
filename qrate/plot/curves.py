"""Rate (or QBER) versus ground distance with error bars: pure matplotlib, Agg canvas, no pyplot.

The functions take per-point estimate dicts (as :func:`qrate.estimates.estimate_point` and
``qrate show --json`` produce them) and the :class:`~qrate.estimates.Quantity` to draw, or arrays, and write nothing but the figure they are asked to
save. Rates are drawn in kbit/s; error bars are the 1σ spread across batches (as in Khan et al.'s
figures), the optional ratio panel uses the standard error of the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from qrate.estimates import Quantity

X_LABEL = r"ground distance $D_{\mathrm{GS1-GS2}}$ (km)"


@dataclass(frozen=True, slots=True)
class Curve:
    """One curve in display units: x in km, y with lower/upper error-bar lengths (>= 0, NaN-free).

    ``sem`` is the standard error of the mean of each y (display units; NaN where unknown),
    used by the ratio panel.
    """

    label: str
    x: np.ndarray
    y: np.ndarray
    err_low: np.ndarray
    err_high: np.ndarray
    sem: np.ndarray

    def __post_init__(self) -> None:
        n = self.x.shape
        for name in ("y", "err_low", "err_high", "sem"):
            if getattr(self, name).shape != n:
                raise ValueError(f"Curve {self.label!r}: {name} has shape {getattr(self, name).shape}, expected {n}")


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def curve_from_estimates(
    estimates: Sequence[Mapping[str, Any]], spec: Quantity, label: str, x: str = "ground_distance_km"
) -> Curve:
    """Build a :class:`Curve` from per-point estimate dicts, sorted by the axis ``x`` (its x values).

    Error bars: ``spec.std`` (1σ across batches) when present, else the confidence interval
    ``spec.ci``, else none. Missing values (``None``) become NaN and are not drawn.
    """
    rows = sorted(estimates, key=lambda e: float(e[x]))
    xs = np.array([float(e[x]) for e in rows])
    y = np.array([_num(e.get(spec.key)) for e in rows]) * spec.scale
    if spec.std is not None:
        err = np.nan_to_num(np.array([_num(e.get(spec.std)) for e in rows]) * spec.scale)
        lo, hi = err, err
    elif spec.ci is not None:
        lo = np.nan_to_num(y - np.array([_num(e.get(spec.ci[0])) for e in rows]) * spec.scale).clip(min=0.0)
        hi = np.nan_to_num(np.array([_num(e.get(spec.ci[1])) for e in rows]) * spec.scale - y).clip(min=0.0)
    else:
        lo = hi = np.zeros_like(y)
    sem = np.array([_num(e.get(spec.sem)) for e in rows]) * spec.scale if spec.sem else np.full_like(y, math.nan)
    return Curve(label=label, x=xs, y=y, err_low=lo, err_high=hi, sem=sem)


def draw_curves(ax: Axes, curves: Sequence[Curve], *, log: bool = False) -> None:
    """Draw each curve as markers + line with its error bars on ``ax``."""
    markers = "osD^v<>ph*"
    for i, c in enumerate(curves):
        lo = c.err_low
        if log:  # keep the lower bar above zero on a log axis
            lo = np.where(c.y - lo > 0, lo, c.y * (1 - 1e-3))
        ax.errorbar(
            c.x,
            c.y,
            yerr=np.vstack([lo, c.err_high]),
            marker=markers[i % len(markers)],
            markersize=4,
            capsize=3,
            linewidth=1.2,
            label=c.label,
        )
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both" if log else "major")


def draw_ratio(ax: Axes, curves: Sequence[Curve], *, label: str = "ratio to first") -> None:
    """Draw each curve divided by the first one (same distances), with ±1 s.e.m. bars (both curves' errors)."""
    ref = curves[0]
    for i, c in enumerate(curves):
        if c.x.shape != ref.x.shape or not np.allclose(c.x, ref.x):
            raise ValueError(f"ratio panel: curve {c.label!r} has other distances than {ref.label!r}")
        with np.errstate(divide="ignore", invalid="ignore"):
            r = c.y / ref.y
            rel = np.sqrt((c.sem / c.y) ** 2 + (ref.sem / ref.y) ** 2) if i else ref.sem / ref.y
        ax.errorbar(
            c.x,
            r,
            yerr=np.nan_to_num(np.abs(r) * rel),
            marker="osD^v<>ph*"[i % 10],
            markersize=3,
            capsize=2,
            linewidth=1.0,
            color=f"C{i}",
        )
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_ylabel(label, fontsize=8)
    ax.grid(alpha=0.3)


def plot_curves(
    curves: Sequence[Curve],
    path: str | Path,
    *,
    y_label: str,
    log: bool = False,
    title: str | None = None,
    legend_title: str | None = None,
    note: str | None = None,
    ratio: bool = False,
    ratio_label: str = "ratio to first",
    y_min: float | None = None,
    dpi: int = 150,
    x_label: str = X_LABEL,
    logx: bool = False,
) -> Path:
    """Plot ``curves`` versus ground distance and save to ``path`` (PNG, PDF, SVG: by suffix).

    Args:
        curves: one :class:`Curve` per results file or variant.
        path: output file; its folder must exist.
        y_label: y-axis label with units.
        log: logarithmic y axis.
        title: figure title (optional).
        legend_title: names the varied parameter.
        note: small text under the plot (e.g. error-bar meaning, pulses and batches).
        ratio: add a lower panel with each curve divided by the first (±1 s.e.m.).
        ratio_label: y label of that panel.
        y_min: lower limit of the y axis (e.g. 0, so that a flat curve looks flat); None: automatic.
        dpi: resolution of raster output.
        x_label: x-axis label (default: the ground distance); logx: logarithmic x axis.
    """
    if not curves:
        raise ValueError("plot_curves: no curves")
    fig = Figure(figsize=(6.0, 5.6 if ratio else 4.4), layout="constrained")
    if ratio:
        ax, ax_r = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    else:
        ax, ax_r = fig.add_subplot(), None
    draw_curves(ax, curves, log=log)
    ax.set_ylabel(y_label)
    if y_min is not None:
        top = max((float(np.nanmax(c.y + c.err_high)) for c in curves if np.isfinite(c.y).any()), default=math.nan)
        if log or not math.isfinite(top) or top <= y_min:
            ax.set_ylim(bottom=y_min)
        else:  # headroom above the highest bar, so that a flat curve does not sit on the frame
            ax.set_ylim(y_min, y_min + 1.15 * (top - y_min))
    if ax_r is not None:
        draw_ratio(ax_r, curves, label=ratio_label)
        ax_r.set_xlabel(x_label)
    else:
        ax.set_xlabel(x_label)
    if logx:
        ax.set_xscale("log")
    if title:
        ax.set_title(title, fontsize=10)
    if len(curves) > 1 or legend_title or curves[0].label:
        ax.legend(title=legend_title, fontsize=8, title_fontsize=8)
    if note:
        fig.supxlabel(note, fontsize=7, color="0.35")
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
