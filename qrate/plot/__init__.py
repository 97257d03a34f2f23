"""Plots of rate (or QBER) versus ground distance: pure matplotlib functions (Agg canvas, no pyplot)."""

from __future__ import annotations

from qrate.plot.curves import X_LABEL, Curve, curve_from_estimates, draw_curves, plot_curves
from qrate.plot.labels import flatten, variant_labels

__all__ = [
    "X_LABEL",
    "Curve",
    "curve_from_estimates",
    "draw_curves",
    "flatten",
    "plot_curves",
    "variant_labels",
]
