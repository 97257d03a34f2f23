"""``qrate show FILE.h5 [--json]``: one row of estimates per sweep point."""

from __future__ import annotations

import json
import math
from typing import Any

from qrate._cli.args import ArgumentParser

#: heralding columns of every protocol: (header, estimate key, format, scale)
BASE_COLUMNS = (
    ("D_km", "ground_distance_km", "g", 1.0),
    ("elev", "elevation_deg", ".2f", 1.0),
    ("pulses", "pulses", ".3g", 1.0),
    ("succ", "successes", ".4g", 1.0),
    ("p_success", "p_success", ".5f", 1.0),
    ("±se", "p_success_stderr", ".1e", 1.0),
    ("rate_kbps", "rate_bps", ".4g", 1e-3),
    ("±std", "rate_std_bps", ".4g", 1e-3),
)


def _f(value: Any, fmt: str, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value * scale if scale != 1.0 else value, fmt)


def columns(report: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """``(header, key, format, scale)`` of every column: heralding, then the protocol's estimates (with ±std)."""
    from qrate.estimates import show_quantities

    cols = list(BASE_COLUMNS)
    for q in show_quantities(report):
        cols.append((q.column, q.key, q.fmt, q.scale))
        if q.std is not None:
            cols.append(("±std", q.std, q.fmt, q.scale))
    return cols


def legend(report: dict[str, Any]) -> list[str]:
    """One line per protocol column: what it means."""
    from qrate.estimates import show_quantities

    return [f"#   {q.column}: {q.legend}" for q in show_quantities(report)]


def print_table(meta: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Print the estimates as a fixed-width table (rates in kbit/s, ± = 1σ across batches, ±se = standard error)."""
    from qrate._cli.text import printable

    report = meta["report"]
    print(f"# {printable(str(meta.get('scenario_name')))} ({printable(str(meta.get('protocol')))}), seed {meta.get('seed')},"
          f" model {meta.get('model_version')}, complete={bool(meta.get('complete'))}")
    for line in legend(report):
        print(line)
    cols = columns(report)
    widths = [max(len(h), 9) for h, *_ in cols]
    print(" ".join(f"{h:>{w}}" for (h, *_), w in zip(cols, widths, strict=True)))
    for r in rows:
        print(" ".join(f"{_f(r.get(key), fmt, scale):>{w}}" for (_, key, fmt, scale), w in zip(cols, widths, strict=True)))


def main(argv: list[str]) -> int:
    """Print the per-point estimates of a results file as a table, or as JSON with ``--json``."""
    from qrate.store.load import read_estimates

    parser = ArgumentParser(prog="qrate show", description="Print the per-point estimates stored in a results file.")
    parser.add_argument("file", metavar="FILE.h5")
    parser.add_argument("--json", action="store_true", help="print a JSON list of objects, one per sweep point")
    args = parser.parse_args(argv)
    meta, rows = read_estimates(args.file)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(meta, rows)
    return 0
