"""Expected-value evaluation: every estimate of a point from its plan, without sampling.

A point's Monte Carlo run draws K ~ Binomial(N, P) heralded successes (P: the plan's mean
success probability per pulse, exact for independent and block fading alike, see
:mod:`qrate.engine.plan`), splits the K // carriers_per_use protocol uses between the rounds
(multinomial with the round probabilities) and draws each round's counters from the exact
distribution of its outcome classes (:mod:`qrate.protocols.exact`). The expected counts are
therefore exact and closed form::

    E[successes] = N P,    E[uses] = N P / c,    E[counter] = Σ_rounds E[uses] p_round q_round(flag)

with q_round(flag) the exact per-shot probability of the flag (the plan's class probabilities
times the class flags). The estimates are then those of :func:`qrate.estimates.estimate_point`
on one "batch row" holding these (real-valued) counts for N = the point's pulses: rates, QBERs,
fidelities and the finite key are their plug-in (large-sample) values, confidence intervals
those of a run of N pulses at its expected counts, and spreads across batches are not defined
(None). Where the Monte Carlo estimate is a nonlinear function of the counts (the binary entropy
in the key rate, the clipping of the key at zero, the finite key's rounding) the expected value
here is the estimate at the mean counts, which is the large-sample limit the Monte Carlo mean
approaches (see "Expected values" in qrate/MODELS.md).

Rounds that the exact sampler cannot take (:class:`~qrate.protocols.exact.StimPlan`) have no
exact flag probabilities: such points are refused with :class:`~qrate.errors.InputError`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qrate.engine.plan import PointPlan
from qrate.errors import InputError
from qrate.estimates import estimate_point
from qrate.protocols.compiled import CompiledProtocol
from qrate.protocols.exact import StimPlan
from qrate.protocols.noise import PauliNoise
from qrate.stats import BASE_FIELDS, COUNTER_PREFIX

MODE = "expected"
"""The ``sampling.mode`` (and results-file attribute) of expected-value evaluation."""


def expected_dtype(counter_names: Sequence[str]) -> np.dtype:
    """The batch-row dtype with real-valued pulses, successes and counters (expected counts)."""
    base = [(n, "<f8" if n in ("pulses", "successes") else t) for n, t in BASE_FIELDS]
    return np.dtype([*base, *((COUNTER_PREFIX + n, "<f8") for n in counter_names)])


FLAG_RATE_CACHE_SIZE = 4096
"""Flag-rate tables kept (keyed by protocol and noise: the points of a search share a few)."""
_FLAG_RATES: OrderedDict[str, dict[str, float]] = OrderedDict()


def flag_rates(plan: PointPlan) -> dict[str, float]:
    """Expected value of every counter per protocol use (``shots`` is 1) at the plan's noise.

    Raises:
        InputError: a round of the protocol has no exact sampler (field ``sampling.mode``).
    """
    return rates_at(plan.protocol, plan.noise)


def rates_at(protocol: Any, noise: PauliNoise) -> dict[str, float]:
    """Expected counters per use of ``protocol`` under ``noise``; cached by protocol and noise."""
    key = repr((protocol, sorted(noise.as_dict().items())))
    hit = _FLAG_RATES.get(key)
    if hit is None:
        hit = _FLAG_RATES[key] = _flag_rates(protocol.compile(noise, sampler="exact"))
        while len(_FLAG_RATES) > FLAG_RATE_CACHE_SIZE:
            _FLAG_RATES.popitem(last=False)
    else:
        _FLAG_RATES.move_to_end(key)
    return hit


def _flag_rates(compiled: CompiledProtocol) -> dict[str, float]:
    """Expected counters per use of a protocol compiled with the exact sampler (whatever the scenario's
    ``sampling.sampler``: nothing is sampled here)."""
    out = dict.fromkeys(compiled.counter_names, 0.0)
    out["shots"] = 1.0
    total = sum(r.probability for r in compiled.rounds)
    for r, rp in zip(compiled.rounds, compiled.plans, strict=True):
        w = r.probability / total
        if r.counter is not None:
            out[r.counter] += w
        if isinstance(rp, StimPlan):
            raise InputError(
                "sampling.mode",
                f"expected values need the exact sampler; round {r.name!r} of {compiled.name} has none ({rp.reason})",
            )
        for name, q in zip(rp.counters, rp.flag_probabilities(), strict=True):
            out[name] += w * float(q)
    return out


def expected_row(plan: PointPlan, pulses: float) -> np.ndarray:
    """One batch row (:func:`expected_dtype`) holding the expected counts of ``pulses`` pulses.

    A protocol that draws its counters from the pulses itself (a :class:`~qrate.protocols.pulses.PulseSampler`,
    e.g. decoy-state BB84) gives its own expected counts.
    """
    successes = pulses * min(plan.p_success_expected, 1.0)
    sampler = plan.pulse_sampler
    if sampler is not None:
        counts = sampler.expected_counts(pulses)
    elif plan.memory is not None:
        successes, counts = _memory_counts(plan, pulses)
    else:
        uses = successes / plan.protocol.carriers_per_use
        counts = {name: uses * q for name, q in flag_rates(plan).items()}
    row = np.zeros(1, dtype=expected_dtype(tuple(counts)))
    row["pulses"] = pulses
    row["successes"] = successes
    row["eta_count"] = 1
    row["eta_sum"] = plan.mean_eta_joint
    row["eta_sumsq"] = plan.mean_eta_joint**2
    for name, v in counts.items():
        row[COUNTER_PREFIX + name] = v
    return row


def _memory_counts(plan: PointPlan, pulses: float) -> tuple[float, dict[str, float]]:
    """Expected successes and counters of a memory-assisted point (:mod:`qrate.memory`).

    Successes: the delivered states per pulse of the closed forms (``MemoryPlan.expected_per_pulse``).
    Counters: the storage-noise classes weighted by their probabilities. With one stored photon the
    classes are "no decoherence event" and "an event", of probabilities 1 − e and e with e its mean
    event probability (:func:`qrate.memory.expected.mean_event_probabilities`), so the expectation is
    exact; with several stored photons the events are correlated through their common storage time and
    the marginal means do not fix the classes: refused.
    """
    from qrate.memory.expected import mean_event_probabilities
    from qrate.memory.herald import class_noise

    mp = plan.memory
    p = plan.p_success_expected  # the closed forms' delivered states per pulse (NaN: none)
    if not math.isfinite(p):
        raise InputError("sampling.mode", "no closed form for this memory plan's delivery rate; run it by Monte Carlo")
    try:
        events = mean_event_probabilities(mp)
    except ValueError as exc:
        raise InputError("sampling.mode", f"no closed form for this memory plan ({exc}); run it by Monte Carlo") from None
    stored = [e for e in events if e > 0]
    if len(stored) > 1:
        raise InputError(
            "sampling.mode",
            f"expected values are exact for one stored photon; this point holds {len(stored)}, whose storage times are"
            " correlated: run it by Monte Carlo",
        )
    successes = pulses * min(p, 1.0)
    uses = successes / plan.protocol.carriers_per_use
    weights = {0: 1.0}
    if stored:
        j = next(i for i, e in enumerate(events) if e > 0)
        weights = {0: 1.0 - events[j], 1 << j: events[j]}
    counts: dict[str, float] = {}
    for code, w in weights.items():
        noise = class_noise(plan.noise, mp, code)
        for name, q in rates_at(plan.protocol, noise).items():
            counts[name] = counts.get(name, 0.0) + uses * w * q
    return successes, counts


def point_pulses(plan: PointPlan, pulses_per_batch: int, batches: int) -> float:
    """Pulses of a point's run: its own pulses per batch (a pass step's) or the scenario's, times the batches."""
    return float((plan.pulses_per_batch or pulses_per_batch) * batches)


