"""A 1 000-point grid end to end: ``qrate run`` over 10 distances x 10 apertures x 10 divergences.

Usage (from the repository root)::

    python benchmarks/bench_grid.py [--quick] [--scheduler auto sync local-2 ...] [--repeat N]
                                    [--out results/bench/grid.json]

The grid (issue "Sweep anything"): ``khan-acka-leo`` with

* ``--sweep ground_distance_km=`` 10 distances, 0 … 2000 km;
* ``--sweep links.leo.aperture_radius_m=`` 10 receiver aperture radii, 0.25 … 3 m;
* ``--sweep links.leo.divergence_rad=`` 10 beam divergences, 2 … 20 urad;

1e7 pulses per point (the preset's 10 batches of 1e6: 10 000 batches in all), exact sampler, into
one HDF5 file, as a ``python -m qrate.cli run`` subprocess: interpreter start-up, imports,
planning, file writing and the printed table included. Per scheduler (``auto``, ``sync``,
``local-2`` = ``--scheduler local --workers 2``): wall seconds (best of ``--repeat``, default 1)
and peak resident memory, polled every 50 ms over the whole process tree (``peak_rss_main_mib``:
the ``qrate run`` process; ``peak_rss_worker_mib``: the largest other process, i.e. a Dask worker
or the nanny; ``peak_rss_tree_mib``: the largest sum over the tree).

Memory flat: the same run (``sync``) on the first 10 and first 100 points of the grid (10
distances; x 10 apertures): peak RSS of the 1 000-point run / of the 10-point run should stay
within 1.10 (rows stream to the file; only the per-point tallies grow).
``--quick``: 10 x 10 x 2 = 200 points.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from _common import write_json  # noqa: E402

PRESET = "khan-acka-leo"
DISTANCES_KM = [round(2000.0 * i / 9, 1) for i in range(10)]
APERTURES_M = [0.25, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
DIVERGENCES_RAD = [2e-6, 3e-6, 4e-6, 5e-6, 6e-6, 8e-6, 1e-5, 1.2e-5, 1.5e-5, 2e-5]
SCHEDULERS = {"auto": ["--scheduler", "auto"], "sync": ["--scheduler", "sync"],
              "local-2": ["--scheduler", "local", "--workers", "2"]}
FLAT_TOLERANCE = 1.10


def sweeps(n_apertures: int, n_divergences: int) -> list[str]:
    def axis(path: str, values: list[float]) -> str:
        return f"{path}=" + ",".join(repr(v) for v in values)

    out = [axis("ground_distance_km", DISTANCES_KM)]
    if n_apertures:
        out.append(axis("links.leo.aperture_radius_m", APERTURES_M[:n_apertures]))
    if n_divergences:
        out.append(axis("links.leo.divergence_rad", DIVERGENCES_RAD[:n_divergences]))
    return out


class TreeRSS:
    """Poll the RSS of a process and its descendants every ``interval_s`` seconds; keep the peaks."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.root = psutil.Process(pid)
        self.interval_s = interval_s
        self.main = self.other = self.tree = 0
        self.processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                main = self.root.memory_info().rss
                kids = []
                for c in self.root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        kids.append(c.memory_info().rss)
            except psutil.Error:
                break
            self.main = max(self.main, main)
            self.other = max([self.other, *kids])
            self.tree = max(self.tree, main + sum(kids))
            self.processes = max(self.processes, 1 + len(kids))
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run(scheduler: str, sweep_args: list[str], out: Path, tries: int = 3) -> dict:
    """One ``qrate run`` subprocess; retried (up to ``tries``) when a signal from outside interrupted it (exit 130/143:
    on a shared machine other people's tests may signal stray ``qrate run`` processes)."""
    for _ in range(tries - 1):
        try:
            return _run(scheduler, sweep_args, out)
        except Interrupted as exc:
            print(f"  (interrupted from outside, exit {exc}; retrying)", flush=True)
    return _run(scheduler, sweep_args, out)


