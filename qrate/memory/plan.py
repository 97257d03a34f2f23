"""A sweep point's memory plan: which links are stored, their success per attempt, the attempt period.

Memory-assisted heralding (qrate/MODELS.md, "Quantum memories") splits the synchronous success
probability of a pulse, ``constant · Π_k (a_k η_k + b_k)`` (:mod:`qrate.engine.plan`), into

* **stored links**: a free-space link whose photon a node keeps; it succeeds per attempt with
  ``pair · Π_{its downlinks} (a_k η_k + b_k) · write efficiencies``, multiplexed over the modes one attempt
  fills (``min(modes, pulses per attempt × modes_per_pulse)``). A platform memory keeps the partner of
  every downlink photon, so each downlink is a stored link with its own pair;
  With ``heralded_write`` a node learns at once which photons it wrote: only those take a mode, and
  the link is tried at every pulse (its latency only lengthens the storage);
* the **trigger**: everything without a memory that must succeed in one pulse of the delivery attempt
  (GHZ sources, links nobody stores), tried at every pulse of the attempt;
* the **final** step at delivery: BSMs, the detection of users served over fiber, the memories' read
  efficiency (decaying with storage time) and a platform's on-board swap.

The attempt period is ``max(1/repetition_rate_hz, herald latency of the memories without a heralded write)``: a memory mode is free again only
when the heralds of its link have reached it. A ground memory waits for the other station's herald,
ground distance / ``herald_speed_m_per_s``; a platform memory for the photon to reach the ground and the
herald to come back, slant range × (1/c + 1/herald speed). A stored photon is held for
``k · attempt period + its latency``, k the attempts it waited (:mod:`qrate.memory.renewal`).
With every node at one mode and cutoff 0 nothing is ever held: the plan is None and the synchronous
(pipelined) architecture applies unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qrate.engine import hardware
from qrate.errors import InputError
from qrate.memory.waiting import multiplexed_probability

if TYPE_CHECKING:
    from qrate.engine.plan import PointPlan
    from qrate.scenario.schema import Memory, Scenario

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
NO_CUTOFF = 1 << 62
"""Cutoff in attempts standing for "hold forever"."""


@dataclass(frozen=True, slots=True)
class StoredPhoton:
    """A photon kept in a memory: the stored link it belongs to (index), its protocol noise keys, the least
    time it is held (its herald latency, s), and the memory's decoherence and read-out."""

    link: int
    keys: tuple[str, ...]
    node: str
    latency_s: float
    coherence_time_s: float | None
    decoherence: str
    read_efficiency: float
    efficiency_lifetime_s: float | None
    efficiency_decay: str


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Memory-assisted heralding at one point (module docstring).

    Attributes:
        attempt_period_s: time between attempts; pulses_per_attempt: source pulses in one period.
        link_names, p_single, modes, p_links: stored links, success per mode, modes per attempt, and
            success per attempt 1 − (1 − p_single)^modes (``parallel``: per mode).
        cutoffs: attempts a link's success is held at most (:data:`NO_CUTOFF`: forever).
        p_trigger_pulse, p_trigger: the memoryless part's success per pulse and per attempt.
        final_probability: success of the final step before read-out efficiencies.
        photons: the stored photons.
        parallel: every mode holds its own success (``p_links`` per mode, ``modes`` per link) and the
            links' successes are paired first in, first out (:func:`qrate.memory._kernels.multimode_deliveries`).
        expected_per_pulse: delivered states per source pulse from the closed forms
            (:mod:`qrate.memory.expected`; None where none applies).
    """

    attempt_period_s: float
    pulses_per_attempt: int
    link_names: tuple[str, ...]
    p_single: tuple[float, ...]
    modes: tuple[int, ...]
    p_links: tuple[float, ...]
    cutoffs: tuple[int, ...]
    p_trigger_pulse: float
    p_trigger: float
    final_probability: float
    photons: tuple[StoredPhoton, ...]
    expected_per_pulse: float | None = None
    parallel: bool = False

    def read_out_probability(self, storage_s: Any) -> Any:
        """Final-step success given each photon's storage time (array (D, photons) -> (D,))."""
        import numpy as np

        t = np.asarray(storage_s, dtype=np.float64)
        p = np.full(t.shape[:-1], self.final_probability)
        for j, ph in enumerate(self.photons):
            eff = np.full(t.shape[:-1], ph.read_efficiency)
            if ph.efficiency_lifetime_s is not None:
                x = t[..., j] / ph.efficiency_lifetime_s
                eff = eff * np.exp(-(x * x if ph.efficiency_decay == "gaussian" else x))
            p = p * eff
        return p

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (stored with the point)."""
        return {
            "attempt_period_s": self.attempt_period_s,
            "pulses_per_attempt": self.pulses_per_attempt,
            "links": {
                n: {"p_single": p1, "modes": m, "p_attempt": p, "cutoff_attempts": c if c < NO_CUTOFF else None}
                for n, p1, m, p, c in zip(self.link_names, self.p_single, self.modes, self.p_links, self.cutoffs)
            },
            "p_trigger_pulse": self.p_trigger_pulse,
            "p_trigger_attempt": self.p_trigger,
            "final_probability": self.final_probability,
            "parallel": self.parallel,
            "expected_per_pulse": self.expected_per_pulse,
            "photons": [
                {"node": ph.node, "keys": list(ph.keys), "latency_s": ph.latency_s, "coherence_time_s": ph.coherence_time_s}
                for ph in self.photons
            ],
        }


def memoryless(scenario: Scenario) -> bool:
    """Whether no memory ever holds a photon (every node one mode and cutoff 0)."""
    return all(
        m.modes == 1 and m.modes_per_pulse == 1 and (m.cutoff_attempts == 0 or m.cutoff_s == 0.0)
        for m in scenario.memories.values()
    )


def _cutoff(mem: Memory, period_s: float) -> int:
    if mem.cutoff_attempts is not None:
        return mem.cutoff_attempts
    if mem.cutoff_s is not None:
        return math.floor(mem.cutoff_s / period_s * (1 + 1e-12))
    return NO_CUTOFF


def memory_plan(scenario: Scenario, plan: PointPlan) -> MemoryPlan | None:
    """The memory plan of ``plan``'s point (None: no memories, or memoryless ones)."""
    if not scenario.memories or memoryless(scenario):
        return None
    if getattr(plan.protocol, "pulse_counters", False):
        raise InputError(
            "memories", f"protocol {scenario.protocol.name!r} draws its own pulses; memories are not modelled for it"
        )
    rate = scenario.sources.repetition_rate_hz
    link_names = list(scenario.free_space_links())
    res = plan.protocol.carrier_resources
    downs: dict[int, list[int]] = {}
    for k, dl in enumerate(plan.downlinks):
        downs.setdefault(dl.link_index, []).append(k)
    factor = [a * dl.mean_eta + b for a, b, dl in zip(plan.factors_a, plan.factors_b, plan.downlinks)]
    order = sorted(downs)
    pairs_per_link = {i: sum(1 for j in range(res["bell"]) if j % len(order) == order.index(i)) for i in order}
    pair = {
        i: scenario.sources.source.bell(plan.downlinks[downs[i][0]].mean_eta, plan.downlinks[downs[i][-1]].mean_eta)
        for i in order
    }
    stations = scenario.nodes.ground_stations
    where: dict[int, list[tuple[str, Memory]]] = {}
    for node, mem in scenario.memories.items():
        for name in mem.stores:
            where.setdefault(link_names.index(name), []).append((node, mem))
    trigger = scenario.sources.source.ghz_success_probability ** res["ghz"]
    final = plan.bsm_success**plan.bsm_count
    for u in plan.users:
        if u.downlink < 0:
            tau = u.fiber_eta * u.detector_efficiency
            final *= tau + (1.0 - tau) * u.noise_click_probability
    # stored links: (name, success per mode, nodes, photons as (node, memory, keys, latency, written per pulse))
    stored: list[tuple[str, float, list[tuple[str, Memory]], list[tuple[str, Memory, tuple[str, ...], float, float]]]] = []
    for i in order:
        p_pair = pair[i][0] ** pairs_per_link[i]
        if i not in where:
            trigger *= p_pair * math.prod(factor[k] for k in downs[i])
            continue
        nodes = where[i]
        if nodes[0][0] in stations:  # ground memories: one stored link, a photon per storing station
            p = p_pair * math.prod(factor[k] for k in downs[i]) * math.prod(m.write_efficiency for _, m in nodes)
            latency = plan.ground_distance_km * 1e3
            local = {plan.downlinks[k].ground_station: p_pair * factor[k] for k in downs[i]}
            held = [
                (
                    node,
                    m,
                    plan.protocol.downlink_photons(i, node),
                    latency / m.herald_speed_m_per_s,
                    local[node] * m.write_efficiency,
                )
                for node, m in nodes
            ]
            stored.append((link_names[i], p, nodes, held))
        else:  # a platform memory keeps each downlink photon's partner: one pair and one stored link per downlink
            node, m = nodes[0]
            for k in downs[i]:
                dl = plan.downlinks[k]
                slant_m = dl.budget.geometry.slant_range_km * 1e3
                latency = slant_m / SPEED_OF_LIGHT_M_PER_S + slant_m / m.herald_speed_m_per_s
                p = p_pair * factor[k] * m.write_efficiency
                keys = plan.protocol.downlink_photons(i, dl.ground_station)
                name = f"{link_names[i]}.{dl.ground_station}"
                stored.append((name, p, nodes, [(node, m, keys, latency, m.write_efficiency)]))
            final *= m.swap_success
    latencies = [lat for *_, held in stored for _, m, _, lat, _ in held if not m.heralded_write]
    period = max([1.0 / rate, *latencies])
    pulses = max(1, math.floor(period * rate * (1 + 1e-12)))
    p_single: list[float] = []
    modes: list[int] = []
    p_links: list[float] = []
    cutoffs: list[int] = []
    photons: list[StoredPhoton] = []
    parallel = {m.multiplexing == "parallel" for *_, nodes, _ in stored for _, m in nodes}
    if len(parallel) > 1:
        raise InputError(f"memories.{next(iter(scenario.memories))}.multiplexing", "give every memory the same multiplexing")
    for j, (name, p, nodes, phs) in enumerate(stored):
        m_eff = min(min(m.modes, pulses * m.modes_per_pulse) if not m.heralded_write else m.modes_per_pulse for _, m in nodes)
        for node, m, _, lat, written in phs:
            busy = rate * m.modes_per_pulse * written * (lat + period) if m.heralded_write else 0.0
            if busy > m.modes:  # blocking is not modelled: the memory must hold every heralded photon
                raise InputError(
                    f"memories.{node}.modes",
                    f"{m.modes} modes cannot hold the {busy:.3g} photons of {name} waiting for their heralds on average",
                )
        p_single.append(p)
        modes.append(m_eff)
        p_links.append(p if True in parallel else multiplexed_probability(p, m_eff))
        cutoffs.append(min(_cutoff(m, period) for _, m in nodes))
        for node, m, keys, lat, _ in phs:
            photons.append(
                StoredPhoton(
                    j, tuple(keys), node, lat, m.coherence_time_s, m.decoherence,
                    m.read_efficiency, m.efficiency_lifetime_s, m.efficiency_decay,
                )
            )  # fmt: skip
    mp = MemoryPlan(
        attempt_period_s=period,
        pulses_per_attempt=pulses,
        link_names=tuple(name for name, *_ in stored),
        p_single=tuple(p_single),
        modes=tuple(modes),
        p_links=tuple(p_links),
        cutoffs=tuple(cutoffs),
        p_trigger_pulse=trigger,
        p_trigger=multiplexed_probability(trigger, pulses) if trigger > 0 else 0.0,
        final_probability=final,
        photons=tuple(photons),
        parallel=True in parallel,
    )
    from qrate.memory.expected import expected_rate_hz

    try:
        return dataclasses.replace(mp, expected_per_pulse=expected_rate_hz(mp) / rate)
    except ValueError:  # no closed form: the sampled rate only
        return mp


