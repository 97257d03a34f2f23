"""Long-term figures of a pass run: per-day and per-year totals a reader cannot misread.

A pass run simulates the passes of a UTC window. Scaling its totals to a day or a year is honest
only when the window holds a representative sample of passes, so (see "Long-term figures" in
qrate/MODELS.md):

* per-day and per-year totals always come with the number of days and passes they come from, and a
  window shorter than :data:`MIN_WINDOW_DAYS` (one day; a 15-minute window around one pass would
  read as ~96 passes a day) is marked not representative (``representative = False`` and a
  ``long_term_note`` that ``qrate show`` prints beside the figures);
* ``passes.night_only`` counts only the passes in which every station's sky is ``night`` (Sun at or
  below -18 deg, :func:`qrate.channels.background.sky_state`) at every step: a daylight-blind
  receiver; the night fraction of the passes is shown either way;
* ``passes.clear_sky_fraction`` (availability: clear sky, station up) multiplies the totals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: shortest window (days) whose passes are scaled to per-day and per-year totals
MIN_WINDOW_DAYS = 1.0


def long_term_summary(
    passes: Sequence[Mapping[str, Any]],
    window_days: float,
    *,
    night_only: bool = False,
    clear_sky_fraction: float = 1.0,
) -> dict[str, Any]:
    """Per-day / per-year totals of the passes of a window (each pass: its ``*_stderr``-paired totals and
    ``night``), with how they were formed.

    Returns ``passes``, ``night_passes``, ``window_days``, ``passes_per_day``, ``night_only``,
    ``clear_sky_fraction``, ``counted_passes``, ``representative`` (a window of at least a day), and
    per total ``KEY_per_pass`` (mean over the counted passes), ``KEY_per_day`` / ``KEY_per_year`` with
    ``_stderr`` (errors in quadrature), times the clear-sky fraction; for a window shorter than a day
    also ``long_term_note``, which says why those figures are not representative.
    """
    counted = [p for p in passes if p.get("night", False)] if night_only else list(passes)
    representative = window_days >= MIN_WINDOW_DAYS
    out: dict[str, Any] = {
        "passes": len(passes),
        "night_passes": sum(1 for p in passes if p.get("night", False)),
        "window_days": window_days,
        "passes_per_day": len(passes) / window_days if window_days > 0 else math.nan,
        "night_only": night_only,
        "clear_sky_fraction": clear_sky_fraction,
        "counted_passes": len(counted),
        "representative": representative,
    }
    if not representative:
        out["long_term_note"] = (
            f"not representative: the per-day and per-year figures extrapolate {len(counted)} pass(es) of a"
            f" {window_days * 24:.3g} h window; run a window of at least {MIN_WINDOW_DAYS:g} day (passes.days)"
        )
    first = passes[0] if passes else {}
    names = [k for k in first if k.endswith("_stderr") and k[: -len("_stderr")] in first]
    for se_key in names:
        key = se_key[: -len("_stderr")]
        values = [p[key] for p in counted]
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            continue
        total = float(sum(values))
        se = math.sqrt(sum((p[se_key] or 0.0) ** 2 for p in counted))
        out[f"{key}_per_pass"] = total / len(counted) if counted else 0.0
        if window_days > 0:
            f = clear_sky_fraction / window_days
            out[f"{key}_per_day"], out[f"{key}_per_day_stderr"] = total * f, se * f
            out[f"{key}_per_year"], out[f"{key}_per_year_stderr"] = 365.25 * total * f, 365.25 * se * f
    return out
