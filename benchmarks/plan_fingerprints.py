"""Fingerprints of every plan field and point key, to compare two checkouts' planning bit for bit.

Usage (from any directory; ``PYTHONPATH`` picks the checkout)::

    PYTHONPATH=/path/to/checkout python benchmarks/plan_fingerprints.py OUT.json [--points 10000]

Plans every preset (each with its own sweep), and the scale benchmark's grid
(``benchmarks/bench_scale.py``: distance x aperture x divergence) at ``--points`` points, a zipped grid, a
network-size grid (``user_count`` x ``participants = "all"``) and a swept pass run; writes, per case, the
point count and one line per plan: its key and ``repr`` of every field, its ``params()`` as JSON (floats by
``repr``, which is exact). Two checkouts plan identically when the two files are equal.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FIELDS = (
    "index", "ground_distance_km", "key", "downlinks", "users", "sources", "bsm_count", "bsm_success", "block_pulses",
    "factors_a", "factors_b", "constant", "noise", "repetition_rate_hz", "sampler", "key_block_s", "pulses_per_batch",
    "finite_key",
)  # fmt: skip


def fingerprint(plan) -> str:
    fields = {f: repr(getattr(plan, f)) for f in FIELDS}
    fields["axes"] = repr(dict(plan.axes))
    fields["extra"] = repr(dict(plan.extra))
    fields["memory"] = repr(plan.memory)
    fields["protocol"] = f"{type(plan.protocol).__name__}:{plan.protocol.report().to_json()}"
    fields["params"] = json.dumps(plan.params(), sort_keys=True, default=repr)
    return json.dumps(fields, sort_keys=True)


def cases(points: int):
    from bench_scale import grid_axes

    from qrate.scenario.presets import preset_names

    for name in preset_names():
        yield name, name, [], []
    yield "bench-grid", "khan-acka-leo", [], grid_axes(points)
    yield "zip", "khan-acka-leo", ["sweep.zip=true", "sweep.ground_distance_km=[100.0, 400.0, 800.0]"], [
        "links.leo.aperture_radius_m=0.5,1.0,2.0", "links.leo.divergence_rad=4e-6,6e-6,8e-6"]  # fmt: skip
    network = [
        "links.fiber.lengths_km={Dina = 2.0}",
        "links.fiber.default_length_km=1.0",
        'protocol.sender="GS1-u1"',
        'protocol.participants="all"',
        "nodes.ground_stations.GS1.user_count=3",
        "sweep.ground_distance_km=[0.0, 500.0]",
    ]
    yield (
        "network",
        "khan-acka-leo",
        network,
        ["nodes.ground_stations.GS1.user_count=2,3,5", "links.leo.aperture_radius_m=0.5,1.0"],
    )
    yield "pass-axes", "micius-pass-acka", [], ["links.leo.aperture_radius_m=0.3,0.6"]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--points", type=int, default=10000)
    args = parser.parse_args()
    from qrate.engine.grid import plan_sweep
    from qrate.scenario.load import load_scenario

    out = {}
    for case, preset, sets, sweeps in cases(args.points):
        plans = plan_sweep(load_scenario(preset, sets, sweeps))
        lines = [fingerprint(p) for p in plans]
        out[case] = {"points": len(plans), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(), "plans": lines}
        print(case, len(plans), out[case]["sha256"][:16], flush=True)
    Path(args.out).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
