"""qrate vs requsim (Wallnoefer's event-based repeater simulator) on one two-link repeater.

Usage (from the repository root; requsim is in the ``bench`` extra: ``pip install requsim``)::

    python3 benchmarks/peer_requsim.py [--quick] [--out results/bench/peer_requsim.json]

Inputs, the same on both sides: stations A and B at distance L with a repeater station in the middle
that holds a pair source for each side and one memory qubit per side; link success per trial
P_link exp(-(L/2)/L_att) with P_link = 0.8 and L_att = 22 km; a trial lasts L/c (the photon to the
far station and its herald back, c = 2e8 m/s); the repeater's memory qubits dephase with T2 = 0.1 s
(Z with (1 - exp(-t/T2))/2), the end stations' do not; no cutoff; once both pairs exist the repeater
swaps them with a BSM of depolarising parameter lambda = 0.99, written trace-preserving,
lambda rho + (1 - lambda) tr(rho) I/4 (requsim's own example omits tr(rho), which adds spurious
coherences because requsim applies such maps block by block). L = 20, 97 and 200 km.

* requsim: ``World``, three ``Station`` objects, two ``SchedulingSource`` objects (geometric trial counts),
  a ``TwoLinkProtocol`` that keeps one pair per link and swaps when both exist; its pairs' density
  matrices give the fidelity with Phi+ and the Z/X correlations (``standard_bipartite_evaluation``).
* qrate: :func:`qrate.memory.herald.herald_memory` on a :class:`~qrate.memory.plan.MemoryPlan` with the
  two links (no cutoff, trigger 1), each stored qubit held (k + 1) L/c; its dephasing events come out
  as exact classes (even/odd number of Z flips) and the BSM's depolarisation is mixed in exactly:
  F = lambda * P(even) + (1 - lambda)/4, e_X = lambda P(odd) + (1 - lambda)/2, e_Z = (1 - lambda)/2.

Reported per L: pairs/s and fidelity of both with standard errors, the closed forms
(:mod:`qrate.memory.waiting`), and the difference in standard errors.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import write_json

from qrate.formulas import binary_entropy
from qrate.memory import waiting
from qrate.memory.herald import herald_memory
from qrate.memory.plan import NO_CUTOFF, MemoryPlan, StoredPhoton

P_LINK, L_ATT_M, C_M_PER_S, T2_S, LAMBDA_BSM = 0.8, 22e3, 2e8, 0.1, 0.99
LENGTHS_KM = (20.0, 97.0, 200.0)


def link_probability(length_m: float) -> float:
    """Success per trial of one link (half the distance)."""
    return P_LINK * math.exp(-(length_m / 2) / L_ATT_M)


def run_requsim(length_m: float, pairs: int, seed: int) -> dict[str, Any]:
    """requsim's two-link repeater; rate from the pairs' times, fidelity and correlations from their states."""
    import requsim.libs.matrix as mat
    from requsim.events import EntanglementSwappingEvent
    from requsim.noise import NoiseChannel, NoiseModel
    from requsim.quantum_objects import SchedulingSource, Station
    from requsim.tools.evaluation import standard_bipartite_evaluation
    from requsim.tools.noise_channels import z_noise_channel
    from requsim.tools.protocol import TwoLinkProtocol
    from requsim.world import World

    np.random.seed(seed)  # requsim draws from numpy's global generator
    trial_s = length_m / C_M_PER_S
    p = link_probability(length_m)

    def memory_dephasing(rho: np.ndarray, t: float) -> np.ndarray:
        return z_noise_channel(rho=rho, epsilon=(1 - np.exp(-t / T2_S)) / 2)

    def bsm_noise(rho: np.ndarray) -> np.ndarray:
        return LAMBDA_BSM * rho + (1 - LAMBDA_BSM) * np.trace(rho) * mat.I(4) / 4

    def trials_time(source: Any) -> float:
        return np.random.geometric(p) * trial_s

    def fresh_pair(source: Any) -> np.ndarray:
        rho = mat.phiplus @ mat.H(mat.phiplus)
        for index, station in enumerate(source.target_stations):  # held for the herald's round trip
            if station.memory_noise is not None:
                rho = station.memory_noise.apply_to(rho=rho, qubit_indices=[index], t=trial_s)
        return rho

    class Repeater(TwoLinkProtocol):
        def check(self, message: Any = None) -> None:
            left, right = self._get_left_pairs(), self._get_right_pairs()
            if not left and not self._left_pairs_scheduled():
                self.source_A.schedule_event()
            if not right and not self._right_pairs_scheduled():
                self.source_B.schedule_event()
            if len(left) == 1 and len(right) == 1:
                self.world.event_queue.add_event(
                    EntanglementSwappingEvent(
                        time=self.world.event_queue.current_time, pairs=[left[0], right[0]], station=self.station_central
                    )
                )
            for pair in self._get_long_range_pairs():
                self._eval_pair(pair)
                for qubit in pair.qubits:
                    qubit.destroy()
                pair.destroy()

    world = World()
    a = Station(world=world, position=0)
    mid = Station(
        world=world,
        position=length_m / 2,
        memory_noise=NoiseChannel(n_qubits=1, channel_function=memory_dephasing),
        BSM_noise_model=NoiseModel(channel_before=NoiseChannel(n_qubits=2, channel_function=bsm_noise)),
    )
    b = Station(world=world, position=length_m)
    for targets in ([a, mid], [mid, b]):
        SchedulingSource(
            world=world,
            position=mid.position,
            target_stations=targets,
            time_distribution=trials_time,
            state_generation=fresh_pair,
        )
    protocol = Repeater(world=world, communication_speed=C_M_PER_S)
    protocol.setup()
    start = time.perf_counter()
    message = None
    while len(protocol.time_list) < pairs:
        protocol.check(message=message)
        message = world.event_queue.resolve_next_event()
    seconds = time.perf_counter() - start
    data = protocol.data
    fidelity, fidelity_std, key, key_std = standard_bipartite_evaluation(data_frame=data)
    times = np.asarray(data["time"], dtype=float)
    gaps = np.diff(np.concatenate([[0.0], times]))
    rate = len(times) / times[-1]
    return {
        "pairs": len(times),
        "rate_hz": rate,
        "rate_se_hz": rate * gaps.std(ddof=1) / gaps.mean() / math.sqrt(len(gaps)),
        "fidelity": float(fidelity),
        "fidelity_se": float(fidelity_std) / math.sqrt(len(times)),
        "key_bps": float(key),
        "key_se_bps": float(key_std) / math.sqrt(len(times)),
        "seconds": seconds,
    }


def cycle_cv(p: float) -> float:
    """Coefficient of variation of the attempts until both links succeed, T = max of two geometrics."""
    k = np.arange(1, 200_000, dtype=np.float64)
    tail = 1 - (1 - (1 - p) ** (k - 1)) ** 2  # P(T >= k)
    mean, second = tail.sum(), ((2 * k - 1) * tail).sum()
    return math.sqrt(second - mean**2) / mean


def run_qrate(length_m: float, pairs: int, seed: int) -> dict[str, Any]:
    """qrate's renewal sampler and exact storage-noise classes on the same repeater."""
    trial_s = length_m / C_M_PER_S
    p = link_probability(length_m)
    photons = tuple(StoredPhoton(j, (f"m{j}",), "repeater", trial_s, T2_S, "dephasing", 1.0, None, "exponential") for j in (0, 1))
    plan = MemoryPlan(trial_s, 1, ("left", "right"), (p, p), (1, 1), (p, p), (NO_CUTOFF,) * 2, 1.0, 1.0, 1.0, photons)
    duration_s = pairs * trial_s * waiting.expected_attempts_two_links(p)
    start = time.perf_counter()
    h = herald_memory(plan, duration_s, np.random.default_rng(seed))
    seconds = time.perf_counter() - start
    n = h.successes
    odd = (h.classes.get(1, 0) + h.classes.get(2, 0)) / n
    fidelity = LAMBDA_BSM * (1 - odd) + (1 - LAMBDA_BSM) / 4
    e_x = LAMBDA_BSM * odd + (1 - LAMBDA_BSM) / 2
    e_z = (1 - LAMBDA_BSM) / 2
    rate = n / (h.attempts * trial_s)
    key_fraction = 1 - float(binary_entropy(e_x)) - float(binary_entropy(e_z))
    return {
        "pairs": n,
        "rate_hz": rate,
        "rate_se_hz": rate * cycle_cv(p) / math.sqrt(h.deliveries),  # renewal count: CV of a cycle over sqrt(cycles)
        "fidelity": fidelity,
        "fidelity_se": LAMBDA_BSM * math.sqrt(odd * (1 - odd) / n),
        "key_bps": rate * key_fraction,
        "seconds": seconds,
    }


