"""qrate vs SeQUeNCe (the discrete-event simulator a user would use instead) on the same distribution.

Usage (from the repository root; SeQUeNCe is in the ``bench`` extra: ``pip install sequence``)::

    python3 benchmarks/peer_sequence.py [--quick] [--sequence-from JSON] --out results/bench/peer_sequence.json

Without SeQUeNCe installed (or with ``--sequence-from``) the SeQUeNCe side is not run but read from
a stored run (default ``results/bench/reference-2026-11-22-peer-sequence.json``; rows say
``sequence_recorded``): SeQUeNCe's cost per pulse does not depend on qrate, so the ratio stays
meaningful, though measured on another day.

Cases, all from qrate's ``khan-acka-leo`` preset with detector efficiency 0.8 (both engines):

* ``bell``: the LEO Bell pair swapped to Alice (GS1, 1 km fiber) and Dina (GS2, 2 km fiber):
  a two-party Q-ACKA (GS1 holds a GHZ-2 = Bell pair with the BSM qubit);
* ``ghz4``: the preset itself: GHZ-4 among Alice, Bob, Charlie, Dina (1, 2, 3, 2 km fibers);
* ``ghz4-70dB``: the same at 70 dB total loss (timing only: no coincidences are expected;
  SeQUeNCe's time per success is extrapolated as time per pulse / expected success probability).

qrate runs one batch of 1e8 pulses per case (the reference figures' pulses per point; 1e12 at
70 dB, where 1e8 pulses would give no successes) with its default exact counter sampler, best of 5
(each looping to >= 50 ms), and for reference with ``sampler = "stim"`` (per-shot stim, best of 2);
the ratio is the exact sampler's. SeQUeNCe runs 40 000 pulses (4 000 with ``--quick``). Both on
one core.

SeQUeNCe model (the closest equivalent it can run): a source that emits exactly one polarization
GHZ-n (n = 2: Bell) state per pulse at 1 MHz into n ``QuantumChannel`` fiber tails (1-3 km) whose
attenuation (dB/m) is set so that each arm has qrate's end-to-end transmittance for that user
(fiber at 0.18 dB/km with coupling 0.9, and the free-space downlink's mean transmittance for the
forwarded photon; the BSM-side downlink's transmittance is folded into Alice's arm), then
``QSDetectorPolarization`` (beam splitter + two ``Detector`` with efficiency 0.8, no dark counts)
measuring X. What differs: SeQUeNCe has no free-space channel (fixed mean attenuation per arm,
exact for independent fading), and no BSM here: qrate's ideal BSM (success 1) is a deterministic
fusion, so SeQUeNCe is given the fused state directly; qrate's fiber dephasing (Z with p = 0.02
per traversal) is applied as a Z on the photon's joint ket when it arrives, because SeQUeNCe's own
polarization noise resets the photon to a random real state instead. A coincidence is a pulse in
which every user's detector clicks; Q_X is the fraction of coincidences with odd X parity.
qrate: ``Q_X = x_parity_errors / verify_rounds_x`` (X-verification rounds of Q-ACKA), coincidence
probability = successes / pulses.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import write_json  # noqa: E402

from qrate.bench._plans import LEO, ghz4_plan, preset_plan  # noqa: E402
from qrate.engine import PointPlan, run_batch  # noqa: E402

DETECTOR_EFFICIENCY = 0.8
RATE_HZ = 1e6
AGREE_Z = 4.0
"""|difference| / combined standard error below which the two engines agree."""

RECORDED = Path("results/bench/reference-2026-11-22-peer-sequence.json")
"""SeQUeNCe numbers used when SeQUeNCe is not installed (40 000 pulses per case, 2-vCPU VM, 2026-11-22)."""

BELL = ['nodes.ground_stations.GS1.users=["Alice"]', 'protocol.participants=["Alice","Dina"]',
        "links.fiber.lengths_km={Alice = 1.0, Dina = 2.0}"]


def _plan(case: str, distance_km: float) -> PointPlan:
    det = [f"detectors.efficiency={DETECTOR_EFFICIENCY}"]
    if case == "bell":
        return preset_plan(LEO, distance_km, BELL + det)[1]
    if case == "ghz4":
        return preset_plan(LEO, distance_km, det)[1]
    _, base = ghz4_plan(70.0)  # 70 dB with ideal detectors; add the detector term through t_atm as well
    t = math.sqrt(10 ** -7.0 / (base.p_success_expected * DETECTOR_EFFICIENCY**4))
    return preset_plan(LEO, 0.0, det + [f"links.leo.t_atm_zenith={t * base.downlinks[0].budget.t_atm!r}"])[1]


def arms(plan: PointPlan, lengths_km: dict[str, float]) -> list[tuple[str, float, float, float]]:
    """(user, fiber km, arm transmittance without the detector, Z-flip probability) per user."""
    to_bsm = math.prod(dl.mean_eta for dl in plan.downlinks if dl.to_user is None)
    out = []
    for i, u in enumerate(plan.users):
        eta = u.fiber_eta * u.switch_eta * (plan.downlinks[u.downlink].mean_eta if u.downlink >= 0 else 1.0)
        if i == 0:
            eta *= to_bsm
        out.append((u.user, lengths_km[u.user], eta, float(plan.noise.z_flip.get(u.user, 0.0))))
    return out


def qrate_side(plan: PointPlan, pulses: int, repeat: int, sampler: str = "exact") -> dict[str, Any]:
    """qrate: seconds per batch of ``pulses`` with counter sampler ``sampler`` (best of ``repeat`` rounds, each looping
    to >= 50 ms for the exact sampler), coincidence probability and Q_X."""
    compiled = plan.protocol.compile(plan.noise, sampler=sampler)
    run_batch(plan, compiled, 7, 0, min(pulses, 10**5))
    best = math.inf
    for i in range(repeat):
        calls, t = 0, time.perf_counter()
        while True:
            b = run_batch(plan, compiled, 7, i, pulses)
            calls += 1
            elapsed = time.perf_counter() - t
            if sampler == "stim" or elapsed >= 0.05:
                break
        best = min(best, elapsed / calls)
    p = b.successes / pulses
    n_x = b.counts["verify_rounds_x"]
    q = b.counts["x_parity_errors"] / n_x if n_x else float("nan")
    return {"sampler": sampler, "pulses": pulses, "seconds": best, "successes": b.successes, "p": p,
            "p_se": math.sqrt(p * (1 - p) / pulses),
            "q_x": q, "q_x_se": math.sqrt(q * (1 - q) / n_x) if n_x else float("nan"), "x_rounds": n_x}


def sequence_side(arm_list: list[tuple[str, float, float, float]], pulses: int, seed: int) -> dict[str, Any]:
    """SeQUeNCe: run ``pulses`` pulses; wall seconds, coincidences and X-parity errors."""
    from sequence.components.detector import QSDetectorPolarization
    from sequence.components.optical_channel import QuantumChannel
    from sequence.components.photon import Photon
    from sequence.kernel.entity import Entity
    from sequence.kernel.event import Event
    from sequence.kernel.process import Process
    from sequence.kernel.timeline import Timeline
    from sequence.topology.node import Node
    from sequence.utils.encoding import polarization

    n = len(arm_list)
    period_ps = round(1e12 / RATE_HZ)
    ghz = np.zeros(2**n, dtype=complex)
    ghz[0] = ghz[-1] = 1 / math.sqrt(2)
    ghz_state = tuple(complex(a) for a in ghz)

    class GHZSource(Entity):
        """Exactly one polarization GHZ-n per pulse, photon k sent to arm k (SPDCSource-like)."""

        def __init__(self, name: str, tl: Timeline, dsts: list[str]) -> None:
            super().__init__(name, tl)
            self.dsts = dsts

        def init(self) -> None:
            pass

        def emit(self, count: int) -> None:
            t = self.timeline.now()
            for _ in range(count):
                photons = [Photon("", self.timeline, wavelength=1550, location=self, encoding_type=polarization) for _ in self.dsts]
                for ph in photons[1:]:
                    photons[0].combine_state(ph)
                photons[0].set_state(ghz_state)
                for dst, ph in zip(self.dsts, photons):
                    self.timeline.schedule(Event(t, Process(self.owner, "send_qubit", [dst, ph])))
                t += period_ps

    class DephasingReceiver(Node):
        """Receiving node: Z on the arriving photon with probability p, then the polarization detector."""

        def __init__(self, name: str, tl: Timeline, p_z: float, seed: int) -> None:
            super().__init__(name, tl, seed=seed)
            self.p_z = p_z
            det = QSDetectorPolarization(name + ".qsd", tl)
            for d in det.detectors:
                d.efficiency = DETECTOR_EFFICIENCY
                d.dark_count = 0.0
                d.owner = self
            det.splitter.owner = self
            self.add_component(det)
            self.set_first_component(det.name)
            self.det = det

        def receive_qubit(self, src: str, qubit: Photon) -> None:
            if self.p_z > 0 and self.get_generator().random() < self.p_z:
                qs = qubit.quantum_state
                k = qs.entangled_states.index(qs)
                m = len(qs.entangled_states)
                v = np.array(qs.state, dtype=complex)
                bit = (np.arange(v.size) >> (m - 1 - k)) & 1
                v[bit == 1] *= -1
                qs.set_state(tuple(complex(a) for a in v))
            super().receive_qubit(src, qubit)

    tl = Timeline(stop_time=int((pulses + 100) * period_ps))
    src_node = Node("src", tl, seed=seed)
    receivers, delays = [], []
    for k, (user, length_km, eta, p_z) in enumerate(arm_list):
        r = DephasingReceiver(user, tl, p_z, seed + 1 + k)
        qc = QuantumChannel(f"qc.{user}", tl, attenuation=-10 * math.log10(eta) / (length_km * 1e3), distance=length_km * 1e3,
                            frequency=RATE_HZ)
        qc.set_ends(src_node, user)
        receivers.append(r)
    source = GHZSource("ghz", tl, [a[0] for a in arm_list])
    src_node.add_component(source)
    start = time.perf_counter()
    tl.init()
    for r in receivers:
        r.det.set_basis_list([1] * (pulses + 200), 0, RATE_HZ)  # X basis for every pulse
    delays = [src_node.qchannels[a[0]].delay for a in arm_list]
    source.emit(pulses)
    tl.run()
    seconds = time.perf_counter() - start
    clicks = np.zeros((n, pulses), dtype=np.int8)
    bits = np.zeros((n, pulses), dtype=np.int8)
    for k, r in enumerate(receivers):
        for outcome, times in enumerate(r.det.get_photon_times()):
            idx = np.rint((np.asarray(times, dtype=float) - delays[k]) / period_ps).astype(np.int64)
            idx = idx[(idx >= 0) & (idx < pulses)]
            clicks[k, idx] += 1
            bits[k, idx] ^= outcome
    coinc = np.all(clicks == 1, axis=0)
    parity = np.bitwise_xor.reduce(bits[:, coinc], axis=0) if coinc.any() else np.zeros(0, dtype=np.int8)
    k_c = int(coinc.sum())
    p = k_c / pulses
    q = float(parity.mean()) if k_c else float("nan")
    return {"pulses": pulses, "seconds": seconds, "successes": k_c, "p": p, "p_se": math.sqrt(max(p * (1 - p), 1 / pulses) / pulses),
            "q_x": q, "q_x_se": math.sqrt(q * (1 - q) / k_c) if k_c else float("nan")}


def _z(a: float, sa: float, b: float, sb: float) -> float:
    se = math.hypot(sa, sb)
    return abs(a - b) / se if se > 0 else (0.0 if a == b else math.inf)


def compare(case: str, distance_km: float, seq_pulses: int, qrate_pulses: int, repeat: int, seed: int,
            recorded: dict[str, Any] | None = None) -> dict[str, Any]:
    """One comparison row: SeQUeNCe (run now, or ``recorded``: the ``sequence`` part of a stored row) vs qrate with
    the exact sampler (the default; the ratio) and with per-shot stim (``qrate_stim``, for reference)."""
    plan = _plan(case, distance_km)
    lengths = {"Alice": 1.0, "Bob": 2.0, "Charlie": 3.0, "Dina": 2.0}
    arm_list = arms(plan, lengths)
    p_expected = plan.p_success_expected
    s = recorded if recorded is not None else sequence_side(arm_list, seq_pulses, seed)
    q = qrate_side(plan, qrate_pulses, repeat)
    qs = qrate_side(plan, qrate_pulses, min(repeat, 2), "stim")
    seq_per_pulse, q_per_pulse = s["seconds"] / s["pulses"], q["seconds"] / q["pulses"]
    out: dict[str, Any] = {
        "stage": "peer", "name": f"SeQUeNCe vs qrate: {case}, D = {distance_km:g} km", "unit": "pulses/s/core (SeQUeNCe)",
        "case": case, "ground_distance_km": distance_km, "total_loss_db": -10 * math.log10(p_expected),
        "arms": [{"user": u, "fiber_km": L, "transmittance": e, "z_flip": z} for u, L, e, z in arm_list],
        "detector_efficiency": DETECTOR_EFFICIENCY, "p_expected": p_expected,
        "sequence": s, "sequence_recorded": recorded is not None, "qrate": q, "qrate_stim": qs,
        "sequence_s_per_pulse": seq_per_pulse, "qrate_s_per_pulse": q_per_pulse,
        "qrate_stim_s_per_pulse": qs["seconds"] / qs["pulses"],
        "sequence_s_per_success": s["seconds"] / s["successes"] if s["successes"] else seq_per_pulse / p_expected,
        "sequence_s_per_success_extrapolated": s["successes"] == 0,
        "qrate_s_per_success": q["seconds"] / q["successes"] if q["successes"] else None,
        "qrate_over_sequence_per_pulse": seq_per_pulse / q_per_pulse,
        "qrate_stim_over_sequence_per_pulse": seq_per_pulse / (qs["seconds"] / qs["pulses"]),
        "per_s": 1 / seq_per_pulse, "limit_per_s": None, "fraction_of_limit": None,
    }
    if s["successes"] >= 100:
        zp, zq = _z(s["p"], s["p_se"], q["p"], q["p_se"]), _z(s["q_x"], s["q_x_se"], q["q_x"], q["q_x_se"])
        out.update(z_coincidence=zp, z_q_x=zq, agree=bool(zp < AGREE_Z and zq < AGREE_Z))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds of SeQUeNCe per case")
    ap.add_argument("--out", default="results/bench/peer_sequence.json")
    ap.add_argument("--sequence-from", type=Path, default=None, metavar="JSON",
                    help="reuse the SeQUeNCe side recorded in this peer_sequence JSON (e.g. a reference file) instead of"
                         " running SeQUeNCe; the default when SeQUeNCe is not installed: " + str(RECORDED))
    args = ap.parse_args(argv)
    recorded_path = args.sequence_from
    if recorded_path is None:
        try:
            import sequence  # noqa: F401
        except ImportError:
            if not RECORDED.exists():
                print("SeQUeNCe is not installed (pip install sequence, or the qrate 'bench' extra) and no recorded"
                      " SeQUeNCe numbers were found; skipping the peer comparison.")
                path = write_json(args.out, "peer_sequence", [], skipped="sequence not installed")
                print(f"wrote {path}")
                return 0
            recorded_path = RECORDED
            print(f"SeQUeNCe is not installed: using the SeQUeNCe numbers recorded in {recorded_path}")
    recorded = {}
    if recorded_path is not None:
        for r in json.loads(recorded_path.read_text())["results"]:
            recorded[(r["case"], float(r["ground_distance_km"]))] = r["sequence"]
    seq_pulses = 4000 if args.quick else 40_000
    repeat = 2 if args.quick else 5
    cases = [("bell", 0.0), ("bell", 2000.0), ("ghz4", 0.0), ("ghz4", 2000.0), ("ghz4-70dB", 0.0)]
    results = []
    for i, (case, d) in enumerate(cases):
        q_pulses = (10**10 if args.quick else 10**12) if case == "ghz4-70dB" else (10**7 if args.quick else 10**8)
        rec = recorded.get((case, d)) if recorded_path is not None else None
        if recorded_path is not None and rec is None:
            print(f"{case} D={d:g}: no recorded SeQUeNCe row in {recorded_path}; skipped")
            continue
        r = compare(case, d, seq_pulses, q_pulses, repeat, seed=1000 + i, recorded=rec)
        results.append(r)
        s, q, qs = r["sequence"], r["qrate"], r["qrate_stim"]
        agree = r.get("agree")
        print(f"{case:10s} D={d:6g} km loss {r['total_loss_db']:5.1f} dB | SeQUeNCe {s['seconds'] / s['pulses']:9.3g} s/pulse, "
              f"p={s['p']:.4f}±{s['p_se']:.4f} Q_X={s['q_x']:.4f}±{s['q_x_se']:.4f} | qrate exact {q['seconds'] / q['pulses']:9.3g} s/pulse"
              f" (stim {qs['seconds'] / qs['pulses']:9.3g}), p={q['p']:.4f} Q_X={q['q_x']:.4f} | ratio {r['qrate_over_sequence_per_pulse']:.3g}x"
              f" (stim {r['qrate_stim_over_sequence_per_pulse']:.3g}x) | agree={agree}", flush=True)
    path = write_json(args.out, "peer_sequence", results, sequence_pulses=seq_pulses, quick=args.quick,
                      sequence_source=str(recorded_path) if recorded_path is not None else "run now")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
