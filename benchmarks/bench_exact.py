"""Exact counter sampler vs per-shot stim: time per ``sample_counts`` call, and how it scales.

Usage: python benchmarks/bench_exact.py [--quick] [--out results/bench/exact.json]

1. ``CompiledProtocol.sample_counts(shots, seed)`` with ``sampler="exact"`` and ``"stim"`` (flip
   back end) for the Khan Q-ACKA and Q-AB protocols at their D = 0 noise (Z flips 0.02 on every
   fiber photon, readout flips 1e-5), at 1e4, 1e6 and 1e8 heralded shots, measured side by side
   (``--quick``: stim at 1e8 is projected from 1e6, flagged ``projected``).
2. Q-ACKA with every user a participant on 4, 8, 16, 32, 64 users (chains of 8-user networks),
   at the D = 0 noise and at a mixed one (X flips, depolarised Bell photons: wider walks):
   circuit build time, exact plan time (detector error model + table or walk, cache cleared),
   the key round's sampler and walk width, one ``sample_counts`` call at 1e6 shots, exact vs stim.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_time_s, write_json

from qrate.protocols import (
    AnonymousBroadcast,
    AnonymousConferenceKeyAgreement,
    PauliNoise,
    chain_layout,
    khan_acka_layout,
    khan_broadcast_layout,
)
from qrate.protocols.exact import clear_plan_cache, plan_round


def khan_cases():
    layout, parts, sender = khan_acka_layout()
    yield "acka (Khan)", layout, AnonymousConferenceKeyAgreement(layout, parts, sender, 0.1)
    layout, bc = khan_broadcast_layout()
    yield "broadcast (Khan)", layout, AnonymousBroadcast(layout, bc)


def noise_of(layout) -> PauliNoise:
    return PauliNoise(z_flip={u: 0.02 for u in layout.users}, readout_flip=1e-5)


def once_s(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_call(args: argparse.Namespace) -> list[dict]:
    rows = []
    print(f"{'protocol':18s} {'shots':>8s} {'exact s/call':>13s} {'stim s/call':>12s} {'stim/exact':>11s}")
    for name, layout, spec in khan_cases():
        ex = spec.compile(noise_of(layout), sampler="exact")
        st = spec.compile(noise_of(layout), sampler="stim")
        for shots in (10**4, 10**6, 10**8):
            t_ex = best_time_s(lambda n=shots, c=ex: c.sample_counts(n, 1), repeat=5, min_time_s=0.05)
            projected = False
            if shots <= 10**4:
                t_st = best_time_s(lambda n=shots, c=st: c.sample_counts(n, 1), repeat=3, min_time_s=0.05)
            elif shots <= 10**6 or not args.quick:
                t_st = once_s(lambda n=shots, c=st: c.sample_counts(n, 1))
            else:
                t_st, projected = once_s(lambda c=st: c.sample_counts(10**6, 1)) * shots / 10**6, True
            rows.append({"part": "per_call", "protocol": name, "shots": shots, "exact_s": t_ex, "stim_s": t_st,
                         "ratio": t_st / t_ex, "stim_projected": projected, "samplers": ex.round_samplers})
            flag = " (projected)" if projected else ""
            print(f"{name:18s} {shots:8.0e} {t_ex:13.3g} {t_st:12.3g} {t_st / t_ex:11.3g}{flag}")
    return rows


def mixed_noise(layout) -> PauliNoise:
    """Harsher noise: Z flips 0.02, X flips 0.01, depolarised Bell photons 0.03, readout flips 1e-3."""
    users = layout.users
    return PauliNoise(z_flip={u: 0.02 for u in users}, x_flip={u: 0.01 for u in users},
                      depolarize={q: 0.03 for q in layout.free_space_photons}, readout_flip=1e-3)


def scaling(args: argparse.Namespace) -> list[dict]:
    rows = []
    shots = 10**6
    print(f"\n{'noise':>5s} {'users':>5s} {'nets':>4s} {'build ms':>9s} {'plan ms':>8s} {'key sampler':>17s} {'open':>4s} "
          f"{'exact s@1e6':>11s} {'stim s@1e6':>10s} {'stim/exact':>10s}")
    for label, make_noise in (("D=0", noise_of), ("mixed", mixed_noise)):
        for n in (4, 8, 16, 32, 64):
            sizes = tuple([8] * (n // 8)) if n >= 8 else (n,)
            layout = chain_layout(sizes)
            spec = AnonymousConferenceKeyAgreement(layout, layout.users, layout.users[0], 0.1)
            noise = make_noise(layout)
            t_build = best_time_s(lambda s=spec, z=noise: s.compile(z, sampler="stim"), repeat=3, min_time_s=0.0)
            st = spec.compile(noise, sampler="stim")

            def plan(c=st):
                clear_plan_cache()
                return [plan_round(r.circuit, r.parities, r.flags) for r in c.rounds]

            t_plan = best_time_s(plan, repeat=3, min_time_s=0.0)
            ex = spec.compile(noise)
            t_ex = best_time_s(lambda c=ex: c.sample_counts(shots, 1), repeat=3, min_time_s=0.05)
            t_st = once_s(lambda c=st: c.sample_counts(shots, 1))
            key = ex.plans[0]
            width = getattr(key, "max_open", None)
            rows.append({"part": "scaling", "noise": label, "users": n, "networks": len(sizes), "build_s": t_build,
                         "plan_s": t_plan, "samplers": ex.round_samplers, "max_open": width, "exact_s": t_ex,
                         "stim_s": t_st, "ratio": t_st / t_ex, "shots": shots})
            print(f"{label:>5s} {n:5d} {len(sizes):4d} {t_build * 1e3:9.2f} {t_plan * 1e3:8.2f} {key.kind:>17s} "
                  f"{'-' if width is None else width:>4} {t_ex:11.3g} {t_st:10.3g} {t_st / t_ex:10.3g}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="project stim at 1e8 shots from 1e6")
    ap.add_argument("--out", default="results/bench/exact.json")
    args = ap.parse_args(argv)
    results = per_call(args) + scaling(args)
    print(f"wrote {write_json(args.out, 'exact', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
