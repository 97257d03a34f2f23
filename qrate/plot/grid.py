"""Figures of sweeps over any axes: curves over one axis (others as curves or panels), heat maps.

Input: per-point estimate dicts (``qrate show --json``, :func:`qrate.store.load.read_estimates`)
that carry every axis value, and the :class:`~qrate.estimates.Quantity` to draw. Pure matplotlib
(Agg canvas, no pyplot); nothing is written but the figure asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from qrate.estimates import Quantity
from qrate.plot.curves import X_LABEL, Curve, curve_from_estimates, draw_curves

#: axis labels of the axes that qrate names itself
AXIS_LABELS = {"ground_distance_km": X_LABEL}


def axis_label(axis: str, values: Sequence[Any] = ()) -> str:
    """Label of a sweep axis: a known one's, else the field's words and unit (the SI prefix chosen for
    ``values``, e.g. ``LEO divergence (µrad)``; tick labels follow with :func:`unit_ticks`)."""
    from qrate.units import field_label

    parts = axis.split(".")
    if len(parts) == 4 and parts[:2] == ["nodes", "ground_stations"] and parts[3] == "user_count":
        return f"users at {parts[2]} (nodes.ground_stations.{parts[2]}.user_count)"
    if axis in AXIS_LABELS:
        return AXIS_LABELS[axis]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return field_label(axis, numbers)


def unit_ticks(axis_obj: Any, axis: str, values: Sequence[Any]) -> None:
    """Tick labels of a matplotlib axis in the unit :func:`axis_label` chose (values divided by its prefix)."""
    from matplotlib.ticker import FuncFormatter

    from qrate.units import display

    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if axis in AXIS_LABELS or not numbers:
        return
    scale, _ = display(axis, numbers)
    if scale != 1.0:
        axis_obj.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v / scale:g}"))


def _value_text(axis: str, value: Any) -> str:
    name = axis.rsplit(".", 1)[-1]
    return f"{name} = {value:g}" if isinstance(value, int | float) else f"{name} = {value}"


def split(estimates: Sequence[Mapping[str, Any]], axis: str | None) -> dict[Any, list[Mapping[str, Any]]]:
    """Estimates grouped by the value of ``axis`` (one group of all when ``axis`` is None), in sorted order."""
    if axis is None:
        return {None: list(estimates)}
    missing = [e for e in estimates if axis not in e]
    if missing:
        raise ValueError(f"{axis!r} is not an axis of these results")
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for e in estimates:
        groups.setdefault(e[axis], []).append(e)
    return dict(sorted(groups.items(), key=lambda kv: (0, kv[0]) if isinstance(kv[0], int | float) else (1, str(kv[0]))))


def plot_axes(
    estimates: Sequence[Mapping[str, Any]],
    quantity: Quantity,
    path: str | Path,
    *,
    x: str,
    hue: str | None = None,
    facet: str | None = None,
    log: bool = False,
    logx: bool = False,
    title: str | None = None,
    note: str | None = None,
    dpi: int = 150,
) -> Path:
    """``quantity`` versus axis ``x``: one curve per value of ``hue``, one panel per value of ``facet``.

    Any other axis must have a single value in ``estimates`` (ValueError otherwise), so that no
    curve silently mixes points.
    """
    for e in estimates:
        if x not in e:
            raise ValueError(f"{x!r} is not an axis of these results")
    panels = split(estimates, facet)
    fig = Figure(
        figsize=(6.0 if len(panels) == 1 else 3.6 * min(len(panels), 3), 4.4 if len(panels) <= 3 else 7.6), layout="constrained"
    )
    cols = min(len(panels), 3)
    rows = math.ceil(len(panels) / cols)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax, (fv, group) in zip(axes, panels.items()):
        curves: list[Curve] = []
        for hv, sub in split(group, hue).items():
            xs = [e[x] for e in sub]
            if len(set(xs)) != len(xs):
                raise ValueError(f"several points share {x} = {xs[0]!r} in one curve: give the other axes with --hue or --facet")
            curves.append(curve_from_estimates(sub, quantity, "" if hv is None else _value_text(hue or "", hv), x=x))
        draw_curves(ax, curves, log=log)
        if logx:  # ticks at the swept values, written plainly
            from matplotlib.ticker import NullFormatter, ScalarFormatter

            ax.set_xscale("log")
            ax.set_xticks(sorted({float(e[x]) for e in group}))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        unit_ticks(ax.xaxis, x, [e[x] for e in group])
        if facet is not None:
            ax.set_title(_value_text(facet, fv), fontsize=9)
        if hue is not None:
            ax.legend(fontsize=7)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.supxlabel(axis_label(x, [e[x] for e in estimates]) + (f"\n{note}" if note else ""), fontsize=9)
    fig.supylabel(quantity.label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out


def plot_heatmap(
    estimates: Sequence[Mapping[str, Any]],
    quantity: Quantity,
    path: str | Path,
    *,
    x: str,
    y: str,
    log: bool = True,
    title: str | None = None,
    note: str | None = None,
    dpi: int = 150,
) -> Path:
    """Heat map of ``quantity`` over axes ``x`` and ``y``, beside the map of its relative 1σ error.

    The error map shows the quantity's batch spread (or, without one, its standard error) divided
    by its value, in percent.
    """
    xs = sorted({float(e[x]) for e in estimates})
    ys = sorted({float(e[y]) for e in estimates})
    value = np.full((len(ys), len(xs)), np.nan)
    error = np.full_like(value, np.nan)
    err_key = quantity.std or quantity.sem
    for e in estimates:
        i, j = ys.index(float(e[y])), xs.index(float(e[x]))
        v = e.get(quantity.key)
        value[i, j] = np.nan if v is None else float(v) * quantity.scale
        if err_key and e.get(err_key) is not None and v:
            error[i, j] = 100.0 * float(e[err_key]) / float(v)
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    ax_v, ax_e = fig.subplots(1, 2)
    positive = value[np.isfinite(value) & (value > 0)]
    norm = (
        LogNorm(vmin=positive.min(), vmax=positive.max()) if log and positive.size and positive.min() < positive.max() else None
    )
    for ax, data, label, n in ((ax_v, value, quantity.label, norm), (ax_e, error, "relative 1σ error (%)", None)):
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(data), norm=n, shading="flat")
        fig.colorbar(mesh, ax=ax, label=label)
        ax.set_xlabel(axis_label(x, xs))
        ax.set_ylabel(axis_label(y, ys))
        unit_ticks(ax.xaxis, x, xs)
        unit_ticks(ax.yaxis, y, ys)
    if title:
        fig.suptitle(title, fontsize=10)
    if note:
        ax_e.set_title(note, fontsize=7, color="0.35")
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out


def _edges(values: Sequence[float]) -> np.ndarray:
    """Cell edges around sorted centres (midpoints; the outer cells mirror their neighbours)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
