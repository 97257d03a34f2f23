"""Stage ``memory``: peak resident memory of a worker process as the pulses per batch grow 10x and 100x.

Each size runs in a fresh subprocess (the "worker"): it imports qrate, plans the point, runs one
small warm-up batch (JIT, stim), then one batch of the given size and reports
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` before and after. Flat means the peak of the 100x
batch stays within ``FLAT_TOLERANCE`` of the 1x batch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from qrate.bench._timing import row

FLAT_TOLERANCE = 1.10
"""Allowed ratio of the 100x peak RSS to the 1x peak RSS."""

_WORKER = r"""
import json, resource, sys, time
from qrate.bench._plans import LEO, ghz4_plan, preset_plan
from qrate.engine import compile_protocol, run_batch
kind, pulses = sys.argv[1], int(sys.argv[2])
_, plan = preset_plan(LEO, 0.0) if kind == "iid" else ghz4_plan(30.0, coherence_time_s=1e-4)
compiled = compile_protocol(plan)
run_batch(plan, compiled, 1, 0, 1000)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
k = run_batch(plan, compiled, 1, 1, pulses).successes
t = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"baseline_kib": base, "peak_kib": peak, "seconds": t, "successes": k}))
"""


def peak_rss(kind: str, pulses: int) -> dict[str, Any]:
    """Run one batch of ``pulses`` in a fresh Python process; its baseline and peak RSS (KiB)."""
    proc = subprocess.run([sys.executable, "-c", _WORKER, kind, str(pulses)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory(quick: bool) -> list[dict[str, Any]]:
    """Peak RSS per worker for 1x, 10x, 100x pulses: LEO D = 0 (independent fading, Stim-bound) and
    30 dB GHZ-4 with 0.1 ms blocks (block kernel-bound)."""
    sizes = {"iid": 10**5 if quick else 10**6, "block": 10**6 if quick else 10**7}
    out = []
    for kind, n in sizes.items():
        base = None
        for factor in (1, 10, 100):
            m = peak_rss(kind, n * factor)
            base = base or m["peak_kib"]
            name = "LEO D = 0, independent fading" if kind == "iid" else "GHZ-4 30 dB, 0.1 ms blocks"
            out.append(row("memory", f"{name}, {factor}x pulses", n * factor / m["seconds"], None, unit="pulses/s/core",
                           pulses=n * factor, factor=factor, successes=m["successes"],
                           baseline_rss_mib=m["baseline_kib"] / 1024, peak_rss_mib=m["peak_kib"] / 1024,
                           peak_vs_1x=m["peak_kib"] / base))
    return out
