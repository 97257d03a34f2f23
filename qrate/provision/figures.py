"""Fig. 4(a)/(b) of Xu et al.: cost structure vs reserved services per app, and SP/EVF/Random vs apps.

Uses ``matplotlib.figure.Figure`` directly (Agg canvas), so no pyplot state or GUI backend is touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from qrate.provision.study import ProvisionConfig, run_provision

APPS_4B = (50, 100, 150, 200, 250, 300)


def fig4a_data(*, seed: int, quick: bool) -> dict:
    """Study of 200 apps; its ``uniform_x_curve`` is Fig. 4(a)."""
    return run_provision(
        ProvisionConfig(n_apps=200, seed=seed, random_draws=5 if quick else 20, oos_scenarios=0 if quick else 2000)
    )


def fig4b_data(*, seed: int, quick: bool) -> list[dict]:
    """One study per number of apps (50…300); SP, EVF and Random totals are Fig. 4(b)."""
    draws = 5 if quick else 20
    return [
        run_provision(ProvisionConfig(n_apps=n, seed=seed, random_draws=draws, oos_scenarios=0 if quick else 2000, uniform_x=()))
        for n in APPS_4B
    ]


def plot_fig4a(result: dict, path: Path) -> Path:
    """Stage-1, expected stage-2 and total cost vs the uniform number of reserved services per app."""
    curve = [c for c in result["uniform_x_curve"] if c["total"] is not None]  # None: infeasible under wavelength limits
    if not curve:
        raise ValueError("no feasible uniform-x point to plot")
    x = [c["x"] for c in curve]
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for key, label, marker in (
        ("stage1", "first stage (fiber reservation)", "s"),
        ("stage2", "expected second stage (on demand)", "o"),
        ("total", "total", "^"),
    ):
        ax.plot(x, [c[key] / 1e6 for c in curve], marker=marker, label=label)
    best = min(curve, key=lambda c: c["total"])
    ax.axvline(best["x"], color="0.6", ls=":", lw=1)
    ax.set_xlabel("reserved fiber QKD services per application")
    ax.set_ylabel("cost (10$^6$ units)")
    ax.set_title(f"Fig. 4(a): {result['n_apps']} apps, |Ω| = {result['n_scenarios']}, min at x = {best['x']}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=150)
    return path


def plot_fig4b(results: list[dict], path: Path) -> Path:
    """SP, QBN-EVF and QBN-Random total cost vs the number of applications (in-sample)."""
    n = [r["n_apps"] for r in results]
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(
        n,
        [r["random_total"] / 1e6 for r in results],
        yerr=[r["random_total_std"] / 1e6 for r in results],
        marker="v",
        capsize=3,
        label="QBN-Random",
    )
    ax.plot(n, [r["evf_total"] / 1e6 for r in results], marker="s", label="QBN-EVF")
    ax.plot(n, [r["sp_total"] / 1e6 for r in results], marker="o", label="stochastic programming")
    ax.set_xlabel("number of Metaverse applications")
    ax.set_ylabel("total provisioning cost (10$^6$ units)")
    ax.set_title("Fig. 4(b): in-sample cost, |Ω| = 10", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=150)
    return path


#: the Fig. 4(b) numbers kept in ``fig4_provision.json``: results only, never timings, so that the file
#: is byte-for-byte the same on every run with the same seed (``qrate reproduce`` leaves a clean checkout)
FIG4B_KEYS = ("n_apps", "sp_total", "evf_total", "evf_lambda_total", "random_total", "random_total_std", "sp_mean_reservation")


def figure_data(a: dict, b: list[dict], *, seed: int, quick: bool) -> dict:
    """The JSON document behind Fig. 4(a)/(b): deterministic for a given seed (no solve times)."""
    return {"seed": seed, "quick": quick, "fig4a": a["uniform_x_curve"], "fig4b": [{k: r[k] for k in FIG4B_KEYS} for r in b]}


def make_figures(out_dir: Path, *, quick: bool, seed: int, log: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``fig4a_cost_structure.png``, ``fig4b_cost_vs_apps.png`` and their data as JSON.

    Solve times vary from run to run, so they are not in the JSON; ``log`` (e.g. a print to
    stderr) receives one line of them per study.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    a = fig4a_data(seed=seed, quick=quick)
    b = fig4b_data(seed=seed, quick=quick)
    if log is not None:
        for r in (a, *b):
            log(f"provision: {r['n_apps']} apps: SP solved in {r['solve_seconds']:.2f} s, study in {r['wall_seconds']:.1f} s")
    data = out_dir / "fig4_provision.json"
    data.write_text(json.dumps(figure_data(a, b, seed=seed, quick=quick), indent=1) + "\n")
    return [plot_fig4a(a, out_dir / "fig4a_cost_structure.png"), plot_fig4b(b, out_dir / "fig4b_cost_vs_apps.png"), data]
