"""Expected values of memory-assisted heralding from the closed forms (no sampling).

For expected-value runs: the delivered-state rate and the mean decoherence-event probability of every
stored photon of a :class:`~qrate.memory.plan.MemoryPlan`, where a closed form exists:

* any number of stored links without cutoff, with a memoryless trigger: T = max_i N_i + G, N_i
  geometric per link, G the trigger's failures once all are stored, so
  E[T] = Σ_S (−1)^(|S|+1)/(1 − Π_{i∈S} q_i) + (1 − p_t)/p_t;
* one stored link with a cutoff of m attempts and a trigger: the link succeeds after 1/p attempts on
  average, the trigger then has m + 1 attempts, else everything restarts:
  E[T] = [1/p + Σ_{j≤m} j p_t q_t^j + m q_t^(m+1)] / (1 − q_t^(m+1));
* two identical links with a cutoff and no trigger (p_t = 1): [1 + 2q(1 − q^m)] / [p(2 − p) − 2p q^(m+1)].

Mean decoherence: a photon held k attempts plus its latency L has coherence factor
c = exp(−(kτ + L)/T2); the mean event probability is (1 − E[c])/2 (dephasing) or 1 − E[c]
(depolarising), with E[x^k] over the storage distribution (x = exp(−τ/T2)). Read-out decay with
storage time has no closed form here (ValueError).
"""

from __future__ import annotations

import math

from qrate.memory import waiting
from qrate.memory.plan import NO_CUTOFF, MemoryPlan


def _no_cutoff(mp: MemoryPlan) -> bool:
    return all(c >= NO_CUTOFF for c in mp.cutoffs)


def expected_attempts(mp: MemoryPlan) -> float:
    """Mean attempts per delivery (before the final step)."""
    if mp.parallel and any(m > 1 for m in mp.modes):
        raise ValueError("no closed form for parallel memory modes")
    pt = mp.p_trigger
    if _no_cutoff(mp):
        return waiting.expected_attempts(mp.p_links) + (1.0 - pt) / pt
    if len(mp.p_links) == 1:
        p, m, qt = mp.p_links[0], mp.cutoffs[0], 1.0 - pt
        # Σ_{j≤m} j p_t q_t^j = q_t (1 − (m + 1) q_t^m + m q_t^(m+1)) / p_t, in closed form (m may be ~1e9)
        inside = qt * (1.0 - (m + 1) * qt**m + m * qt ** (m + 1)) / pt + m * qt ** (m + 1)
        return (1.0 / p + inside) / (1.0 - qt ** (m + 1))
    if len(mp.p_links) == 2 and pt >= 1.0 and mp.p_links[0] == mp.p_links[1] and mp.cutoffs[0] == mp.cutoffs[1]:
        return waiting.expected_attempts_two_links(mp.p_links[0], mp.cutoffs[0])
    raise ValueError("no closed form for this memory plan (several links with cutoffs, or a trigger with two cutoff links)")


def expected_rate_hz(mp: MemoryPlan) -> float:
    """Delivered states per second that pass the final step (read-out without decay)."""
    if any(ph.efficiency_lifetime_s is not None for ph in mp.photons):
        raise ValueError("no closed form with a read-out efficiency that decays with storage time")
    final = mp.final_probability * math.prod(ph.read_efficiency for ph in mp.photons)
    return final / (mp.attempt_period_s * expected_attempts(mp))


def _geometric_sum(r: float, m: int) -> float:
    """Σ_{k=0}^{m} r^k (r < 1)."""
    return (1.0 - r ** (m + 1)) / (1.0 - r) if r < 1.0 else float(m + 1)


def _mean_power(mp: MemoryPlan, link: int, x: float) -> float:
    """E[x^k] of the attempts k that a photon of stored link ``link`` waits."""
    pt, qt = mp.p_trigger, 1.0 - mp.p_trigger
    if len(mp.p_links) == 1:  # stored until the trigger succeeds: k = the trigger's failures (truncated at m)
        m = mp.cutoffs[0]
        if m >= NO_CUTOFF:
            return pt / (1.0 - qt * x)
        return _geometric_sum(qt * x, m) / _geometric_sum(qt, m)  # truncated at m: Σ_{k≤m} (q_t x)^k / Σ q_t^k
    if len(mp.p_links) == 2 and pt >= 1.0 and mp.p_links[0] == mp.p_links[1]:
        p, m = mp.p_links[0], mp.cutoffs[0]
        if m >= NO_CUTOFF:  # the earlier photon waits |N1 − N2|: each photon is the earlier one half the time
            return (1.0 + waiting.mean_coherence_two_links(p, x)) / 2.0
        q = 1.0 - p  # P(0) ∝ 1, P(k) ∝ 2 q^k for 1 ≤ k ≤ m; the later photon waits 0, the earlier k
        later = _geometric_sum(q, m) - 1.0
        return (1.0 + (_geometric_sum(q * x, m) - 1.0) + later) / (1.0 + 2.0 * later)
    raise ValueError("no closed form for the storage times of this memory plan")


def mean_event_probabilities(mp: MemoryPlan) -> tuple[float, ...]:
    """Mean decoherence-event probability of every stored photon (Z flip, or full depolarisation)."""
    if mp.parallel and any(m > 1 for m in mp.modes):
        raise ValueError("no closed form for parallel memory modes")
    out = []
    for ph in mp.photons:
        if ph.coherence_time_s is None:
            out.append(0.0)
            continue
        x = math.exp(-mp.attempt_period_s / ph.coherence_time_s)
        c = math.exp(-ph.latency_s / ph.coherence_time_s) * _mean_power(mp, ph.link, x)
        out.append((1.0 - c) / 2.0 if ph.decoherence == "dephasing" else 1.0 - c)
    return tuple(out)
