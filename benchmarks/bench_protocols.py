"""Heralded shots per second of the protocol circuits: qrate's sample_counts vs raw stim.

Usage: python3 benchmarks/bench_protocols.py [--quick] --out results/bench/protocols.json

For each protocol and network size: ``qrate_compiled`` and ``qrate_flip`` time
``CompiledProtocol.sample_counts`` (multinomial round split, stim sampling, decoding, counting)
with the two stim back ends; ``stim_raw`` times ``compile_sampler(seed).sample(shots)`` of the
protocol's main circuit alone (no decoding): the physical limit of this stage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_time_s, write_json  # noqa: E402

from qrate.protocols import (  # noqa: E402
    AnonymousBroadcast,
    AnonymousConferenceKeyAgreement,
    AnonymousEntanglement,
    PauliNoise,
    chain_layout,
)


def cases(n: int):
    acka_layout = chain_layout((n - 1, 1), forward_last=True)
    users = acka_layout.users
    parts = tuple(users[: n // 2 - 1]) + (users[-1],)
    bl = chain_layout((n // 2, n - n // 2))
    ae = chain_layout((n // 2, n - n // 2))
    yield "acka", acka_layout.users, AnonymousConferenceKeyAgreement(acka_layout, parts, parts[0], 0.1), "key"
    yield "broadcast", bl.users, AnonymousBroadcast(bl, bl.users[0]), "broadcast"
    yield "anonymous-entanglement", ae.users, AnonymousEntanglement(ae, ae.users[0], ae.users[-1]), "xx"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="results/bench/protocols.json")
    args = ap.parse_args(argv)
    shots = 20_000 if args.quick else 200_000
    sizes = (4, 8) if args.quick else (4, 8, 16, 32)
    results = []
    for n in sizes:
        for name, users, spec, main_round in cases(n):
            noise = PauliNoise(z_flip={u: 0.02 for u in users}, readout_flip=1e-5)
            compiled = spec.compile(noise)
            flip = spec.compile(noise, method="flip")
            circ = compiled.circuits[main_round]
            t_q = best_time_s(lambda: compiled.sample_counts(shots, 1), repeat=3)
            t_f = best_time_s(lambda: flip.sample_counts(shots, 1), repeat=3)
            t_raw = best_time_s(lambda: circ.compile_sampler(seed=1).sample(shots), repeat=3)
            row = {
                "protocol": name, "parties": n, "shots": shots,
                "qubits": circ.num_qubits, "measurements": circ.num_measurements,
                "qrate_compiled_shots_per_s": shots / t_q,
                "qrate_flip_shots_per_s": shots / t_f,
                "stim_raw_shots_per_s": shots / t_raw,
            }
            results.append(row)
            print(f"{name:24s} n={n:2d}  qrate {row['qrate_compiled_shots_per_s']:.3g}/s  "
                  f"flip {row['qrate_flip_shots_per_s']:.3g}/s  raw stim {row['stim_raw_shots_per_s']:.3g}/s")
    path = write_json(args.out, "protocols", results, shots_per_call=shots)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