def expected_estimates(plan: PointPlan, pulses: float, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every estimate of one point at the expected counts of ``pulses`` pulses (module docstring).

    ``batches`` is reported as 0 (nothing was sampled); spreads across batches are None.
    """
    axes = {**plan.axes, "ground_distance_km": plan.ground_distance_km, **(extra or {})}
    est = estimate_point(expected_row(plan, pulses), plan.report(), extra=axes)
    est["batches"] = 0
    est["mode"] = MODE
    return est


def expected_sweep(plans: Sequence[PointPlan], pulses_per_batch: int, batches: int) -> list[dict[str, Any]]:
    """Expected estimates of every planned point of a sweep (or of a pass run's steps)."""
    return [expected_estimates(p, point_pulses(p, pulses_per_batch, batches)) for p in plans]


def expected_passes(
    plans: Sequence[PointPlan], pulses_per_batch: int, batches: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-pass totals and the per-day / per-year summary of a pass run's steps, from expected values.

    Standard errors of the totals are 0 (no sampling); the finite key of each pass pools the expected
    counts of its steps, as :func:`qrate.estimates.pass_totals` pools sampled ones.
    """
    from qrate.estimates import pass_summary, pass_totals

    by_pass: dict[int, list[tuple[dict[str, Any], np.ndarray, float]]] = {}
    starts: dict[int, str] = {}
    window_days = 0.0
    report = plans[0].report() if plans else {}
    for plan in plans:
        i = int(plan.axes["pass"])
        pulses = point_pulses(plan, pulses_per_batch, batches)
        row = expected_row(plan, pulses)
        est = estimate_point(row, plan.report(), extra=dict(plan.axes))
        by_pass.setdefault(i, []).append((est, row, float(plan.extra["weight_s"])))
        starts[i] = str(plan.extra.get("pass_start_utc"))
        window_days = float(plan.extra.get("window_days", 0.0))
    passes = [{"pass": i, "start_utc": starts[i], **pass_totals(steps, report)} for i, steps in sorted(by_pass.items())]
    return passes, (pass_summary(passes, window_days) if passes else {})


def run_expected_to_file(scenario: Any, out: Any, *, overwrite: bool = False, argv: Sequence[str] = ()) -> Any:
    """``qrate run --expected``: every point's expected estimates (and a pass run's totals) into ``out``.

    Checks ``out`` and plans every point before anything is written (bad input leaves no file).
    """
    from qrate.outputs import check_output
    from qrate.scenario.load import scenario_to_toml
    from qrate.store import expected as store
    from qrate.store.hdf5 import H5_SUFFIXES

    path = check_output(out, overwrite=overwrite, suffixes=H5_SUFFIXES, field="out")
    from qrate.engine.grid import plan_sweep

    plans = plan_sweep(scenario)
    s = scenario.sampling
    rows = []
    for plan in plans:
        est = expected_estimates(plan, point_pulses(plan, s.pulses_per_batch, s.batches))
        g = plan.params()
        est["elevation_deg"], est["slant_range_km"] = g["elevation_deg"], g["slant_range_km"]
        rows.append(est)
    passes: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    if scenario.passes is not None:
        passes, summary = _passes_by_axes(plans, s.pulses_per_batch, s.batches)
    axes = list(dict.fromkeys(a for p in plans for a in p.axes))
    meta = {
        "scenario_name": scenario.name,
        "scenario_toml": scenario_to_toml(scenario),
        "protocol": scenario.protocol.name,
        "seed": str(s.seed),
        "report": plans[0].report() if plans else {},
        "axes": axes,
        "argv": list(argv),
    }
    return store.write(path, meta, rows, passes, summary)


def _passes_by_axes(
    plans: Sequence[PointPlan], pulses_per_batch: int, batches: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-pass totals and summaries per grid point of a pass run's field axes (as :func:`qrate.store.load.read_passes`)."""
    names = [a for a in (plans[0].axes if plans else {}) if a not in ("pass", "time_s")]
    groups: dict[tuple[Any, ...], list[PointPlan]] = {}
    for p in plans:
        groups.setdefault(tuple(p.axes[a] for a in names), []).append(p)
    passes: list[dict[str, Any]] = []
    points = []
    for key, group in groups.items():
        axes = dict(zip(names, key, strict=True))
        mine, summary = expected_passes(group, pulses_per_batch, batches)
        passes.extend({**axes, **m} for m in mine)
        points.append({**axes, **summary})
    if not names:
        return passes, points[0] if points else {}
    window = float(plans[0].extra.get("window_days", 0.0)) if plans else 0.0
    return passes, {"passes": len(passes), "window_days": window, "axes": names, "points": points}
