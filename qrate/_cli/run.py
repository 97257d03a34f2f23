"""``qrate run PRESET|FILE [--set key=value ...] --out results/NAME.h5``: run a sweep, write HDF5."""

from __future__ import annotations

import sys
from pathlib import Path

from qrate._cli.validate import build_parser
from qrate.scenario import load_scenario, scenario_to_toml, validate_data


def main(argv: list[str]) -> int:
    """Validate everything first (exit 2 and no file on bad input), then run and write the results."""
    parser = build_parser("qrate run")
    parser.description = "Run a scenario's sweep (in-process) and write the results to HDF5."
    parser.add_argument("--out", required=True, metavar="FILE.h5", help="results file to create")
    parser.add_argument("--seed", type=int, default=None, help="root seed (default: sampling.seed, else fresh entropy)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.seed is not None and not 0 <= args.seed < 2**128:
        parser.error(f"--seed: expected an integer in [0, 2^128), got {args.seed}")

    from qrate.engine import compile_protocol, plan_sweep, run_sweep
    from qrate.errors import InputError
    from qrate.seeding import fresh_root_seed
    from qrate.store import ResultsWriter

    scenario = load_scenario(args.scenario, args.overrides)
    if not args.out.endswith((".h5", ".hdf5")):
        raise InputError("--out", f"expected a .h5 file name, got {args.out!r}")
    if Path(args.out).exists() and not args.overwrite:
        raise InputError("--out", f"{args.out} already exists; choose another --out or pass --overwrite")
    seed = args.seed if args.seed is not None else scenario.sampling.seed
    if seed is None:
        seed = fresh_root_seed()
    data = scenario.model_dump(mode="json")
    data["sampling"]["seed"] = seed
    scenario = validate_data(data)
    plans = plan_sweep(scenario)  # every geometry and protocol checked before the file exists
    if not args.quiet:
        print(f"qrate run: {scenario.name}, {len(plans)} points, seed {seed}", file=sys.stderr)

    def progress(plan, batch_index, stats):  # type: ignore[no-untyped-def]
        if not args.quiet:
            print(
                f"  D = {plan.ground_distance_km:g} km  batch {batch_index}: {stats.successes:,}/{stats.pulses:,}"
                f" heralded ({stats.seconds:.2f} s)",
                file=sys.stderr,
            )

    with ResultsWriter(
        args.out,
        scenario_toml=scenario_to_toml(scenario),
        scenario_name=scenario.name,
        protocol=scenario.protocol.name,
        seed=seed,
        counter_names=compile_protocol(plans[0]).counter_names,
        argv=["qrate", "run", *argv],
        overwrite=args.overwrite,
    ) as writer:
        run_sweep(scenario, seed, writer=writer, progress=progress, plans=plans)
    from qrate._cli.show import print_table, read_estimates

    print_table(*read_estimates(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
