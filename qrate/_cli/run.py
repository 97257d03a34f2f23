"""``qrate run PRESET|FILE [--set key=value ...] --out results/NAME.h5``: run a sweep, write HDF5."""

from __future__ import annotations

import sys
from typing import Any

from qrate._cli.args import float_in, int_in
from qrate._cli.validate import build_parser
from qrate.scenario import load_scenario
from qrate.scenario.schema import MAX_PULSES_PER_POINT
from qrate.sweep.scheduler import CONNECT_TIMEOUT_S, DASHBOARD_ADDRESS, MAX_TIMEOUT_S, WORKER_TIMEOUT_S
from qrate.text import printable


def main(argv: list[str]) -> int:
    """Validate everything first (exit 2 and no file on bad input), then run and write the results."""
    parser = build_parser("qrate run")
    parser.description = (
        "Run a scenario's sweep (in-process for small work, else a Dask LocalCluster: --scheduler auto) and write"
        " the results to HDF5."
    )
    parser.add_argument("--out", required=True, metavar="FILE.h5", help="results file to create (or continue with --resume)")
    parser.add_argument(
        "--seed",
        type=int_in("--seed", 0, 2**128 - 1),
        default=None,
        help="root seed (default: sampling.seed, else fresh entropy)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted --out (same scenario and seed)")
    parser.add_argument(
        "--scheduler",
        default="auto",
        metavar="auto|sync|local|tcp://HOST:PORT",
        help="where batches run: auto (default: the faster of in-process and a LocalCluster, projected from the"
        " measured cost of the first points), the in-process loop, a LocalCluster, or an existing Dask scheduler",
    )
    parser.add_argument("--scheduler-file", default=None, metavar="FILE", help="connect to the Dask scheduler described in FILE")
    parser.add_argument(
        "--workers", type=int_in("--workers", 1), default=None, help="LocalCluster worker processes (default: one per core)"
    )
    parser.add_argument(
        "--max-pulses",
        type=int_in("--max-pulses", 1, MAX_PULSES_PER_POINT),
        default=None,
        help="stop each point after this many pulses (besides sampling.batches / target error;"
        " at most 2**60, so that 64-bit counters cannot overflow)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float_in("--connect-timeout", 0.0, MAX_TIMEOUT_S, lo_open=True),
        default=CONNECT_TIMEOUT_S,
        metavar="S",
        help=f"seconds an existing scheduler has to answer (default {CONNECT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--worker-timeout",
        type=float_in("--worker-timeout", 0.0, MAX_TIMEOUT_S),
        default=WORKER_TIMEOUT_S,
        metavar="S",
        help=f"seconds an existing scheduler has to show a worker before the run fails (default {WORKER_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help=f"serve the LocalCluster's Dask dashboard on {DASHBOARD_ADDRESS} (this machine only)",
    )
    parser.add_argument(
        "--dashboard-address",
        default=None,
        metavar="HOST:PORT",
        help="serve the dashboard on this interface instead, e.g. 0.0.0.0:8787 (reachable from other machines)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--expected",
        action="store_true",
        help="sampling.mode = expected: every estimate from the plan without sampling (see 'Expected values' in qrate/MODELS.md)",
    )
    args = parser.parse_args(argv)

    from qrate._cli.show import SUMMARY_POINTS, print_summary, print_table
    from qrate.store.load import read_estimates
    from qrate.store.stream import summarize
    from qrate.sweep.run import run_to_file
    from qrate.sweep.scheduler import parse_scheduler, quiet_dask_logs

    spec = parse_scheduler(
        args.scheduler,
        args.workers,
        args.scheduler_file,
        dashboard=args.dashboard_address or args.dashboard,
        connect_timeout_s=args.connect_timeout,
        worker_timeout_s=args.worker_timeout,
    )
    scenario = load_scenario(args.scenario, args.overrides, args.sweeps)
    if scenario.passes is not None:
        _warn_tle_age(scenario)
    if args.expected or scenario.sampling.mode == "expected":
        from qrate.require.expected import run_expected_to_file

        if args.resume:
            from qrate.errors import InputError

            raise InputError("--resume", "an expected-values run has nothing to resume; run it again")
        path = run_expected_to_file(scenario, args.out, overwrite=args.overwrite, argv=["qrate", "run", *argv])
        print_table(*read_estimates(str(path)))
        if not args.quiet:
            print(printable(f"wrote {path} (expected values, nothing sampled)"), file=sys.stderr)
        return 0
    if spec.kind not in ("sync", "auto"):  # auto quiets them itself if it starts a cluster
        quiet_dask_logs()  # a lost scheduler or Ctrl-C is reported in one line; distributed's records would bury it
    path = run_to_file(
        scenario,
        args.out,
        seed=args.seed,
        scheduler=spec,  # type: ignore[arg-type]  # a checked SchedulerSpec passes through parse_scheduler
        resume=args.resume,
        overwrite=args.overwrite,
        quiet=args.quiet,
        argv=["qrate", "run", *argv],
        max_pulses=args.max_pulses,
    )
    summary = summarize(path)
    if summary.points > SUMMARY_POINTS:  # a big sweep: a summary, not a million rows
        print_summary(summary)
    else:
        print_table(*read_estimates(str(path)))
    if not args.quiet:
        print(printable(f"wrote {path}"), file=sys.stderr)
    return 0


def _warn_tle_age(scenario: Any) -> None:
    """One stderr line when the pass window lies more than 30 days from the platform's TLE epoch."""
    from qrate.engine.passes import orbit_platform
    from qrate.orbit.propagate import tle_age_warning

    window = scenario.passes
    names = {spec.platform for spec in scenario.free_space_links().values()}
    if len(names) != 1:
        return  # the run itself reports it
    (name,) = names
    platform = orbit_platform(name, scenario.nodes.platforms[name])
    end = window.end_utc
    if end is None:
        import numpy as np

        from qrate.orbit import parse_utc

        end = parse_utc(window.start_utc) + np.timedelta64(round(window.days * 86400e9), "ns")
    warning = tle_age_warning(platform, window.start_utc, end)
    if warning is not None:
        print(printable(f"qrate run: {warning}"), file=sys.stderr)
