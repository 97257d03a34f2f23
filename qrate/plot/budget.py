"""The loss budget of a free-space link versus ground distance: stacked dB per factor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qrate.channels.budget import FACTORS, loss_budget_db
from qrate.geometry import midpoint_geometry
from qrate.plot.curves import X_LABEL

LABELS = {
    "diffraction_db": "diffraction / aperture",
    "pointing_db": "pointing jitter",
    "turbulence_db": "turbulence (beam wander)",
    "atmosphere_db": "atmosphere",
    "transmitter_db": "transmitter optics",
    "receiver_db": "receiver optics and coupling",
    "extra_db": "other",
}


def budget_table(scenario: Any, link_name: str) -> dict[str, np.ndarray]:
    """Per-factor loss (dB) of link ``link_name`` at every sweep distance (midpoint platform)."""
    spec = scenario.free_space_links()[link_name]
    link = spec.link
    altitude = scenario.nodes.platforms[spec.platform].altitude_km
    distances = np.array(scenario.sweep.distances_km())
    rows = [loss_budget_db(link, midpoint_geometry(altitude, d)).as_dict() for d in distances]
    return {"ground_distance_km": distances, **{f: np.array([r[f] for r in rows]) for f in (*FACTORS, "total_db")}}


def plot_loss_budget(scenario: Any, link_name: str, path: str | Path, *, title: str | None = None, dpi: int = 150) -> Path:
    """Stacked areas of each loss factor (dB) versus ground distance, with the total as a line."""
    table = budget_table(scenario, link_name)
    x = table["ground_distance_km"]
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    shown = [f for f in FACTORS if np.any(np.abs(table[f]) > 1e-3)]
    ax.stackplot(x, [table[f] for f in shown], labels=[LABELS[f] for f in shown], alpha=0.85)
    ax.plot(x, table["total_db"], color="k", lw=1.2, label="total")
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(f"loss of one downlink (dB), links.{link_name}")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
