"""Sweep benchmarks, end to end: the reference figures as ``qrate run`` and Dask 1 -> 2 workers.

Usage (from the repository root)::

    python benchmarks/bench_sweep.py [--quick] [--part figures|dask ...] [--repeat N]
                                     [--workload stim|block ...] [--out results/bench/sweep.json]

Part ``figures``: both reference figures (``khan-acka-leo`` 0-2000 km step 50, ``khan-broadcast-uav``
0-200 km step 5: 41 points each, 1e8 pulses per point in 32 batches of 3.125e6) as ``python -m
qrate.cli run`` subprocesses writing HDF5, interpreter start-up, imports and file writing included:

* ``auto``, ``sync``, ``local-2`` (``--scheduler local --workers 2``): LEO then UAV, one after the
  other; ``seconds`` is the sum; ``auto`` also records which scheduler it chose;
* ``sync-concurrent``: both figures at once, one ``--scheduler sync`` process each (2 cores);
* ``import``: ``python -c "import qrate._cli.run, qrate.sweep.run, qrate.engine"``, the fixed
  start-up cost every run pays.

Each repetition runs every variant once in turn; best of ``--repeat`` (default 3). The dask part
repeats its 1- and 2-worker runs ``--dask-repeat`` times (default 2) and keeps the best of each.

Part ``dask``: a sweep of >= 20 s of single-core work on 1 and 2 LocalCluster workers. With the
exact sampler the reference figures are ~1 s of work, so the workloads are (``--workload``):

* ``stim``: the LEO reference figure with ``sampling.sampler = "stim"`` (per-shot stim counters),
  41 points x 16 batches of 3.125e6 pulses;
* ``block``: the LEO reference figure with 10 us coherence blocks (``coherence_time_s = 1e-5``:
  10-pulse blocks, one transmittance draw per downlink per block, exact sampler), 41 points x 16
  batches of 3.125e6 pulses.

For each: the single-core work in-process (``qrate.sweep.iter_collect``, no Dask, after a
warm-up); ``qrate run --scheduler local --workers 1`` and ``--workers 2`` as subprocesses
(LocalCluster start-up included); the same sweep through the API on a LocalCluster of 1 and 2
workers, timed from first submission to last batch (start-up excluded, reported as
``cluster_startup_s``). Speed-ups are 1-worker / 2-worker times. Then the machine's own 2-core
scaling on the same work without Dask (``bare_two_process``): two Python processes, each running
half of the points in-process, one after the other and then both at once: the ceiling Dask can
reach here (shared caches, memory bandwidth and clock when both cores are busy).

On a shared machine the figures need otherwise idle cores: before each repetition the script waits
(up to 90 s) for other processes to use under 0.5 cores, and every entry records
``foreign_cores``, the mean number of cores other processes used while it was timed (machine busy
time from /proc/stat minus this process tree's CPU time).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_json  # noqa: E402

from qrate.bench._plans import LEO, UAV  # noqa: E402
from qrate.bench.engine import reference_overrides, reference_scenario  # noqa: E402

WORKLOADS = {
    "stim": ['sampling.sampler="stim"'],
    "block": ["links.leo.coherence_time_s=1e-5"],
}
DASK_BATCHES = {True: 4, False: 16}
CMD = [sys.executable, "-m", "qrate.cli", "run"]


def busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores; /proc/stat), or nan off Linux."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return float("nan")
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its waited-for descendants (qrate run and its Dask workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Foreign:
    """CPU used by *other* processes while a measurement ran: machine busy time minus our own."""

    def __enter__(self) -> Foreign:
        self.t, self.busy, self.own = time.perf_counter(), busy_s(), own_cpu_s()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.t
        self.cpu_s = max(0.0, (busy_s() - self.busy) - (own_cpu_s() - self.own))
        self.cores = self.cpu_s / wall if wall > 0 else 0.0  # mean cores taken by others


def wait_idle(threshold: float = 0.5, max_wait_s: float = 90.0) -> float:
    """Wait (up to ``max_wait_s``) until other processes use under ``threshold`` cores over 2 s; return that use."""
    deadline = time.monotonic() + max_wait_s
    while True:
        with Foreign() as f:
            time.sleep(2.0)
        if f.cores < threshold or time.monotonic() > deadline:
            return f.cores


def qrate_run(preset: str, overrides: list[str], scheduler: list[str], out: Path) -> tuple[float, str]:
    """Wall seconds of one ``qrate run`` subprocess and the scheduler it reports."""
    cmd = [*CMD, preset, "--out", str(out), "--overwrite", *scheduler]
    for o in overrides:
        cmd += ["--set", o]
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    m = re.search(r"scheduler (\S+);", proc.stderr)
    return seconds, (m.group(1) if m else "?")


def _concurrent(jobs: list[tuple[str, list[str], list[str], Path]]) -> float:
    start = time.perf_counter()
    procs = []
    for preset, overrides, scheduler, out in jobs:
        cmd = [*CMD, preset, "--out", str(out), "--overwrite", "--quiet", *scheduler]
        for o in overrides:
            cmd += ["--set", o]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError(f"qrate run failed: {p.args}")
    return time.perf_counter() - start


SCHEDULERS = {"auto": ["--scheduler", "auto"], "sync": ["--scheduler", "sync"],
              "local-2": ["--scheduler", "local", "--workers", "2"]}


def figures(repeat: int, folder: Path) -> list[dict]:
    """Both reference figures as ``qrate run`` subprocesses, per scheduler; best of ``repeat``."""
    best: dict[str, dict] = {}

    def keep(name: str, seconds: float, **info: object) -> None:
        if name not in best or seconds < best[name]["seconds"]:
            best[name] = {"name": f"figures {name}", "seconds": seconds, "loadavg": os.getloadavg(), **info}

    ov = {p: reference_overrides(p) for p in (LEO, UAV)}
    for _ in range(repeat):
        wait_idle()
        with Foreign() as f:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import qrate._cli.run, qrate.sweep.run, qrate.engine"], check=True)
            t = time.perf_counter() - t0
        keep("import", t, what="interpreter + imports of qrate run", foreign_cores=f.cores)
        for name, sched in SCHEDULERS.items():
            with Foreign() as f:
                t_leo, s_leo = qrate_run(LEO, ov[LEO], sched, folder / "leo.h5")
                t_uav, s_uav = qrate_run(UAV, ov[UAV], sched, folder / "uav.h5")
            keep(name, t_leo + t_uav, seconds_leo=t_leo, seconds_uav=t_uav, chosen=[s_leo, s_uav], scheduler=" ".join(sched),
                 order="LEO then UAV", foreign_cores=f.cores)
        with Foreign() as f:
            t = _concurrent([(p, ov[p], SCHEDULERS["sync"], folder / f"{p}-c.h5") for p in (LEO, UAV)])
        keep("sync-concurrent", t, scheduler="--scheduler sync", order="both at once, one process each", foreign_cores=f.cores)
    out = []
    for r in best.values():
        r.update(repeat=repeat, points=82, pulses_per_point=10**8, batches_per_point=32, startup_included=True)
        out.append(r)
        extra = f"  (LEO {r['seconds_leo']:.2f} s + UAV {r['seconds_uav']:.2f} s, chose {r['chosen']})" if "seconds_leo" in r else ""
        print(f"{r['name']:28s} {r['seconds']:7.2f} s{extra}  (others used {r['foreign_cores']:.2f} cores)", flush=True)
    return out


HALF_SCRIPT = r"""
import json, sys, time
from qrate.bench.engine import reference_scenario
from qrate.bench.scaling import _collect, _warm
from qrate.engine import plan_sweep
from qrate.sweep import Limits
from qrate.sweep.collect import iter_collect
half, batches, extra = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
s = reference_scenario("khan-acka-leo", batches, extra)
plans = plan_sweep(s)[half::2]
_collect(_warm(s.sampling.sampler), None)
t = time.perf_counter()
for _ in iter_collect(plans, s.sampling.seed, Limits.from_sampling(s.sampling), s.sampling.pulses_per_batch):
    pass
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def bare_two_process(extra: list[str], batches: int) -> dict:
    """The machine's own 2-core scaling on the same work, without Dask: the sweep's points split in two halves, each
    run in-process by its own Python process (timed after a warm-up), one after the other, then both at once."""
    import json

    def start(half: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", HALF_SCRIPT, str(half), str(batches), *extra], stdout=subprocess.PIPE, text=True)

    def seconds(proc: subprocess.Popen) -> float:
        out, _ = proc.communicate()
        return float(json.loads(out.strip().splitlines()[-1])["seconds"])

    alone = [seconds(start(h)) for h in (0, 1)]
    procs = [start(h) for h in (0, 1)]
    both = [seconds(p) for p in procs]
    return {"halves_alone_s": alone, "halves_concurrent_s": both, "speedup": sum(alone) / max(both),
            "slowdown_per_process": sum(both) / sum(alone)}


def dask_part(workloads: list[str], quick: bool, folder: Path, repeat: int) -> list[dict]:
    """1 vs 2 LocalCluster workers on compute-bound sweeps, start-up included (CLI) and excluded (API).

    Each repetition waits for the other processes on the machine to go (nearly) idle, then runs
    ``--workers 1`` and ``--workers 2`` back to back; ``foreign_cores`` is the mean number of cores
    other processes used during each timing (the 2-worker figures are only meaningful near 0)."""
    from qrate.bench.scaling import on_workers

    batches = DASK_BATCHES[quick]
    out = []
    for w in workloads:
        extra = WORKLOADS[w]
        overrides = [*reference_overrides(LEO, batches), *extra]
        scenario = [reference_scenario(LEO, batches, extra)]
        wait_idle()
        with Foreign() as f0:
            sync = on_workers(scenario, None)
        print(f"[{w}] single-core work (in-process): {sync['seconds']:.2f} s, {sync['batches']} batches "
              f"(others used {f0.cores:.2f} cores)", flush=True)
        cli: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        api: dict[int, list[tuple[dict, float]]] = {1: [], 2: []}
        for _ in range(repeat):
            idle = wait_idle()
            for n in (1, 2):
                with Foreign() as f:
                    t, _ = qrate_run(LEO, overrides, ["--scheduler", "local", "--workers", str(n)], folder / f"dask-{w}.h5")
                cli[n].append((t, f.cores))
                print(f"[{w}] qrate run --scheduler local --workers {n}: {t:.2f} s (start-up included; idle before "
                      f"{idle:.2f}, others used {f.cores:.2f} cores)", flush=True)
            for n in (1, 2):
                with Foreign() as f:
                    r = on_workers(scenario, n)
                api[n].append((r, f.cores))
                print(f"[{w}] API, {n} worker(s): {r['seconds']:.2f} s (+ {r['startup_s']:.2f} s cluster start-up; summed "
                      f"batch time {r['task_s']:.2f} s; client+scheduler CPU {r['client_cpu_s']:.2f} s; others used "
                      f"{f.cores:.2f} cores)", flush=True)
        wait_idle()
        with Foreign() as f:
            bare = bare_two_process(extra, batches)
        print(f"[{w}] no Dask, two processes each running half the points in-process: {sum(bare['halves_alone_s']):.2f} s one "
              f"after the other, {max(bare['halves_concurrent_s']):.2f} s at once: {bare['speedup']:.3f}x (each process "
              f"{bare['slowdown_per_process']:.3f}x slower when both run; others used {f.cores:.2f} cores)", flush=True)
        c1, c2 = min(cli[1]), min(cli[2])
        a1, a2 = min(api[1], key=lambda x: x[0]["seconds"]), min(api[2], key=lambda x: x[0]["seconds"])
        row = {
            "name": f"dask {w}", "workload": w, "overrides": overrides, "points": 41, "batches_per_point": batches,
            "repeat": repeat, "single_core_s": sync["seconds"], "single_core_summed_batch_s": sync["task_s"],
            "single_core_foreign_cores": f0.cores,
            "cli_w1_s": c1[0], "cli_w2_s": c2[0], "cli_w1_foreign_cores": c1[1], "cli_w2_foreign_cores": c2[1],
            "cli_all": {str(n): cli[n] for n in cli}, "speedup_startup_included": c1[0] / c2[0],
            "api_w1_s": a1[0]["seconds"], "api_w2_s": a2[0]["seconds"],
            "api_w1_startup_s": a1[0]["startup_s"], "api_w2_startup_s": a2[0]["startup_s"],
            "api_w1_summed_batch_s": a1[0]["task_s"], "api_w2_summed_batch_s": a2[0]["task_s"],
            "api_w1_foreign_cores": a1[1], "api_w2_foreign_cores": a2[1],
            "api_w1_client_cpu_s": a1[0]["client_cpu_s"], "api_w2_client_cpu_s": a2[0]["client_cpu_s"],
            "api_all": {str(n): [(r["seconds"], r["startup_s"], fc) for r, fc in api[n]] for n in api},
            "speedup_startup_excluded": a1[0]["seconds"] / a2[0]["seconds"],
            "bare_two_process": {**bare, "foreign_cores": f.cores},
            "loadavg_after": os.getloadavg(),
        }
        out.append(row)
        print(f"[{w}] speed-up 1 -> 2 workers (best of {repeat}): {row['speedup_startup_included']:.3f}x start-up included, "
              f"{row['speedup_startup_excluded']:.3f}x excluded", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition of the figures; 4 batches per point in the dask part")
    parser.add_argument("--part", nargs="+", choices=("figures", "dask"), default=["figures", "dask"])
    parser.add_argument("--workload", nargs="+", choices=tuple(WORKLOADS), default=["stim"])
    parser.add_argument("--repeat", type=int, default=None, help="repetitions of the figures part (default 3, quick 1)")
    parser.add_argument("--dask-repeat", type=int, default=2, help="repetitions of the dask part's 1- and 2-worker runs")
    parser.add_argument("--out", default="results/bench/sweep.json")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "figures" in args.part:
            results += figures(repeat, Path(tmp))
        if "dask" in args.part:
            results += dask_part(args.workload, args.quick, Path(tmp), args.dask_repeat)
    path = write_json(args.out, "sweep", results, quick=args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
