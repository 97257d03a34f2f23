"""``qrate validate FILE|PRESET [--set key=value ...]``: check a scenario without running it."""

from __future__ import annotations

from qrate._cli.args import ArgumentParser
from qrate.scenario import load_scenario
from qrate.text import printable


def build_parser(prog: str) -> ArgumentParser:
    """Parser with the scenario positional and repeatable ``--set`` shared by validate and run."""
    parser = ArgumentParser(prog=prog)
    parser.add_argument("scenario", metavar="PRESET|FILE", help="a preset name (see `qrate scenarios`) or a TOML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one field, e.g. --set links.leo.aperture_radius_m=1.5 (value parsed as TOML; repeatable)",
    )
    parser.add_argument(
        "--sweep",
        dest="sweeps",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="sweep a scenario field over values, e.g. --sweep links.leo.aperture_radius_m=0.5,1,3 (repeatable;"
        " replaces that axis; several axes form a grid; --sweep ground_distance_km=0,1000 sets the distances)",
    )
    return parser


def main(argv: list[str]) -> int:
    """Validate the scenario and its overrides; print a summary of the sweep points. Exit 2 if invalid."""
    parser = build_parser("qrate validate")
    parser.description = "Check a scenario file (and --set overrides) without running it."
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario, args.overrides, args.sweeps)
    from qrate.engine.grid import describe_points

    rows = describe_points(scenario)  # raises InputError for points below the horizon / elevation cut
    s = scenario
    # names, description and users come from the file: control characters are shown escaped
    print(
        printable(f"{s.name}: valid ({s.protocol.name}, sender {s.protocol.sender}, participants {', '.join(s.participants())})")
    )
    chain = " -- ".join(
        f"{gs}[{', '.join(st.user_names(gs))}{' (forward)' if st.forward else ''}]" for gs, st in s.nodes.ground_stations.items()
    )
    print(printable(f"network: {chain}"))
    target = s.sampling.target_estimate
    batches = f"{s.sampling.batches} batches" if target is None else f"up to {s.sampling.batches} batches"
    print(
        f"sampling: {len(rows)} points x {batches} x {s.sampling.pulses_per_batch:,} pulses"
        f" at {s.sources.repetition_rate_hz:g} Hz; seed {s.sampling.seed if s.sampling.seed is not None else '(fresh)'}"
    )
    if target is not None:
        estimate, relative_error = target
        print(
            printable(
                f"stopping: a point stops once the standard error of its {estimate} is at most {relative_error * 100:.3g}%"
                f" of its value (after at least {s.sampling.min_batches} batches), else after {s.sampling.batches} batches;"
                " how many batches run depends on the results"
            )
        )
    print(f"{'D_km':>9} {'slant_km':>10} {'elev_deg':>9} {'mean_eta_joint':>15} {'p_success_expected':>19}")
    for r in rows:
        print(
            f"{r['ground_distance_km']:>9g} {r['slant_range_km']:>10.3f} {r['elevation_deg']:>9.3f}"
            f" {r['mean_eta_free_space']:>15.6g} {r['p_success_expected']:>19.6g}"
        )
    return 0
