"""Memory-assisted heralding in the engine: memoryless limit, decomposition, cost, noise classes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.engine.batch import run_batch
from qrate.engine.hardware import compose_depolarizing
from qrate.engine import compile_protocol, plan_sweep
from qrate.errors import InputError
from qrate.memory.herald import class_noise, herald_memory
from qrate.scenario import load_scenario
from qrate.scenario.load import parse_toml, validate_data
from qrate.scenario.presets import preset_text

MEMORY = "khan-acka-leo-memory"


def _data(name: str) -> dict:
    return parse_toml(preset_text(name))


def _with_memories(name: str, **fields) -> object:
    data = _data(name)
    data["memories"] = {"GS1": {"stores": ["leo"], **fields}}
    return validate_data(data)


@pytest.mark.parametrize("preset", ["khan-acka-leo-realistic", "khan-acka-leo"])
def test_memoryless_limit_equals_the_synchronous_preset_row_for_row(preset):
    base = validate_data(_data(preset))
    mem = _with_memories(preset, modes=1, cutoff_attempts=0, coherence_time_s=1e-3, read_efficiency=0.5)
    for a, b in zip(plan_sweep(base)[:3], plan_sweep(mem)[:3], strict=True):
        assert b.memory is None and a.key == b.key
        ra = run_batch(a, compile_protocol(a), 7, 0, 10**12)
        rb = run_batch(b, compile_protocol(b), 7, 0, 10**12)
        assert (ra.successes, dict(ra.counts), ra.eta_sum) == (rb.successes, dict(rb.counts), rb.eta_sum)


def test_split_into_links_trigger_and_final_is_the_synchronous_probability():
    """With perfect memories, links x trigger x final per pulse is the synchronous success probability."""
    s = _with_memories("khan-acka-leo-realistic", modes=1, cutoff_attempts=5)
    synchronous = plan_sweep(validate_data(_data("khan-acka-leo-realistic")))
    for plan, sync in zip(plan_sweep(s)[:4], synchronous, strict=False):
        mp = plan.memory
        assert mp.attempt_period_s == pytest.approx(max(1 / plan.repetition_rate_hz, plan.ground_distance_km * 1e3 / 299792458.0))
        assert math.prod(mp.p_single) * mp.p_trigger_pulse * mp.final_probability == pytest.approx(sync.p_success_expected)
        # one stored link with a cutoff and a trigger: the plan's expected rate is the closed form's
        assert plan.p_success_expected == pytest.approx(mp.expected_per_pulse) and math.isfinite(plan.p_success_expected)


@pytest.mark.statistical
def test_rate_of_one_stored_link_and_a_trigger():
    """One stored link (no cutoff) and a memoryless trigger: rate = final / (tau (1/p + (1 - p_t)/p_t))."""
    s = _with_memories("khan-acka-leo-realistic", modes=1, read_efficiency=0.5)
    plan = plan_sweep(s)[0]
    mp = plan.memory
    duration_s = 2e4
    h = herald_memory(mp, duration_s, np.random.default_rng(3))
    p, pt = mp.p_links[0], mp.p_trigger
    expected = duration_s / mp.attempt_period_s / (1 / p + (1 - pt) / pt) * mp.final_probability * 0.5
    assert abs(h.successes - expected) < 5 * math.sqrt(expected), (h.successes, expected)


def test_latency_sets_the_attempt_period_and_modes_multiplex():
    s = _with_memories("khan-acka-leo-realistic", modes=50, herald_speed_m_per_s=2e8)
    plan = plan_sweep(s)[4]  # 1000 km
    mp = plan.memory
    assert mp.attempt_period_s == pytest.approx(1000e3 / 2e8)
    assert mp.modes == (50,)
    assert mp.p_links[0] == pytest.approx(1 - (1 - mp.p_single[0]) ** 50)
    assert mp.p_trigger == pytest.approx(1 - (1 - mp.p_trigger_pulse) ** mp.pulses_per_attempt)
    assert mp.photons[0].latency_s == pytest.approx(5e-3)


def test_heralded_write_tries_every_pulse_and_checks_the_modes():
    s = _with_memories("khan-acka-leo-realistic", modes=100, heralded_write=True, herald_speed_m_per_s=2e8)
    plan = plan_sweep(s)[4]
    assert plan.memory.attempt_period_s == pytest.approx(1e-8)
    assert plan.memory.photons[0].latency_s == pytest.approx(5e-3)
    too_few = _with_memories("khan-acka-leo-realistic", modes=1, modes_per_pulse=1, heralded_write=True, cutoff_attempts=3)
    data = too_few.model_dump(mode="json")
    data["sources"]["spdc_mean_pair_number"] = 1.0
    data["links"]["leo"]["divergence_rad"] = 1e-7
    with pytest.raises(InputError) as e:
        plan_sweep(validate_data(data))
    assert e.value.field == "memories.GS1.modes"


def test_storage_noise_classes_are_exact_events():
    s = _with_memories("khan-acka-leo-realistic", coherence_time_s=0.01)
    plan = plan_sweep(s)[0]
    key = plan.memory.photons[0].keys[0]
    base = plan.noise.z_flip[key]
    assert class_noise(plan.noise, plan.memory, 1).z_flip[key] == pytest.approx(1 - base)
    assert class_noise(plan.noise, plan.memory, 0).z_flip[key] == pytest.approx(base)
    dep = _with_memories("khan-acka-leo-realistic", coherence_time_s=0.01, decoherence="depolarizing")
    pd = plan_sweep(dep)[0]
    assert class_noise(pd.noise, pd.memory, 1).depolarize[key] == pytest.approx(0.75)


@pytest.mark.statistical
def test_dephasing_events_follow_the_storage_times():
    """The fraction of delivered states whose stored photon was flipped is E[(1 - exp(-t/T2))/2]."""
    s = _with_memories("khan-acka-leo-realistic", modes=1, coherence_time_s=1e-5)
    plan = plan_sweep(s)[0]
    h = herald_memory(plan.memory, 5e4, np.random.default_rng(5))
    n = h.successes
    flipped = h.classes.get(1, 0)
    mp = plan.memory
    pt = mp.p_trigger
    tau, t2 = mp.attempt_period_s, mp.photons[0].coherence_time_s
    x = math.exp(-tau / t2)
    mean_c = pt / (1 - (1 - pt) * x)  # E[exp(-k tau/T2)], k ~ Geometric(p_t) - 1 (storage = trigger failures)
    assert abs(flipped - n * (1 - mean_c) / 2) < 5 * math.sqrt(n * 0.25), (flipped, n * (1 - mean_c) / 2)


def test_invalid_memories_name_their_field():
    data = _data("khan-acka-leo-realistic")
    for mem, field in [
        ({"Mars": {"stores": ["leo"]}}, "memories.Mars"),
        ({"GS2": {"stores": ["leo"]}}, "memories.GS2.stores"),
        ({"GS1": {"stores": ["fiber"]}}, "memories.GS1.stores"),
        ({"GS1": {"stores": ["leo"], "cutoff_s": 1.0, "cutoff_attempts": 3}}, "memories.GS1.cutoff_s"),
        ({"GS1": {"stores": ["leo"], "modes": 0}}, "memories.GS1.modes"),
        ({"leo": {"stores": ["leo"]}, "GS1": {"stores": ["leo"]}}, "memories.GS1.stores"),
    ]:
        with pytest.raises(InputError) as e:
            validate_data({**data, "memories": mem})
        assert e.value.field == field, (mem, e.value.field)


@pytest.mark.timeout(120)
def test_a_pass_at_khz_delivery_does_not_walk_the_attempts():
    """300 s at a kHz delivered-state rate: 3e10 pulses, cost set by the ~4e6 deliveries (the timeout
    guards a walk over pulses, which would take hours; the wall time is measured in benchmarks/)."""
    data = _data("khan-acka-leo-realistic")
    data["memories"] = {"GS1": {"stores": ["leo"], "coherence_time_s": 0.1}}
    data["links"]["leo"]["divergence_rad"] = 2e-6
    data["sources"]["spdc_mean_pair_number"] = 0.1
    plan = plan_sweep(validate_data(data))[0]
    stats = run_batch(plan, compile_protocol(plan), 1, 1, int(300 * plan.repetition_rate_hz))
    assert 500 < stats.successes / 300 < 5000


@pytest.mark.statistical
def test_per_shot_stim_cross_checks_the_exact_sampler_with_memories():
    """The storage-noise classes give the same X-parity error rate (Q_X, which dephasing raises) with per-shot
    Stim as with the exact sampler."""
    data = _data("khan-acka-leo")
    data["memories"] = {"GS1": {"stores": ["leo"], "coherence_time_s": 4e-3, "heralded_write": True, "modes": 1_000_000}}
    data["sweep"] = {"ground_distance_km": [1000.0]}  # every stored photon waits >= 3.3 ms for Dina's herald
    out = {}
    for sampler in ("exact", "stim"):
        data["sampling"] = {**data["sampling"], "sampler": sampler}
        plan = plan_sweep(validate_data(data))[0]
        stats = run_batch(plan, compile_protocol(plan), 5, 0, 4 * 10**5)
        out[sampler] = (stats.counts["x_parity_errors"], stats.counts["verify_rounds_x"])
    (ea, na), (eb, nb) = out["exact"], out["stim"]
    assert na > 5_000 and nb > 5_000
    fa, fb = ea / na, eb / nb
    assert abs(fa - fb) < 5 * math.sqrt(fa * (1 - fa) / na + fb * (1 - fb) / nb), (fa, fb)
    assert fa > 0.1  # the memory's dephasing shows


@pytest.mark.statistical
@pytest.mark.parametrize("decay", ["exponential", "gaussian"])
def test_read_efficiency_decays_with_storage_time(decay):
    """Delivered states fall by E[decay(t)] over the storage times t = k tau + latency (k ~ the trigger's failures)."""
    s = _with_memories(
        "khan-acka-leo-realistic", modes=1, read_efficiency=0.9, efficiency_lifetime_s=5e-6, efficiency_decay=decay
    )
    mp = plan_sweep(s)[0].memory
    duration_s = 4e4
    h = herald_memory(mp, duration_s, np.random.default_rng(8))
    p, pt, tau = mp.p_links[0], mp.p_trigger, mp.attempt_period_s
    k = np.arange(200_000)
    t = k * tau + mp.photons[0].latency_s
    x = t / 5e-6
    mean_decay = float(np.sum(pt * (1 - pt) ** k * np.exp(-(x * x if decay == "gaussian" else x))))
    expected = duration_s / tau / (1 / p + (1 - pt) / pt) * mp.final_probability * 0.9 * mean_decay
    assert 0.05 < mean_decay < 0.8
    assert abs(h.successes - expected) < 5 * math.sqrt(expected), (h.successes, expected)


def test_platform_swap_noise_lands_on_the_downlink_photons():
    s = load_scenario("wallnoefer-2022-one-satellite", ("memories.sat.swap_lambda=0.9", "sources.bell_state_error=0.01"))
    base = load_scenario("wallnoefer-2022-one-satellite", ("memories={}", "sources.bell_state_error=0.01"))
    plan, sync = plan_sweep(s)[0], plan_sweep(base)[0]
    first, second = (plan.protocol.downlink_photons(0, gs)[0] for gs in ("A", "B"))
    pair = sync.noise.depolarize[first]  # the synchronous dual downlink's one pair (its error on this photon)
    assert plan.noise.depolarize[first] == pytest.approx(compose_depolarizing(pair, 0.75 * 0.1))  # the swap's 1 - lambda
    # the second pair's own error lands on the other downlink's photon
    assert plan.noise.depolarize[second] == pytest.approx(compose_depolarizing(sync.noise.depolarize.get(second, 0.0), pair))


def test_memory_and_memoryless_points_never_share_a_compiled_protocol():
    """The per-process cache of compiled protocols (qrate.sweep.collect) keys a memory point apart from a
    memoryless point with the same protocol and noise: a memory batch needs the storage-noise classes."""
    import dataclasses

    from qrate.engine import plan_sweep
    from qrate.memory.herald import MemoryProtocol
    from qrate.scenario import load_scenario
    from qrate.sweep import collect

    (plan,) = plan_sweep(load_scenario("khan-acka-leo-memory", [], ["ground_distance_km=500"]))
    assert plan.memory is not None
    bare = dataclasses.replace(plan, memory=None)
    collect._COMPILED.clear()
    try:
        assert not isinstance(collect.compiled_protocol(bare), MemoryProtocol)
        assert isinstance(collect.compiled_protocol(plan), MemoryProtocol)
    finally:
        collect._COMPILED.clear()
