"""``qrate provision``: two-stage stochastic QKD service provisioning on USNET (SP vs EVF vs Random)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qrate._cli.args import ArgumentParser, float_in, int_in
from qrate.errors import InputError
from qrate.text import printable

if TYPE_CHECKING:
    from qrate.provision.study import ProvisionConfig


DESCRIPTION = (
    "Two-stage stochastic QKD service provisioning on the USNET topology (Xu et al.): the stochastic"
    " program (SP) against the expected-value (EVF) and random baselines, with the uniform-x cost curve"
    " of Fig. 4(a). The modelling switches are described in 'Provisioning ambiguities and switches' in qrate/MODELS.md."
)


def _apps(text: str) -> int | None:
    if text.strip() == "all-pairs":
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError("--apps", f"expected a number of applications (1 or more) or 'all-pairs', got {text!r}") from None
    if value < 1:
        raise InputError("--apps", f"expected at least 1 application (or 'all-pairs' for every ordered pair), got {value}")
    return value


def _x_range(text: str) -> tuple[int, ...]:
    """``A..B`` (inclusive) or a comma list of integers."""
    parse = int_in("--uniform-x", 0)
    if ".." in text:
        a, b = text.split("..", 1)
        lo, hi = parse(a), parse(b)
        if hi < lo:
            raise argparse.ArgumentTypeError(f"empty range {text!r}")
        return tuple(range(lo, hi + 1))
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected A..B or a comma list")
    return tuple(parse(s) for s in items)


def parser() -> ArgumentParser:
    """The option parser of ``qrate provision``."""
    p = ArgumentParser(prog="qrate provision", description=DESCRIPTION)
    p.add_argument(
        "--apps",
        type=_apps,
        default=200,
        metavar="N|all-pairs",
        help="number of random apps (distinct ordered station pairs, default 200) or 'all-pairs' (276)",
    )
    p.add_argument(
        "--scenarios",
        type=int_in("--scenarios", 1),
        default=10,
        metavar="N",
        help="|Ω| sampled demand scenarios (default 10; the demand mean defaults to |Ω|/3)",
    )
    p.add_argument(
        "--demand-mean",
        type=float_in("--demand-mean", 0.0),
        default=None,
        metavar="λ",
        help="Poisson mean of the demand per app (default |Ω|/3)",
    )
    p.add_argument(
        "--expectation",
        choices=("sampled", "exact"),
        default="sampled",
        help="sampled: average over the --scenarios draws (default); exact: Poisson expectations",
    )
    p.add_argument("--seed", type=int_in("--seed", 0), default=0, help="seed of apps, scenarios and random draws (default 0)")
    p.add_argument(
        "--uniform-x",
        type=_x_range,
        default=tuple(range(11)),
        metavar="A..B|X,Y,...",
        help="x values of the uniform-x comparison curve (default 0..10)",
    )
    p.add_argument(
        "--paths",
        type=int_in("--paths", 1),
        default=3,
        metavar="K",
        help="K shortest candidate paths per app (default 3; see 'Candidate paths' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--x-max", type=int_in("--x-max", 0), default=10, metavar="X", help="most reserved services per app (default 10)"
    )
    p.add_argument(
        "--wl-mode",
        choices=("none", "aggregate", "exact"),
        default="none",
        help="wavelength constraints per link: none (default), aggregate (at most W services per link) or"
        " exact (continuous, unique wavelengths per link); see 'Wavelength constraints' in qrate/MODELS.md",
    )
    p.add_argument(
        "--wavelengths",
        type=int_in("--wavelengths", 1),
        default=None,
        metavar="W",
        help="wavelengths per link (with --wl-mode aggregate or exact)",
    )
    p.add_argument(
        "--relay-mode",
        choices=("endpoint", "trusted"),
        default="endpoint",
        help="endpoint: one lightpath per service (default); trusted: trusted relays every 80 km of fiber"
        " (see 'Cost model' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--equipment-ends",
        type=int,
        choices=(1, 2),
        default=2,
        help="service ends equipped with an LKM, SI and MUX (default 2: one set per end; see 'Cost model' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--fiber-cost-per-km",
        type=float_in("--fiber-cost-per-km", 0.0),
        default=1.0,
        metavar="C",
        help="fiber cost per km of the reserved lightpath, per service (default 1; see 'Cost model' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--uav-distance",
        choices=("shortest_path", "min_hop_path"),
        default="shortest_path",
        help="route whose length sets the UAV chain of an on-demand service: the shortest fiber path (default) or the"
        " shortest fewest-hop path (see 'Cost model' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--evf-mean",
        choices=("sample", "lambda"),
        default="sample",
        help="demand the EVF baseline plans for: the scenarios' sample mean (default) or λ"
        " (see 'QBN-EVF and QBN-Random baselines' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--random-draws",
        type=int_in("--random-draws", 1),
        default=20,
        metavar="N",
        help="draws of the Random baseline (default 20; see 'QBN-EVF and QBN-Random baselines' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--oos-scenarios",
        type=int_in("--oos-scenarios", 0),
        default=2000,
        metavar="N",
        help="fresh scenarios for the out-of-sample evaluation (default 2000, 0: skip; see 'Two-stage stochastic"
        " program' in qrate/MODELS.md)",
    )
    p.add_argument(
        "--rates",
        choices=("paper", "physical"),
        default="paper",
        help="service delivery rates: the paper's (default) or from qrate's physical link model",
    )
    p.add_argument(
        "--time-limit-s",
        type=float_in("--time-limit-s", 0.0, lo_open=True),
        default=None,
        metavar="S",
        help="time limit of each MILP solve in seconds (default none; a stopped solve may not be optimal)",
    )
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument(
        "--figures",
        type=Path,
        default=None,
        metavar="DIR",
        help="write Fig. 4(a)/(b) PNGs and their data (fig4_provision.json) into DIR and exit",
    )
    p.add_argument("--quick", action="store_true", help="with --figures: a fast, smaller run")
    return p


def config_from_args(a: argparse.Namespace) -> ProvisionConfig:
    """Build the study configuration from parsed options."""
    from qrate.provision.costs import CostParams
    from qrate.provision.model import ModelOptions
    from qrate.provision.study import ProvisionConfig

    if a.wl_mode == "none" and a.wavelengths is not None:
        raise InputError("--wavelengths", "only meaningful with --wl-mode aggregate or exact")
    costs = CostParams(
        relay_mode=a.relay_mode, equipment_ends=a.equipment_ends, fiber_per_km=a.fiber_cost_per_km, uav_distance=a.uav_distance
    )
    model = ModelOptions(wl_mode=a.wl_mode, n_wavelengths=a.wavelengths, time_limit_s=a.time_limit_s)
    return ProvisionConfig(
        n_apps=a.apps,
        n_scenarios=a.scenarios,
        demand_mean=a.demand_mean,
        expectation=a.expectation,
        seed=a.seed,
        k_paths=a.paths,
        x_max=a.x_max,
        model=model,
        costs=costs,
        evf_mean=a.evf_mean,
        random_draws=a.random_draws,
        oos_scenarios=a.oos_scenarios,
        uniform_x=a.uniform_x,
        rates=a.rates,
    )


def _table(r: dict[str, Any]) -> str:
    lines = [
        f"USNET provisioning: {r['n_apps']} apps ({r['instance']}), expectation {r['expectation']}"
        + (f", {r['n_scenarios']} scenarios" if r["n_scenarios"] else "")
        + f", demand Poisson({r['demand_mean']:.4g}), wavelengths {r['wl_mode']}, rates {r['rates']}",
        f"{'policy':<10} {'stage 1':>14} {'E[stage 2]':>14} {'total':>14} {'mean x':>8}",
        f"{'SP':<10} {r['sp_stage1']:>14,.0f} {r['sp_stage2']:>14,.0f} {r['sp_total']:>14,.0f} {r['sp_mean_reservation']:>8.3f}",
        f"{'EVF':<10} {r['evf_stage1']:>14,.0f} {r['evf_stage2']:>14,.0f} {r['evf_total']:>14,.0f} {r['evf_mean_reservation']:>8.3f}",
        f"{'Random':<10} {'':>14} {'':>14} {r['random_total']:>14,.0f}  (± {r['random_total_std']:,.0f} sd over {r['random_draws']} draws)",
        f"EVF(λ) {r['evf_lambda_total']:,.0f}   WS {r['ws']:,.0f}   EVPI {r['evpi']:,.0f}   VSS {r['vss']:,.0f}"
        if r["ws"] is not None
        else f"EVF(λ) {r['evf_lambda_total']:,.0f}   VSS {r['vss']:,.0f}   (WS/EVPI not available)",
        f"SP solve {r['solve_seconds']:.3f} s ({r['model_size']['vars']} vars, {r['model_size']['integer']} integer, {r['model_size']['rows']} rows)",
    ]
    if "out_of_sample" in r:
        o = r["out_of_sample"]
        lines.append(
            f"out of sample ({o['n_scenarios']} fresh scenarios): SP {o['sp_total']:,.0f}  EVF {o['evf_total']:,.0f}  EVF(λ) {o['evf_lambda_total']:,.0f}  Random {o['random_total']:,.0f}"
        )
    lines.append(
        "uniform x:  "
        + "  ".join(
            f"{c['x']}:{'infeasible' if c['total'] is None else format(c['total'], ',.0f')}" for c in r["uniform_x_curve"]
        )
    )
    if "uniform_x_note" in r:
        lines.append(f"  ({r['uniform_x_note']})")
    res = r["sp"]["reservations"]
    hist = {x: res.count(x) for x in sorted(set(res))}
    lines.append("SP reservations per app (x: #apps): " + ", ".join(f"{x}: {n}" for x, n in hist.items()))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.quick and args.figures is None:
        raise InputError("--quick", "only meaningful with --figures DIR")
    if args.figures is not None:
        from qrate.provision.figures import make_figures

        for path in make_figures(args.figures, quick=args.quick, seed=args.seed, log=lambda line: print(line, file=sys.stderr)):
            print(printable(path))
        return 0
    from qrate.provision.study import run_provision

    result = run_provision(config_from_args(args))
    print(json.dumps(result, indent=1) if args.json else _table(result))
    return 0
