"""Curves from results files: what ``qrate plot`` and ``qrate reproduce`` draw (library code, no CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class PlotData:
    """Curves read from results files, ready for :func:`qrate.plot.plot_curves`."""

    curves: tuple[Any, ...]  # qrate.plot.Curve
    y_label: str
    legend_title: str | None
    note: str


def _sampling_note(all_estimates: Sequence[Sequence[dict[str, Any]]], error_kind: str) -> str:
    if all(e.get("mode") == "expected" for ests in all_estimates for e in ests):
        return "expected values (nothing sampled): no error bars"
    all_estimates = [[e for e in ests if e.get("batches")] for ests in all_estimates]
    batches = sorted({int(e["batches"]) for ests in all_estimates for e in ests})
    per_batch = sorted({round(e["pulses"] / e["batches"]) for ests in all_estimates for e in ests})
    b = "/".join(str(x) for x in batches)
    p = "/".join(f"{x:.3g}" for x in per_batch)
    return f"error bars: {error_kind}; {b} batches × {p} pulses per point"


def curves_from_files(paths: Sequence[str | Path], y: str = "auto", labels: Sequence[str] | None = None) -> PlotData:
    """Read results files and turn them into one curve each.

    Args:
        paths: qrate results files (.h5).
        y: a quantity the files' reports define (``key_rate``, ``rate``, ``broadcast_rate``,
            ``qber``, ``fidelity``, ...), or ``auto``: the first file's protocol's main rate.
        labels: one legend label per file (default: derived from what differs between the
            files' scenarios).

    Raises:
        ResultsFileError: a file is missing, not a qrate file, of another schema, or empty.
        InputError: ``y`` is not defined for a file's protocol (field ``y``), or the labels do not
            match the files (field ``labels``).
    """
    from qrate.errors import InputError, ResultsFileError
    from qrate.estimates import quantity
    from qrate.plot import curve_from_estimates, variant_labels
    from qrate.scenario import load_scenario_text
    from qrate.store.load import read_estimates

    if not paths:
        raise InputError("FILE.h5", "expected at least one results file")
    if labels is not None and len(labels) != len(paths):
        raise InputError("labels", f"expected one label per file ({len(paths)}), got {len(labels)}")
    metas, estimates, scenarios = [], [], []
    for path in paths:
        meta, rows = read_estimates(str(path))
        if not rows:
            raise ResultsFileError(f"{path}: no batches stored yet; nothing to plot")
        metas.append(meta)
        estimates.append(rows)
        scenarios.append(load_scenario_text(meta["scenario_toml"]).model_dump(mode="json"))
    y_name = str(metas[0]["report"]["default_y"]) if y == "auto" else y
    specs = []
    for path, meta in zip(paths, metas, strict=True):
        try:
            specs.append(quantity(meta["report"], y_name))
        except ValueError as exc:
            raise InputError("y", f"{path}: {exc}") from None
    legend_title, derived = variant_labels(scenarios)
    if labels is not None:
        legend_title, derived = None, list(labels)
    curves = tuple(curve_from_estimates(e, s, lab) for e, s, lab in zip(estimates, specs, derived, strict=True))
    y_label = specs[0].label if len({s.label for s in specs}) == 1 else " / ".join(dict.fromkeys(s.label for s in specs))
    kind = "±1σ across batches" if specs[0].std else "95% Clopper-Pearson interval"
    return PlotData(curves=curves, y_label=y_label, legend_title=legend_title, note=_sampling_note(estimates, kind))
