"""``qrate show FILE.h5 [--json]``: one row of estimates per sweep point."""

from __future__ import annotations

import json
import math
from typing import Any

from qrate._cli.args import ArgumentParser


def read_estimates(path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(file metadata, estimates per point)`` of a results file (see :func:`qrate.store.load.read_estimates`)."""
    from qrate.store.load import read_estimates as _read

    return _read(path)


def _f(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, fmt)


def _k(value: Any) -> str:
    return _f(None if value is None else value / 1e3, ".4g")


def print_table(meta: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Print the estimates as a fixed-width table (rates in kbit/s, ± = 1σ across batches)."""
    protocol = meta.get("protocol")
    print(f"# {meta.get('scenario_name')} ({protocol}), seed {meta.get('seed')}, complete={bool(meta.get('complete'))}")
    head = f"{'D_km':>7} {'elev':>6} {'pulses':>10} {'succ':>10} {'p_success':>10} {'±se':>8} {'rate_kbps':>10} {'±std':>8}"
    if protocol == "acka":
        head += f" {'Q_X':>8} {'Q_Z_max':>8} {'key_kbps':>9} {'±std':>8} {'fk_kbps':>9}"
    elif protocol == "broadcast":
        head += f" {'bc_kbps':>9} {'ok_kbps':>9} {'±std':>8} {'bc_err':>8}"
    else:
        head += f" {'fidelity':>8}"
    print(head)
    for r in rows:
        line = (
            f"{r['ground_distance_km']:>7g} {_f(r.get('elevation_deg'), '.2f'):>6} {r['pulses']:>10.3g} {r['successes']:>10.4g}"
            f" {_f(r['p_success'], '.5f'):>10} {_f(r['p_success_stderr'], '.1e'):>8} {_k(r['rate_bps']):>10}"
            f" {_k(r['rate_std_bps']):>8}"
        )
        if protocol == "acka":
            line += (
                f" {_f(r['qber_x'], '.5f'):>8} {_f(r['qber_z_max'], '.5f'):>8} {_k(r['key_rate_bps']):>9}"
                f" {_k(r['key_rate_std_bps']):>8} {_k(r['finite_key_rate_bps']):>9}"
            )
        elif protocol == "broadcast":
            line += (
                f" {_k(r['broadcast_rate_bps']):>9} {_k(r['broadcast_correct_rate_bps']):>9}"
                f" {_k(r['broadcast_correct_rate_std_bps']):>8} {_f(r['broadcast_error_rate'], '.5f'):>8}"
            )
        else:
            line += f" {_f(r.get('bell_fidelity'), '.5f'):>8}"
        print(line)


def main(argv: list[str]) -> int:
    """Print the per-point estimates of a results file as a table, or as JSON with ``--json``."""
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
