"""Validation figures: qrate's curve with its band beside the published Micius measurements.

* :func:`plot_liao_2017`: the Xinglong downlink loss versus slant range (Liao et al. 2017): the
  measured points, qrate's calibrated model with its ±rms band, and geometry alone.
* :func:`plot_two_station_pass`: a two-station pass run (Yin et al. 2017 or 2020): the two-downlink
  loss with and without detectors versus the summed range beside the published band, and the
  coincidence rate through the pass (Monte Carlo steps with ±1σ, the planned expectation with its
  calibration band) beside the published average; a box lists qrate against every published number.
* :func:`plot_bb84_pass`: a decoy-state BB84 pass run (Liao et al. 2017): elevation and range of the
  participating station, the sifted rate through the pass beside the published rates at 645 and
  1200 km, and a table of qrate's per-pass numbers against the published ones.
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


def plot_bb84_pass(
    steps: Sequence[Mapping[str, Any]],
    params: Sequence[Mapping[str, Any]],
    passes: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    stations: Sequence[str],
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """A ``micius-2017-bb84`` run against Liao et al. (2017): elevation and slant range of ``stations``
    (the participating ones) through the pass, the sifted rate (Monte Carlo ±1σ across batches) beside
    the published ~12 kbit/s at 645 km and ~1 kbit/s at 1200 km, and a table of qrate's per-pass numbers
    (:func:`qrate.validation.liao2017_pass_numbers`) against the published ones.

    Args:
        steps, params: the run's per-step estimates and stored parameters (with ``stations``).
        passes: per-pass totals (:func:`qrate.store.load.read_passes`).
        path: output file.
    """
    from qrate.validation import PUBLISHED, liao2017_pass_numbers

    published = PUBLISHED["liao2017"]
    ours = liao2017_pass_numbers(passes, steps)
    t = np.array([float(e["time_s"]) for e in steps])
    fig = Figure(figsize=(13.0, 4.0), layout="constrained")
    ax_g, ax_r, ax_t = fig.subplots(1, 3, width_ratios=(1.0, 1.0, 0.9))
    ax_range = ax_g.twinx()
    for j, gs in enumerate(stations):
        ax_g.plot(t, [p["stations"][gs]["elevation_deg"] for p in params], color=f"C{j}", lw=1.0, label=gs)
        ax_range.plot(t, [p["stations"][gs]["range_km"] for p in params], color=f"C{j}", lw=1.0, ls=":")
    ax_g.set_xlabel("time since the pass began (s)")
    ax_g.set_ylabel("elevation (deg, solid)")
    ax_range.set_ylabel("slant range (km, dotted)")
    ax_g.legend(fontsize=7, title="station", title_fontsize=7)
    rate = np.array([np.nan if e.get("sifted_rate_bps") is None else float(e["sifted_rate_bps"]) for e in steps]) / 1e3
    std = np.array([float(e.get("sifted_rate_std_bps") or 0.0) for e in steps]) / 1e3
    ax_r.plot(t, rate, color="C0", lw=1.2, label="qrate Monte Carlo")
    ax_r.fill_between(t, rate - std, rate + std, color="C0", alpha=0.25, lw=0, label="±1σ across batches")
    # the published rates sit where qrate's pass reaches their slant range (645 km: the closest approach)
    slant = np.array([float(e["slant_range_km"]) for e in steps])
    k = int(np.argmin(slant))
    for i, (key, range_km) in enumerate((("sifted_bps_645km", 645.0), ("sifted_bps_1200km", 1200.0))):
        branches = ((slant[: k + 1], t[: k + 1]), (slant[k:][::-1], t[k:][::-1]))  # approach, recession
        at = [float(t[k])] if i == 0 else [float(np.interp(range_km, s[::-1], u[::-1])) for s, u in branches]
        ax_r.plot(at, [published[key][0] / 1e3] * len(at), "ks", ms=6, label="Liao et al. 2017" if i == 0 else None)
        ax_r.annotate(f"{range_km:g} km", (at[0], published[key][0] / 1e3), textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax_r.set_xlabel("time since the pass began (s)")
    ax_r.set_ylabel("sifted key rate (kbit/s)")
    ax_r.set_ylim(bottom=0.0)
    ax_r.legend(fontsize=7)
    for ax in (ax_g, ax_r):
        ax.grid(alpha=0.3)
    rows = [
        ("detections per pass", "detections_per_pass", 1.0, "{:,.0f}"),
        ("sifted bits per pass", "sifted_bits_per_pass", 1.0, "{:,.0f}"),
        ("QBER (%)", "qber", 100.0, "{:.2f}"),
        ("final key per pass (bit)", "final_key_bits_per_pass", 1.0, "{:,.0f}"),
        ("final key rate (kbit/s)", "final_key_bps", 1e-3, "{:.2f}"),
        ("pass within 1200 km (s)", "duration_s", 1.0, "{:.0f}"),
    ]
    ax_t.axis("off")
    ax_t.set_title("qrate vs published", fontsize=9)
    table = ax_t.table(
        cellText=[[name, fmt.format(ours[key] * scale), fmt.format(published[key][0] * scale)] for name, key, scale, fmt in rows],
        colLabels=["", "qrate", "Liao et al."],
        colWidths=[0.5, 0.25, 0.25],
        loc="center",
        cellLoc="right",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 1.4)
    fig.suptitle(title or "micius-2017-bb84", fontsize=10)
    out = Path(path)
    fig.savefig(out, dpi=dpi)
    return out
