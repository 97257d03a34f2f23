"""Heralded shots per second of the protocol circuits: exact sampler vs per-shot stim vs raw stim.

Usage: python benchmarks/bench_protocols.py [--quick] [--no-scaling] [--out results/bench/protocols.json]

1. For each protocol and network size (4, 8, 16, 32 parties; Z flips 0.02, readout flips 1e-5):
   ``exact`` times ``CompiledProtocol.sample_counts`` with the default exact sampler (cost
   independent of the shots; ``samplers`` says which exact sampler each round got), ``stim_compiled``
   and ``stim_flip`` the same call with ``sampler="stim"`` and that stim back end (multinomial round
   split, per-shot stim sampling, decoding, counting), and ``stim_raw`` ``compile_sampler(seed)
   .sample(shots)`` of the protocol's main circuit alone (no decoding): the limit of per-shot stim.
2. (unless ``--no-scaling``) the exact sampler's scaling with users, 4 … 64, with the sampler chosen
   at each size: ``benchmarks/bench_exact.py``'s ``scaling`` (Q-ACKA, every user a participant,
   D = 0 and mixed noise; build, plan, exact vs stim at 1e6 shots).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
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


def per_size(shots: int, sizes: tuple[int, ...]) -> list[dict]:
    results = []
    print(f"{'protocol':24s} {'n':>3s} {'exact/s':>9s} {'stim-comp/s':>11s} {'stim-flip/s':>11s} {'raw stim/s':>10s} "
          f"{'exact/stim':>10s}  samplers")
    for n in sizes:
        for name, users, spec, main_round in cases(n):
            noise = PauliNoise(z_flip={u: 0.02 for u in users}, readout_flip=1e-5)
            exact = spec.compile(noise)
            comp = spec.compile(noise, sampler="stim", method="compiled")
            flip = spec.compile(noise, sampler="stim", method="flip")
            circ = exact.circuits[main_round]
            t_ex = best_time_s(lambda c=exact: c.sample_counts(shots, 1), repeat=3, min_time_s=0.05)
            t_c = best_time_s(lambda c=comp: c.sample_counts(shots, 1), repeat=3)
            t_f = best_time_s(lambda c=flip: c.sample_counts(shots, 1), repeat=3)
            t_raw = best_time_s(lambda c=circ: c.compile_sampler(seed=1).sample(shots), repeat=3)
            row = {
                "protocol": name, "parties": n, "shots": shots,
                "qubits": circ.num_qubits, "measurements": circ.num_measurements,
                "samplers": exact.round_samplers,
                "exact_shots_per_s": shots / t_ex,
                "stim_compiled_shots_per_s": shots / t_c,
                "stim_flip_shots_per_s": shots / t_f,
                "stim_raw_shots_per_s": shots / t_raw,
                "stim_compiled_over_exact": t_c / t_ex,
            }
            results.append(row)
            print(f"{name:24s} {n:3d} {shots / t_ex:9.3g} {shots / t_c:11.3g} {shots / t_f:11.3g} {shots / t_raw:10.3g} "
                  f"{t_c / t_ex:10.3g}  {','.join(sorted(set(exact.round_samplers.values())))}")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 4 ... 64-user scaling of the exact sampler")
    ap.add_argument("--out", default="results/bench/protocols.json")
    args = ap.parse_args(argv)
    shots = 20_000 if args.quick else 200_000
    sizes = (4, 8) if args.quick else (4, 8, 16, 32)
    results = per_size(shots, sizes)
    if not args.no_scaling:
        from bench_exact import scaling

        print()
        results += scaling(args)
    path = write_json(args.out, "protocols", results, shots_per_call=shots, loadavg=os.getloadavg())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
