"""Validation figures: qrate's curve with its band beside the published Micius measurements.

* :func:`plot_liao_2017`: the Xinglong downlink loss versus slant range (Liao et al. 2017): the
  measured points, qrate's calibrated model with its ±rms band, and geometry alone.
* :func:`plot_two_station_pass`: a two-station pass run (Yin et al. 2017 or 2020): the two-downlink
  loss with and without detectors versus the summed range beside the published band, and the
  coincidence rate through the pass (Monte Carlo steps with ±1σ, the planned expectation with its
  calibration band) beside the published average; a box lists qrate against every published number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

#: calibration band of one downlink (dB): the rms of the Liao et al. (2017) fit
LINK_BAND_DB = 0.67


def plot_liao_2017(path: str | Path, *, title: str | None = None, dpi: int = 150) -> Path:
    """Measured Micius-Xinglong losses (Liao et al. 2017) and qrate's model with and without the
    elevation-dependent coupling."""
    from qrate.channels.measured import micius_2017_downlink
    from qrate.validation import xinglong_2017_loss_db

    measured = micius_2017_downlink()
    ranges = np.linspace(measured.points[0], measured.points[-1], 120)
    model, plain = xinglong_2017_loss_db(ranges), xinglong_2017_loss_db(ranges, coupled=False)
    residuals = np.array(measured.loss_db) - xinglong_2017_loss_db(measured.points)
    rms = float(np.sqrt(np.mean(residuals**2)))
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(measured.points, measured.loss_db, "ko", ms=4, label="Liao et al. 2017 (measured)")
    ax.plot(ranges, model, color="C0", lw=1.5, label=f"qrate, calibrated coupling (rms {rms:.2f} dB)")
    ax.fill_between(ranges, model - rms, model + rms, color="C0", alpha=0.2, lw=0)
    ax.plot(ranges, plain, color="C1", lw=1.0, ls="--", label="qrate, geometry alone (same efficiency)")
    ax.set_xlabel("slant range (km)")
    ax.set_ylabel("downlink loss without detector (dB)")
    ax.set_title(title or "Micius - Xinglong downlink loss", fontsize=10)
    ax.legend(fontsize=8)
    ax.text(
        0.99,
        0.02,
        f"max |residual| {np.abs(residuals).max():.2f} dB",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out


def plot_two_station_pass(
    scenario: Any,
    steps: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    experiment: str,
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """A two-station pass run against the published numbers of ``experiment`` (``yin2017`` or ``yin2020``).

    Args:
        scenario: the run's scenario (its plans give the expectations).
        steps: the run's per-step estimates (:func:`qrate.store.load.read_estimates`).
        path: output file.
    """
    from qrate.validation import PUBLISHED, pass_averages, pass_expectations, yin2020_key_rates

    published = PUBLISHED[experiment]
    expected = pass_expectations(scenario)
    averages = pass_averages(expected)
    summed = np.array([s.summed_range_km for s in expected])
    loss = np.array([s.loss_db for s in expected])
    loss_det = np.array([s.loss_with_detectors_db for s in expected])
    t = np.array([float(e["time_s"]) for e in steps])
    band = np.sqrt(2.0) * LINK_BAND_DB
    fig = Figure(figsize=(13.0, 4.0), layout="constrained")
    ax_l, ax_r, ax_t = fig.subplots(1, 3, width_ratios=(1.0, 1.0, 0.9))
    order = np.argsort(summed)
    for y, color, label in ((loss_det, "C0", "qrate, with detectors"), (loss, "C1", "qrate, channel and telescopes only")):
        ax_l.plot(summed[order], y[order], ".", color=color, ms=4, label=label)
        ax_l.fill_between(summed[order], y[order] - band, y[order] + band, color=color, alpha=0.15, lw=0)
    if "loss_with_detectors_db_min" in published:
        lo, hi = published["loss_with_detectors_db_min"][0], published["loss_with_detectors_db_max"][0]
        r0, r1 = published["summed_range_km_min"][0], published["summed_range_km_max"][0]
        ax_l.plot([r0, r1], [lo, hi], "ks", ms=6, label=f"published: {lo:g}-{hi:g} dB over {r0:g}-{r1:g} km")
    ax_l.set_xlabel("summed slant range of the two downlinks (km)")
    ax_l.set_ylabel("two-downlink loss (dB)")
    ax_l.legend(fontsize=7)
    rate = np.array([np.nan if e.get("rate_bps") is None else float(e["rate_bps"]) for e in steps])
    std = np.array([float(e.get("rate_std_bps") or 0.0) for e in steps])
    ax_r.errorbar(t, rate, yerr=std, fmt="o", ms=3, color="C0", lw=0.8, label="qrate Monte Carlo (±1σ across batches)")
    mean = np.array([s.coincidence_hz for s in expected])
    ax_r.plot(t, mean, color="C0", lw=1.2, label="qrate expectation")
    factor = 10 ** (band / 10)
    ax_r.fill_between(t, mean / factor, mean * factor, color="C0", alpha=0.15, lw=0)
    ax_r.axhline(
        published["coincidence_hz"][0],
        color="k",
        ls="--",
        lw=1.0,
        label=f"published average {published['coincidence_hz'][0]:g} Hz",
    )
    ax_r.axhline(
        averages["coincidence_hz"], color="C0", ls=":", lw=1.0, label=f"qrate pass average {averages['coincidence_hz']:.2f} Hz"
    )
    ax_r.set_xlabel("time since the pass began (s)")
    ax_r.set_ylabel("two-photon coincidences (Hz)")
    ax_r.legend(fontsize=7)
    rows = [("coincidences (Hz)", averages["coincidence_hz"], published["coincidence_hz"][0])]
    if "sifted_hz" in published:
        rows.append(("sifted (Hz)", averages["coincidence_hz"] / 2, published["sifted_hz"][0]))
    rows.append(("QBER (%)", 100 * averages["qber"], 100 * published["qber"][0]))
    if "signal_to_noise" in published:
        rows.append(("signal : noise", averages["signal_to_noise"], published["signal_to_noise"][0]))
    if "asymptotic_key_bps" in published:
        asym, finite = yin2020_key_rates(averages)
        rows += [
            ("asymptotic key (bit/s)", asym, published["asymptotic_key_bps"][0]),
            ("finite key, 3100 s (bit/s)", finite, published["finite_key_bps"][0]),
        ]
    ax_t.axis("off")
    table = ax_t.table(
        cellText=[[name, f"{q:.3g}", f"{p:.3g}"] for name, q, p in rows],
        colLabels=["", "qrate", "published"],
        colWidths=[0.62, 0.19, 0.24],
        loc="center",
        cellLoc="right",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 1.4)
    fig.suptitle(title or experiment, fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