def closed_forms(length_m: float) -> dict[str, float]:
    trial_s = length_m / C_M_PER_S
    p = link_probability(length_m)
    rate = 1 / (trial_s * waiting.expected_attempts_two_links(p))
    return {
        "rate_hz": rate,
        "fidelity": waiting.chain_fidelity(p, trial_s, T2_S, LAMBDA_BSM),
        "key_bps": rate * waiting.chain_key_fraction(p, trial_s, T2_S, LAMBDA_BSM),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1000 pairs per length instead of 10000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="results/bench/peer_requsim.json")
    args = ap.parse_args(argv)
    pairs = 1000 if args.quick else 10_000
    rows = []
    print(
        f"{'L_km':>6} {'requsim pairs/s':>18} {'qrate pairs/s':>18} {'closed':>9} {'requsim F':>17} {'qrate F':>17} {'closed F':>9}"
    )
    for i, length_km in enumerate(LENGTHS_KM):  # a seed per length: the lengths' errors are independent
        length_m = length_km * 1e3
        r = run_requsim(length_m, pairs, args.seed + i)
        q = run_qrate(length_m, pairs, args.seed + i)
        c = closed_forms(length_m)
        rows.append(
            {
                "length_km": length_km,
                "requsim": r,
                "qrate": q,
                "closed_form": c,
                "rate_diff_sigma": (q["rate_hz"] - r["rate_hz"]) / math.hypot(q["rate_se_hz"], r["rate_se_hz"]),
                "fidelity_diff_sigma": (q["fidelity"] - r["fidelity"]) / math.hypot(q["fidelity_se"], r["fidelity_se"]),
            }
        )
        print(
            f"{length_km:6.0f} {r['rate_hz']:10.4g} ± {r['rate_se_hz']:<5.2g} {q['rate_hz']:10.4g} ± {q['rate_se_hz']:<5.2g}"
            f" {c['rate_hz']:9.4g} {r['fidelity']:.5f} ± {r['fidelity_se']:.5f} {q['fidelity']:.5f} ± {q['fidelity_se']:.5f}"
            f" {c['fidelity']:9.5f}   key bit/s: requsim {r['key_bps']:.4g}, qrate {q['key_bps']:.4g}, closed {c['key_bps']:.4g};"
            f" time: requsim {r['seconds']:.1f} s, qrate {q['seconds'] * 1e3:.1f} ms"
        )
    out = write_json(args.out, "peer_requsim", rows, pairs=pairs, seed=args.seed)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
