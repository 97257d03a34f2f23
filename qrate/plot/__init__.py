"""Plots of rate (or QBER) versus ground distance: pure matplotlib functions (Agg canvas, no pyplot)."""

from __future__ import annotations

from qrate.plot.curves import DEFAULT_Y, X_LABEL, Y_SPECS, Curve, YSpec, curve_from_estimates, draw_curves, plot_curves, y_spec
from qrate.plot.labels import flatten, variant_labels

__all__ = [
    "DEFAULT_Y",
    "X_LABEL",
    "Y_SPECS",
    "Curve",
    "YSpec",
    "curve_from_estimates",
    "draw_curves",
    "flatten",
    "plot_curves",
    "variant_labels",
    "y_spec",
]
