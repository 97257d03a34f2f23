"""Sweeps at scale: per-point cost, memory and file size from 10^3 to 10^5 (10^6) points, combine and show.

Usage (from the repository root)::

    python benchmarks/bench_scale.py [--points 1000 10000 100000] [--scheduler sync] [--combine 10 100000]
                                     [--show 10000 100000] [--out results/bench/scale.json]

* **grid**: ``qrate run khan-acka-leo`` (10 batches of 10^6 pulses per point, exact sampler) over a
  3-axis grid of distance x aperture x divergence with the given number of points, as a
  subprocess: start-up, planning, simulation, writing and the final output included. Per size: wall
  seconds, seconds per point, peak RSS of the process (polled every 50 ms), file bytes per point.
  Ratios: per-point time and peak RSS of each size against the smallest (targets: <= 1.2 and
  <= 1.15 from 10^3 to 10^4), file <= 2 KB per point.
* **warm cluster** (``--scheduler local-N --warm``): the LocalCluster of N workers is started by the
  benchmark and warmed up (engine loaded, kernels compiled in every worker) before the timed run,
  which connects to it (``--scheduler tcp://...``): start-up excluded, as for the ``local-2`` vs
  ``local-1`` ratio (target >= 1.8 on 10^5 points). Peak RSS is then the client's alone.
* **combine**: ``qrate combine`` of F files of N points each, for each N given (10 batches per
  point; the files are written directly with the store's writer from one simulated point's rows,
  so that making them costs no simulation), as a subprocess: wall seconds and peak RSS (target:
  10 x 10^5 in <= 30 s; flat memory: the RSS ratio between two sizes stays near 1).
* **show**: ``qrate show --csv`` of files of N points (written the same way) streamed to
  /dev/null: wall seconds and peak RSS; flat memory means the RSS ratio stays near 1. Also the
  plain ``qrate show`` (a summary above 200 points, every row checked) and ``qrate.load`` +
  ``to_xarray()`` (lazy above 20 000 points): seconds to open a large file.
* ``--baseline DIR``: the combine and ``show --csv`` runs again with the ``qrate`` package of DIR
  (e.g. ``git archive main qrate | tar -x -C DIR``) first on ``PYTHONPATH``, side by side on the
  same files. ``--files DIR`` keeps the synthetic files there between runs.

The machine is a shared 2-core box unless stated: wall times are indicative; the ratios are the
result. JSON goes to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json
from bench_grid import TreeRSS

PRESET = "khan-acka-leo"
APERTURE, DIVERGENCE = "links.leo.aperture_radius_m", "links.leo.divergence_rad"
DISTANCES_KM = [round(2000.0 * i / 9, 1) for i in range(10)]
MIB = 2**20


def grid_axes(points: int) -> list[str]:
    """``--sweep`` options of a grid of ``points`` points: 10 distances x apertures x divergences."""
    rest = max(points // 10, 1)
    n_ap = 1
    while n_ap * n_ap < rest:
        n_ap += 1
    while rest % n_ap:
        n_ap -= 1
    n_div = rest // n_ap
    apertures = [round(0.25 + 2.75 * i / max(n_ap - 1, 1), 6) for i in range(n_ap)]
    divergences = [float(f"{2e-6 + 18e-6 * i / max(n_div - 1, 1):.6g}") for i in range(n_div)]
    return [
        "ground_distance_km=" + ",".join(repr(d) for d in DISTANCES_KM),
        f"{APERTURE}=" + ",".join(repr(a) for a in apertures),
        f"{DIVERGENCE}=" + ",".join(repr(d) for d in divergences),
    ]


def monitored(cmd: list[str], stdout: int | None = subprocess.PIPE, base: str | None = None) -> dict:
    """Run ``cmd`` as a subprocess (with ``base`` first on PYTHONPATH); wall seconds, peak RSS (MiB) of
    the process tree, output."""
    env = {**os.environ, "PYTHONPATH": base} if base else None
    if base and cmd[0] == sys.executable:  # -P: the working directory's qrate must not shadow DIR's
        cmd = [cmd[0], "-P", *cmd[1:]]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _MAXRSS, *cmd], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env)
    mon = TreeRSS(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    mon.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    peak = int(err.rstrip().rsplit("maxrss_kib=", 1)[1]) * 1024  # the kernel's peak: polling misses short peaks
    return {"seconds": seconds, "peak_rss_mib": peak / MIB, "peak_rss_tree_mib": mon.tree / MIB,
            "stdout_lines": len((out or "").splitlines()), "loadavg": os.getloadavg()}


_MAXRSS = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode;"
    " print(f'maxrss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(r)"
)
"""A wrapper that runs the command and reports its peak RSS (``ru_maxrss`` of its children, KiB on Linux)."""


def bench_grid(points: int, scheduler: list[str], folder: Path) -> dict:
    out = folder / f"grid-{points}.h5"
    cmd = [sys.executable, "-m", "qrate.cli", "run", PRESET, "--out", str(out), "--overwrite", "--quiet", *scheduler]
    for s in grid_axes(points):
        cmd += ["--sweep", s]
    r = monitored(cmd)
    size = out.stat().st_size
    out.unlink()
    return {"name": f"grid {points}", "points": points, "scheduler": " ".join(scheduler), **r,
            "seconds_per_point": r["seconds"] / points, "file_bytes": size, "file_bytes_per_point": size / points}


def warm_cluster(workers: int, folder: Path):  # type: ignore[no-untyped-def]
    """A started LocalCluster of ``workers`` workers, warmed up by a small sweep: (context manager, address)."""
    from qrate.sweep.scheduler import open_client, parse_scheduler

    ctx = open_client(parse_scheduler("local", workers))
    client = ctx.__enter__()
    address = client.scheduler.address
    warm = folder / "warm.h5"
    cmd = [sys.executable, "-m", "qrate.cli", "run", PRESET, "--out", str(warm), "--overwrite", "--quiet",
           "--scheduler", address]
    for s in grid_axes(40 * workers):
        cmd += ["--sweep", s]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    warm.unlink()
    return ctx, address


def synthetic_file(path: Path, points: int, distance_km: float, template: Path) -> None:
    """A results file of ``points`` points at one distance (apertures x divergences), every point holding
    the 10 batch rows of ``template``'s first point (only the keys differ): what combine and show read."""
    from qrate.scenario import load_scenario, scenario_to_toml
    from qrate.store import ResultsWriter, read_results

    src = read_results(template)
    rec = src.points[0]
    n_ap = 100 if points >= 1000 else 10
    n_div = points // n_ap
    scenario = load_scenario(PRESET, [f"sweep.ground_distance_km=[{distance_km}]"],
                             [f"{APERTURE}=" + ",".join(repr(0.25 + 0.01 * i) for i in range(n_ap)),
                              f"{DIVERGENCE}=" + ",".join(repr(2e-6 + 1e-9 * i) for i in range(n_div))])
    with ResultsWriter(path, scenario_toml=scenario_to_toml(scenario), scenario_name=scenario.name,
                       protocol=scenario.protocol.name, seed=int(src.meta["seed"]),
                       counter_names=src.meta["counter_names"], model_version=src.meta["model_version"],
                       report=src.meta["report"], overwrite=True) as w:
        for i in range(points):
            params = {**rec.params, "axes": {APERTURE: 0.25 + 0.01 * (i // n_div), DIVERGENCE: 2e-6 + 1e-9 * (i % n_div)}}
            w.add_point(i, ground_distance_km=distance_km, point_key=hash((distance_km, i)) & (2**127 - 1) | 1 << 126,
                        params=params)
            w.append_rows(i, rec.rows)


def template_file(folder: Path) -> Path:
    path = folder / "template.h5"
    subprocess.run([sys.executable, "-m", "qrate.cli", "run", PRESET, "--out", str(path), "--overwrite", "--quiet",
                    "--scheduler", "sync", "--set", "sweep.ground_distance_km=[0]"], check=True, stdout=subprocess.DEVNULL)
    return path


def cached(folder: Path, name: str, make) -> Path:  # type: ignore[no-untyped-def]
    path = folder / name
    if not path.exists():
        tmp = folder / f".{name}.tmp.h5"
        make(tmp)
        tmp.rename(path)
    return path


def part_file(folder: Path, points: int, k: int, template: Path) -> Path:
    distance = DISTANCES_KM[k % len(DISTANCES_KM)] + 1000.0 * (k // len(DISTANCES_KM))
    return cached(folder, f"part-{points}-{k}.h5", lambda p: synthetic_file(p, points, distance, template))


def bench_combine(files: int, points: int, folder: Path, template: Path, base: str | None = None) -> dict:
    inputs = [str(part_file(folder, points, k, template)) for k in range(files)]
    out = folder / "combined.h5"
    r = monitored([sys.executable, "-m", "qrate.cli", "combine", *inputs, "--out", str(out), "--overwrite", "--quiet"],
                  base=base)
    size = out.stat().st_size
    out.unlink()
    return {"name": f"combine {files} x {points}" + (" (baseline)" if base else ""), "files": files,
            "points_per_file": points, **r, "file_bytes": size}


def bench_show(points: int, folder: Path, template: Path, base: str | None = None) -> list[dict]:
    path = part_file(folder, points, 0, template)
    tag = " (baseline)" if base else ""
    with open(os.devnull, "w") as null:
        r = monitored([sys.executable, "-m", "qrate.cli", "show", str(path), "--csv"], stdout=null.fileno(), base=base)
    out = [{"name": f"show --csv {points}{tag}", "points": points, **r, "seconds_per_point": r["seconds"] / points}]
    if base is None:
        r = monitored([sys.executable, "-m", "qrate.cli", "show", str(path)])
        out.append({"name": f"show (summary) {points}", "points": points, **r})
        code = f"import qrate; ds = qrate.load({str(path)!r}).to_xarray(); print(ds.sizes)"
        r = monitored([sys.executable, "-c", code])
        out.append({"name": f"load + to_xarray {points}", "points": points, **r})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--scheduler", default="sync", help="sync | auto | local-N (N workers)")
    ap.add_argument("--warm", action="store_true", help="local-N: start and warm the cluster first (start-up excluded)")
    ap.add_argument("--combine", type=int, nargs="+", metavar="FILES POINTS", default=None,
                    help="FILES files of POINTS points each (several POINTS: one run per size)")
    ap.add_argument("--show", type=int, nargs="*", default=[])
    ap.add_argument("--baseline", default=None, metavar="DIR", help="also run combine/show with DIR/qrate (side by side)")
    ap.add_argument("--baseline-max-points", type=int, default=100000, help="largest show file run with --baseline")
    ap.add_argument("--files", default=None, metavar="DIR", help="keep the synthetic files in DIR between runs")
    ap.add_argument("--out", default="results/bench/scale.json")
    args = ap.parse_args(argv)
    sched = (["--scheduler", "local", "--workers", args.scheduler.split("-", 1)[1]] if args.scheduler.startswith("local-")
             else ["--scheduler", args.scheduler])
    results = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("QRATE_BENCH_TMP")) as tmp:
        folder = Path(tmp)
        cluster = None
        if args.warm and args.scheduler.startswith("local-"):
            t0 = time.perf_counter()
            cluster, address = warm_cluster(int(args.scheduler.split("-", 1)[1]), folder)
            print(f"cluster {args.scheduler} started and warmed in {time.perf_counter() - t0:.1f} s (not timed)", flush=True)
            sched = ["--scheduler", address]
        grid = []
        for n in args.points:
            r = bench_grid(n, sched, folder)
            r["scheduler"] = args.scheduler + (" (warm)" if cluster is not None else "")
            grid.append(r)
            results.append(r)
            print(f"grid {n:8d} points {r['scheduler']}: {r['seconds']:8.1f} s, {1e3 * r['seconds_per_point']:6.2f} ms/point,"
                  f" peak RSS {r['peak_rss_mib']:6.0f} MiB, file {r['file_bytes_per_point']:6.0f} B/point,"
                  f" {r['stdout_lines']} output lines, load {r['loadavg'][0]:.2f}", flush=True)
        if len(grid) > 1:
            base = grid[0]
            for r in grid[1:]:
                ratio = {"name": f"ratio {r['points']} / {base['points']}",
                         "per_point_time": r["seconds_per_point"] / base["seconds_per_point"],
                         "peak_rss": r["peak_rss_mib"] / base["peak_rss_mib"]}
                results.append(ratio)
                print(f"ratio {r['points']}/{base['points']}: per-point time {ratio['per_point_time']:.3f} (target <= 1.2),"
                      f" peak RSS {ratio['peak_rss']:.3f} (target <= 1.15)", flush=True)
        if cluster is not None:
            cluster.__exit__(None, None, None)
        store = Path(args.files) if args.files else folder
        store.mkdir(parents=True, exist_ok=True)
        template = (store / "template.h5" if (store / "template.h5").exists() else template_file(store)) \
            if args.combine or args.show else None
        bases = [None, args.baseline] if args.baseline else [None]
        if args.combine:
            assert template is not None
            files, sizes = args.combine[0], args.combine[1:] or [100000]
            for base in bases:
                runs = []
                for n in sizes:
                    r = bench_combine(files, n, store, template, base)
                    runs.append(r)
                    results.append(r)
                    print(f"{r['name']}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB"
                          f" (target <= 30 s for 10 x 1e5), load {r['loadavg'][0]:.2f}", flush=True)
                if len(runs) > 1:
                    print(f"combine peak RSS ratio {sizes[-1]}/{sizes[0]}{' (baseline)' if base else ''}:"
                          f" {runs[-1]['peak_rss_mib'] / runs[0]['peak_rss_mib']:.3f}", flush=True)
        for base in bases:
            shows = []
            for n in args.show:
                assert template is not None
                if base and n > args.baseline_max_points:
                    continue
                for r in bench_show(n, store, template, base):
                    results.append(r)
                    if r["name"].startswith("show --csv"):
                        shows.append(r)
                        print(f"{r['name']}: {r['seconds']:.1f} s ({1e3 * r['seconds_per_point']:.2f} ms/point),"
                              f" peak RSS {r['peak_rss_mib']:.0f} MiB, load {r['loadavg'][0]:.2f}", flush=True)
                    else:
                        print(f"{r['name']}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB,"
                              f" load {r['loadavg'][0]:.2f}", flush=True)
            if len(shows) > 1:
                print(f"show --csv peak RSS ratio {shows[-1]['points']}/{shows[0]['points']}{' (baseline)' if base else ''}:"
                      f" {shows[-1]['peak_rss_mib'] / shows[0]['peak_rss_mib']:.3f}", flush=True)
    path = write_json(args.out, "scale", results, note="shared machine unless stated; see README 'Sweeps at scale'")
    print(f"wrote {path}")
    print(json.dumps([{k: v for k, v in r.items() if k != "loadavg"} for r in results])[:0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
