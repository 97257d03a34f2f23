"""``qrate plot FILE.h5 ... --out FIG.png [--y ...] [--log] [--label ...]``: rate vs ground distance."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qrate._cli.args import ArgumentParser, float_in

SUFFIXES = (".png", ".pdf", ".svg")


@dataclass(frozen=True, slots=True)
class PlotData:
    """Curves read from results files, ready for :func:`qrate.plot.plot_curves`."""

    curves: tuple[Any, ...]  # qrate.plot.Curve
    y_label: str
    legend_title: str | None
    note: str


def _sampling_note(all_estimates: Sequence[Sequence[dict[str, Any]]], error_kind: str) -> str:
    batches = sorted({int(e["batches"]) for ests in all_estimates for e in ests})
    per_batch = sorted({int(round(e["pulses"] / e["batches"])) for ests in all_estimates for e in ests})
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
        InputError: ``--y`` is not defined for a file's protocol, or the labels do not match.
    """
    from qrate.store.load import read_estimates
    from qrate.errors import InputError, ResultsFileError
    from qrate.estimates import quantity
    from qrate.plot import curve_from_estimates, variant_labels
    from qrate.scenario import load_scenario_text

    if not paths:
        raise InputError("FILE.h5", "expected at least one results file")
    if labels is not None and len(labels) != len(paths):
        raise InputError("--label", f"expected one label per file ({len(paths)}), got {len(labels)}")
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
            raise InputError("--y", f"{path}: {exc}") from None
    legend_title, derived = variant_labels(scenarios)
    if labels is not None:
        legend_title, derived = None, list(labels)
    curves = tuple(curve_from_estimates(e, s, lab) for e, s, lab in zip(estimates, specs, derived, strict=True))
    y_label = specs[0].label if len({s.label for s in specs}) == 1 else " / ".join(dict.fromkeys(s.label for s in specs))
    kind = "±1σ across batches" if specs[0].std else "95% Clopper-Pearson interval"
    return PlotData(curves=curves, y_label=y_label, legend_title=legend_title, note=_sampling_note(estimates, kind))


def main(argv: list[str]) -> int:
    """Plot rate (or QBER) versus ground distance, one curve per results file, into ``--out``."""
    parser = ArgumentParser(
        prog="qrate plot",
        description="Plot rate versus ground distance (kbit/s, 1σ error bars across batches), one curve per results file.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.h5", help="results files written by qrate run")
    parser.add_argument("--out", required=True, metavar="FIG.png", help="figure to write (.png, .pdf or .svg)")
    parser.add_argument("--y", default="auto", metavar="QUANTITY",
                        help="quantity to plot, e.g. key_rate, rate, broadcast_rate, qber, fidelity, p_success"
                             " (default: the protocol's main rate)")
    parser.add_argument("--log", action="store_true", help="logarithmic y axis")
    parser.add_argument("--label", action="append", default=None, metavar="TEXT",
                        help="legend label of the next file (repeat once per file; default: the differing scenario field)")
    parser.add_argument("--title", default=None, help="figure title")
    parser.add_argument("--y-min", type=float_in("--y-min"), default=None, metavar="Y",
                        help="lower limit of the y axis in display units (e.g. 0; default: automatic)")
    parser.add_argument("--ratio", action="store_true", help="add a panel with each curve divided by the first (±1 s.e.m.)")
    args = parser.parse_args(argv)

    from qrate.errors import InputError
    from qrate.plot import plot_curves

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise InputError("--out", f"expected a file name ending in {', '.join(SUFFIXES)}, got {args.out!r}")
    if args.log and args.y_min is not None and args.y_min <= 0:
        raise InputError("--y-min", f"expected a positive value with --log, got {args.y_min:g}")
    data = curves_from_files(args.files, args.y, args.label)
    if args.ratio and len(data.curves) < 2:
        raise InputError("--ratio", "needs at least two files")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--out", f"cannot create {out.parent}: {exc}") from None
    try:
        plot_curves(data.curves, out, y_label=data.y_label, log=args.log, title=args.title,
                    legend_title=data.legend_title, note=data.note + ("; ratio panel: ±1 s.e.m." if args.ratio else ""),
                    ratio=args.ratio, ratio_label="ratio to first file", y_min=args.y_min)
    except ValueError as exc:  # e.g. ratio of curves with different distances
        raise InputError("--ratio" if args.ratio else "FILE.h5", str(exc)) from None
    print(f"wrote {out} ({len(data.curves)} curve{'s' if len(data.curves) != 1 else ''})", file=sys.stderr)
    return 0