class Interrupted(RuntimeError):
    """``qrate run`` exited 130 or 143 (SIGINT / SIGTERM)."""


def _run(scheduler: str, sweep_args: list[str], out: Path) -> dict:
    cmd = [sys.executable, "-m", "qrate.cli", "run", PRESET, "--out", str(out), "--overwrite", *SCHEDULERS[scheduler]]
    for s in sweep_args:
        cmd += ["--sweep", s]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = TreeRSS(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    mon.stop()
    if proc.returncode in (130, 143, -2, -15):
        raise Interrupted(proc.returncode)
    if proc.returncode != 0:
        raise RuntimeError(f"qrate run failed ({proc.returncode}): {stderr[-2000:]}")
    m = re.search(r"(\d+) points, seed \d+, scheduler (\S+);", stderr)
    table_rows = sum(1 for line in stdout.splitlines() if line and not line.startswith("#")) - 1
    mib = 1024 * 1024
    return {"seconds": seconds, "points": int(m.group(1)) if m else None, "chosen": m.group(2) if m else "?",
            "table_rows": table_rows, "file_mib": out.stat().st_size / mib,
            "peak_rss_main_mib": mon.main / mib, "peak_rss_worker_mib": mon.other / mib, "peak_rss_tree_mib": mon.tree / mib,
            "processes": mon.processes, "loadavg": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 x 10 x 2 = 200 points")
    ap.add_argument("--scheduler", nargs="+", choices=tuple(SCHEDULERS), default=list(SCHEDULERS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default="results/bench/grid.json")
    args = ap.parse_args(argv)
    n_div = 2 if args.quick else 10
    grid = sweeps(10, n_div)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.scheduler:
            best = None
            for _ in range(args.repeat):
                r = run(name, grid, folder / f"grid-{name}.h5")
                best = r if best is None or r["seconds"] < best["seconds"] else best
            assert best is not None
            best.update(name=f"grid {name}", scheduler=" ".join(SCHEDULERS[name]), pulses_per_point=10**7, batches_per_point=10,
                        repeat=args.repeat, sweeps=grid)
            results.append(best)
            print(f"grid {best['points']} points, --scheduler {name:8s} {best['seconds']:7.2f} s (chose {best['chosen']}), "
                  f"peak RSS main {best['peak_rss_main_mib']:.0f} MiB, largest other {best['peak_rss_worker_mib']:.0f} MiB, "
                  f"tree {best['peak_rss_tree_mib']:.0f} MiB, file {best['file_mib']:.1f} MiB, load {best['loadavg'][0]:.2f}",
                  flush=True)
        flat = []
        for na, nd in ((0, 0), (10, 0), (10, n_div)):
            r = run("sync", sweeps(na, nd), folder / f"flat-{na}-{nd}.h5")
            r.update(name=f"memory sync {r['points']} points")
            flat.append(r)
            results.append(r)
            print(f"memory: {r['points']:5d} points, sync: {r['seconds']:6.2f} s, peak RSS {r['peak_rss_main_mib']:.1f} MiB", flush=True)
        ratio = flat[-1]["peak_rss_main_mib"] / flat[0]["peak_rss_main_mib"]
        results.append({"name": "memory flat", "points": [r["points"] for r in flat],
                        "peak_rss_mib": [r["peak_rss_main_mib"] for r in flat], "ratio_largest_to_smallest": ratio,
                        "tolerance": FLAT_TOLERANCE, "flat": ratio <= FLAT_TOLERANCE})
        print(f"memory flat: peak RSS {flat[-1]['points']} points / {flat[0]['points']} points = {ratio:.3f} "
              f"({'flat' if ratio <= FLAT_TOLERANCE else 'NOT flat'}, tolerance {FLAT_TOLERANCE})")
    path = write_json(args.out, "grid", results, quick=args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