def swap_noise(scenario: Scenario, plan: PointPlan) -> dict[str, float]:
    """Extra depolarisation of a platform memory's delivery (``DEPOLARIZE1`` by photon key): the on-board
    swap's λ (a two-photon depolarisation 1 − λ on the swapped pair) and the second pair's own error."""
    out: dict[str, float] = {}
    links = list(scenario.free_space_links())
    for node, mem in scenario.memories.items():
        if node in scenario.nodes.ground_stations:
            continue
        for name in mem.stores:
            i = links.index(name)
            dls = [dl for dl in plan.downlinks if dl.link_index == i]
            first = plan.protocol.downlink_photons(i, dls[0].ground_station)
            second = plan.protocol.downlink_photons(i, dls[-1].ground_station)
            _, p_pair = scenario.sources.source.bell(dls[0].mean_eta, dls[-1].mean_eta)
            for key in first:
                out[key] = hardware.compose_depolarizing(out.get(key, 0.0), 0.75 * (1.0 - mem.swap_lambda))
            for key in second:
                out[key] = hardware.compose_depolarizing(out.get(key, 0.0), 0.75 * p_pair)
    return {k: v for k, v in out.items() if v > 0}


def with_memories(scenario: Scenario, plan: PointPlan) -> PointPlan:
    """``plan`` with its memory plan and a platform swap's noise (unchanged when the memories hold nothing)."""
    from qrate.protocols.noise import PauliNoise

    mp = memory_plan(scenario, plan)
    if mp is None:
        return plan
    dep = dict(plan.noise.depolarize)
    for key, p in swap_noise(scenario, plan).items():
        dep[key] = hardware.compose_depolarizing(dep.get(key, 0.0), p)
    noise = PauliNoise(
        z_flip=dict(plan.noise.z_flip), x_flip=dict(plan.noise.x_flip), depolarize=dep, readout_flip=plan.noise.readout_flip
    )
    return dataclasses.replace(plan, memory=mp, noise=noise)
