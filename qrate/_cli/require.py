"""``qrate require SCENARIO --vary FIELD=LO:HI --target 'ESTIMATE >= VALUE'``: what a target takes.

Finds the value of one field at which an estimate reaches a target (expected values, bracketing and
bisection), confirms it by Monte Carlo with a confidence interval on the threshold itself;
``--over FIELD=V1,...`` gives that threshold as a function of a second field (a frontier, written
to ``--out`` as a results-like HDF5 file); ``--minimise-cost FIELD ...`` finds the cheapest
hardware meeting the target. See "Requirement search" in qrate/MODELS.md.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from qrate._cli.args import float_in, int_in
from qrate._cli.validate import build_parser
from qrate.scenario import load_scenario
from qrate.text import printable


def main(argv: list[str]) -> int:
    """Parse and check the request (exit 2 with one line on bad input), search, print."""
    parser = build_parser("qrate require")
    parser.description = (
        "The value of one scenario field at which an estimate reaches a target, found on expected values and"
        " confirmed by Monte Carlo with a confidence interval (see 'Requirement search' in qrate/MODELS.md)."
    )
    parser.add_argument(
        "--vary", metavar="FIELD=LO:HI", help="the field searched and its range, e.g. links.leo.aperture_radius_m=0.1:3"
    )
    parser.add_argument("--log", action="store_true", help="scan and bisect the range geometrically (LO > 0)")
    parser.add_argument(
        "--target",
        required=True,
        metavar="'ESTIMATE >= VALUE'",
        help="e.g. 'key_rate_bps >= 1000' or 'key_bits_per_pass >= 1000'",
    )
    parser.add_argument(
        "--precision",
        type=float_in("--precision", 1e-9, 0.1),
        default=1e-3,
        help="relative precision of the threshold (default 1e-3)",
    )
    parser.add_argument(
        "--batches",
        type=int_in("--batches", 2, 100_000),
        default=None,
        help="Monte Carlo batches of the confirmation (default: sampling.batches)",
    )
    parser.add_argument("--no-confirm", action="store_true", help="expected values only, no Monte Carlo confirmation")
    parser.add_argument("--over", metavar="FIELD=V1,V2,...", help="a frontier: the threshold at each value of a second field")
    parser.add_argument("--out", metavar="FILE.h5", help="write the frontier (--over) to this file")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--minimise-cost",
        nargs="+",
        metavar="FIELD[=LO:HI]",
        help="the cheapest hardware meeting the target over these fields (cost of Ferreira da Silva et al. 2021)",
    )
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    args = parser.parse_args(argv)

    from qrate.errors import InputError
    from qrate.require.evaluate import Evaluator
    from qrate.require.request import parse_over, parse_target, parse_vary

    if args.minimise_cost and (args.vary or args.over):
        raise InputError("--minimise-cost", "searches its own fields; give it without --vary and --over")
    if args.out is not None and not args.over:
        raise InputError("--out", "writes a frontier; give --over FIELD=V1,V2,... with it")

    target = parse_target(args.target)
    scenario = load_scenario(args.scenario, args.overrides, args.sweeps)
    confirm = not args.no_confirm
    if args.minimise_cost:
        from qrate.require.cost import minimise_cost, parse_cost_fields

        specs = parse_cost_fields(args.minimise_cost)
        ev = Evaluator(scenario, [s.field for s in specs], options={s.field: "--minimise-cost" for s in specs})
        result = minimise_cost(ev, specs, target, confirm=confirm, batches=args.batches)
        _emit(result.as_dict(), args.json, result.lines())
        return 0
    if args.vary is None:
        parser.error("give --vary FIELD=LO:HI (or --minimise-cost FIELD ...)")
    vary = parse_vary(args.vary, args.log)
    if args.over:
        from qrate.require.frontier import find_frontier, write_frontier

        over_field, over_values = parse_over(args.over)
        if over_field == vary.field:
            raise InputError("--over", f"{over_field} is already the --vary field")
        ev = Evaluator(scenario, [vary.field, over_field], options={vary.field: "--vary", over_field: "--over"})
        if args.out is not None:
            from qrate.require.frontier import check_out

            check_out(args.out, args.overwrite)
        frontier = find_frontier(
            ev, vary, target, over_field, over_values, precision=args.precision, confirm=confirm, batches=args.batches
        )
        if args.out is not None:
            write_frontier(frontier, scenario, args.out, argv=["qrate", "require", *argv], overwrite=args.overwrite)
        _emit(frontier.as_dict(), args.json, frontier.lines())
        if args.out is not None and not args.json:
            print(printable(f"wrote {args.out}"), file=sys.stderr)
        return 0
    from qrate.require.search import find_threshold

    ev = Evaluator(scenario, [vary.field])
    req = find_threshold(ev, vary, target, precision=args.precision, confirm=confirm, batches=args.batches)
    _emit(req.as_dict(), args.json, describe(req))
    return 0


def _emit(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, indent=1))
    else:
        for line in lines:
            print(printable(line))


def _g(x: float) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.6g}"


def describe(req: Any) -> list[str]:
    """Human-readable lines of a :class:`~qrate.require.search.Requirement`."""
    from qrate.units import field_label, format_value

    name = field_label(req.field)
    lines = [
        f"{req.target}, varying {name} over [{format_value(req.field, req.lo)}, {format_value(req.field, req.hi)}]{' (log)' if req.log else ''}:"
    ]
    if req.status == "unreachable":
        lines.append(
            f"  unreachable in this range: the best expected {req.target.split()[0]} is {_g(req.best_value)}"
            f" at {format_value(req.field, req.best_at)}"
        )
    elif req.status == "met_everywhere":
        lines.append(
            f"  met over the whole range (the threshold lies outside it); the best expected value is {_g(req.best_value)} at {format_value(req.field, req.best_at)}"
        )
    if not req.monotone:
        n = len(req.crossings)
        lines.append("  the response is not monotone in this range" + (f": {n} crossings, each reported" if n else ""))
    for c in req.crossings:
        side = "at or above" if c.met_above else "at or below"
        lines.append(
            f"  threshold {format_value(req.field, c.threshold)} (expected values, to {req.precision:g} relative):"
            f" the target is met {side} it"
        )
        m = c.confirmation
        if m is not None:
            pct = f"{100 * m.confidence:g}%"
            lines.append(
                f"  Monte Carlo at the threshold ({m.batches} batches): {req.target.split()[0]} = {_g(m.estimate)} ± {_g(m.stderr)};"
                f" threshold {format_value(req.field, m.threshold)}, {pct} interval"
                f" [{format_value(req.field, m.low)}, {format_value(req.field, m.high)}]"
            )
    lines.append(f"  {req.evaluations} expected-value evaluations, {req.seconds:.2f} s")
    return lines
