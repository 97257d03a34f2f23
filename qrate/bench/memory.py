"""Stage ``memory``: resident memory of a worker process running one batch, as the pulses per batch grow 10x and 100x.

Each size runs in a fresh subprocess (the "worker"): it imports qrate, plans the point, runs one
small warm-up batch (JIT, stim), then reads its current resident set (``VmRSS``: the baseline),
resets the kernel's high-water mark (``/proc/self/clear_refs``) and runs one batch of the given size;
the peak is the high-water mark during that batch (``VmHWM``). Where the mark cannot be reset (not
Linux) the peak is ``ru_maxrss``, the process's lifetime peak, and the row says so
(``peak_method``). Each row reports memory: ``per_s`` holds the peak RSS in MiB (``unit``), with the
baseline, the batch's own increase (peak - baseline) and the ratio to the 1x peak; the batch's
pulses per second are kept as ``pulses_per_s``. Flat means the 100x peak stays within
``FLAT_TOLERANCE`` of the 1x peak.
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
import gc, json, resource, sys, time
from qrate.bench._plans import LEO, ghz4_plan, preset_plan
from qrate.engine import compile_protocol, run_batch


def status_kib(key):
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


kind, pulses = sys.argv[1], int(sys.argv[2])
_, plan = preset_plan(LEO, 0.0) if kind == "iid" else ghz4_plan(30.0, coherence_time_s=1e-4)
compiled = compile_protocol(plan)
run_batch(plan, compiled, 1, 0, 1000)
gc.collect()
base = status_kib("VmRSS")
hwm = reset_peak() and base is not None
if base is None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
k = run_batch(plan, compiled, 1, 1, pulses).successes
t = time.perf_counter() - t
peak = status_kib("VmHWM") if hwm else None
method = "VmHWM during the batch" if peak is not None else "ru_maxrss (lifetime peak)"
if peak is None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"baseline_kib": base, "peak_kib": max(peak, base), "seconds": t, "successes": k, "peak_method": method}))
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
            peak_mib, base_mib = m["peak_kib"] / 1024, m["baseline_kib"] / 1024
            out.append(
                row(
                    "memory",
                    f"{name}, {factor}x pulses",
                    peak_mib,
                    None,
                    unit="MiB peak RSS",
                    pulses=n * factor,
                    factor=factor,
                    successes=m["successes"],
                    baseline_rss_mib=base_mib,
                    peak_rss_mib=peak_mib,
                    batch_rss_mib=peak_mib - base_mib,
                    peak_vs_1x=m["peak_kib"] / base,
                    peak_method=m["peak_method"],
                    pulses_per_s=n * factor / m["seconds"],
                )
            )
    return out
