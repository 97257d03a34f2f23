"""Benchmark: SP (path-based MILP, HiGHS) solve time for 50…300 applications on USNET.

    python3 benchmarks/bench_provision.py [--quick] --out results/bench/provision.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_time_s, write_json  # noqa: E402

from qrate.provision.instance import exact_scenarios  # noqa: E402
from qrate.provision.model import solve_sp  # noqa: E402
from qrate.provision.study import ProvisionConfig, build, run_provision  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="results/bench/provision.json")
    a = p.parse_args(argv)
    repeat = 2 if a.quick else 5
    results = []
    for n in (50, 100, 150, 200, 250, 300):
        problem, _, scen, _, _ = build(ProvisionConfig(n_apps=n, seed=0))
        sol = solve_sp(problem, scen)
        t = best_time_s(lambda: solve_sp(problem, scen), repeat=repeat, min_time_s=0.0)
        t0 = time.perf_counter()
        run_provision(ProvisionConfig(n_apps=n, seed=0))
        study = time.perf_counter() - t0
        results.append({"name": f"sp_sampled_{n}", "n_apps": n, "n_scenarios": 10, "sp_solve_s": t, "study_wall_s": study,
                        "vars": sol.n_vars, "integer": sol.n_integer, "rows": sol.n_rows, "sp_total": sol.costs.total})
        print(f"{n:4d} apps: SP solve {t * 1e3:8.1f} ms  ({sol.n_vars} vars, {sol.n_integer} int, {sol.n_rows} rows); full study {study:.2f} s")
    problem, lam, _, _, _ = build(ProvisionConfig(n_apps=None, expectation="exact"))
    scen = exact_scenarios(lam, problem.x_max)
    t = best_time_s(lambda: solve_sp(problem, scen), repeat=repeat, min_time_s=0.0)
    results.append({"name": "sp_exact_all_pairs", "n_apps": problem.n_apps, "sp_solve_s": t})
    print(f"all-pairs exact ({problem.n_apps} apps): SP solve {t * 1e3:.1f} ms")
    path = write_json(a.out, "provision", results, target="300-app SP < 5 s on 2 cores")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
