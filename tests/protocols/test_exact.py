"""Exact counter sampler (stim's detector error model) against closed forms and per-shot stim.

Statistical tests use fixed seeds; tolerances are |z| < 5 on counters (standard errors from the
binomial variance) and chi-square p > 1e-6 on the outcome classes (sparse classes merged).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import stim

from qrate.errors import InputError
from qrate.protocols import (
    AnonymousBroadcast,
    AnonymousConferenceKeyAgreement,
    AnonymousEntanglement,
    AnonymousTeleportation,
    Notification,
    PauliNoise,
    chain_layout,
    exact,
    khan_acka_layout,
    khan_broadcast_layout,
)
from qrate.protocols._decode import Flag, sample_records
from qrate.protocols.compiled import CompiledProtocol, Round

Z_MAX = 5.0
P_MIN = 1e-6


def harsh(layout, free_space: tuple[str, ...] | None = None, scale: float = 1.0) -> PauliNoise:
    """Mixed noise on every photon: Z and X flips, depolarised free-space photons (default: the
    layout's Bell photons), readout flips."""
    users = layout.users
    free_space = layout.free_space_photons if free_space is None else free_space
    return PauliNoise(
        z_flip={u: scale * (0.02 + 0.01 * (i % 4)) for i, u in enumerate(users)},
        x_flip={u: scale * (0.01 + 0.005 * (i % 3)) for i, u in enumerate(users)},
        depolarize={q: scale * 0.06 for q in free_space},
        readout_flip={u: scale * 0.01 * (1 + i % 2) for i, u in enumerate(users)},
    )


def z_one(k: int, n: int, q: float) -> float:
    """|z| of ``k`` successes in ``n`` against probability ``q`` (inf if impossible)."""
    var = n * q * (1 - q)
    if var == 0:
        return 0.0 if k == round(n * q) else math.inf
    return abs(k - n * q) / math.sqrt(var)


def z_two(a: int, na: int, b: int, nb: int) -> float:
    """|z| of the difference of two binomial rates (pooled variance)."""
    q = (a + b) / (na + nb)
    var = q * (1 - q) * (1 / na + 1 / nb)
    if var == 0:
        return 0.0 if a * nb == b * na else math.inf
    return abs(a / na - b / nb) / math.sqrt(var)


def stim_rows(c: CompiledProtocol, round_name: str, shots: int, seed: int, method: str = "flip") -> np.ndarray:
    """Per-shot flag rows ``(shots, flags)`` of one round sampled by stim, in the plan's counter order."""
    r = c.round(round_name)
    values = r.decode(sample_records(r.circuit, shots, seed, method=method))
    return np.stack([values[k] for k in r.flags], axis=1)


def check_round_against_stim(c: CompiledProtocol, shots: int, seed: int) -> dict[str, str]:
    """Every round: chi-square of stim's classes against the exact classes, |z| per flag."""
    kinds = {}
    for i, (r, plan) in enumerate(zip(c.rounds, c.plans)):
        assert plan.kind != "stim", (r.name, plan)
        rows = stim_rows(c, r.name, shots, seed + i)
        probs, classes = plan.class_distribution()
        obs, unknown = exact.class_counts(rows, classes)
        assert unknown == 0, (r.name, "stim produced an outcome class of exact probability 0")
        chi = exact.chi_square_classes(obs, probs)
        assert chi.pvalue > P_MIN, (r.name, chi)
        q = plan.flag_probabilities()
        np.testing.assert_allclose(q, probs @ classes, atol=1e-12)
        for name, k, qq in zip(plan.counters, rows.sum(axis=0), q):
            assert z_one(int(k), shots, float(qq)) < Z_MAX, (r.name, name, int(k), shots * qq)
        kinds[r.name] = plan.kind
    return kinds


def check_counts(c: CompiledProtocol, shots_exact: int, shots_stim: int, seed: int) -> None:
    """``sample_counts``: exact sampler vs its own exact means, and vs the per-shot stim path."""
    ex = c.sample_counts(shots_exact, seed)
    st = CompiledProtocol(c.name, c.rounds, c.counter_names, c.resources, c.method, "stim").sample_counts(shots_stim, seed + 1)
    assert ex["shots"] == shots_exact and st["shots"] == shots_stim
    means = dict.fromkeys(c.counter_names, 0.0)
    for r, plan in zip(c.rounds, c.plans):
        if r.counter is not None:
            means[r.counter] += r.probability
        for k, q in zip(plan.counters, plan.flag_probabilities()):
            means[k] += r.probability * q
    for k in c.counter_names[1:]:
        assert z_one(ex[k], shots_exact, means[k]) < Z_MAX, (k, ex[k], shots_exact * means[k])
        assert z_two(ex[k], shots_exact, st[k], shots_stim) < Z_MAX, (k, ex[k], st[k])


# --- closed forms, exact to 1e-12 ----------------------------------------------------------------


def test_acka_closed_forms_exact() -> None:
    layout, parts, sender = khan_acka_layout()
    p = 0.02
    c = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.5).compile(PauliNoise(z_flip={u: p for u in layout.users}))
    assert c.round_samplers == {"key": "exact-table", "verify_z": "exact-table", "verify_x": "exact-table"}
    k = len(layout.users)  # Z flips on the four fiber photons (Charlie's through his announcement)
    (qx,) = c.plans[2].flag_probabilities()
    assert abs(qx - 0.5 * (1 - (1 - 2 * p) ** k)) < 1e-12 and abs(qx - 0.075327) < 1e-6
    assert np.all(c.plans[0].flag_probabilities() == 0.0) and c.plans[1].flag_probabilities()[0] == 0.0  # Q_Z = 0
    f = 0.03  # readout flips: Q_Z = 2f(1 - f) per pair, key error = not all three equal
    c = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.5).compile(
        PauliNoise(z_flip={u: p for u in layout.users}, readout_flip=f))
    q = dict(zip(c.plans[0].counters, c.plans[0].flag_probabilities()))
    for other in ("bob", "dina"):
        assert abs(q[f"z_err:alice:{other}"] - 2 * f * (1 - f)) < 1e-12
    assert abs(q["key_errors"] - (1 - (1 - f) ** 3 - f**3)) < 1e-12
    (qx,) = c.plans[2].flag_probabilities()
    assert abs(qx - 0.5 * (1 - (1 - 2 * p) ** 4 * (1 - 2 * f) ** 4)) < 1e-12


def test_broadcast_closed_form_exact() -> None:
    layout, bc = khan_broadcast_layout()
    p = 0.02
    c = AnonymousBroadcast(layout, bc).compile(PauliNoise(z_flip={u: p for u in layout.users}))
    q = dict(zip(c.plans[0].counters, c.plans[0].flag_probabilities()))
    assert abs(q["broadcast_errors"] - 0.5 * (1 - (1 - 2 * p) ** 4)) < 1e-12
    assert abs(q["message_ones"] - 0.5) < 1e-12  # a gauge (fresh random) bit
    probs, classes = c.plans[0].class_distribution()
    assert len(probs) == 4 and abs(probs.sum() - 1) < 1e-15  # error and message independent
    fixed = AnonymousBroadcast(layout, bc, message=1).compile(PauliNoise(z_flip={u: p for u in layout.users}))
    q1 = fixed.plans[0].flag_probabilities()
    assert abs(q1[0] - 0.5 * (1 - (1 - 2 * p) ** 4)) < 1e-12 and q1[1] == 1.0


def test_entanglement_teleport_notification_closed_forms() -> None:
    layout = chain_layout((5,))
    p = {u: 0.01 * (i + 1) for i, u in enumerate(layout.users)}
    c = AnonymousEntanglement(layout, "u0_1").compile(PauliNoise(z_flip=p))
    q = {r.name: pl.flag_probabilities()[0] for r, pl in zip(c.rounds, c.plans)}
    qz = 0.5 * (1 - math.prod(1 - 2 * x for x in p.values()))
    assert abs(q["xx"] - qz) < 1e-12 and abs(q["yy"] - qz) < 1e-12 and q["zz"] == 0.0
    t = AnonymousTeleportation(AnonymousEntanglement(chain_layout((3,)), "u0_2")).compile(PauliNoise(z_flip={"u0_0": 0.1}))
    pz, px = 2 * 0.1 * 0.9, 0.1
    expect = {"x": pz, "z": px, "y": pz * (1 - px) + px * (1 - pz)}
    for r, pl in zip(t.rounds, t.plans):
        assert abs(pl.flag_probabilities()[0] - expect[r.name[1]]) < 1e-12, r.name
    nl = chain_layout((3, 2))
    n = Notification(nl, "u0_0", ("u1_1",), 3).compile(PauliNoise(z_flip={u: 0.03 for u in nl.users}))
    q = {r.name: pl.flag_probabilities()[0] for r, pl in zip(n.rounds, n.plans)}
    assert abs(q["other"] - 0.5 * (1 - 0.94**5)) < 1e-12 and abs(q["receiver"] - 0.5) < 1e-12


# --- exact vs per-shot stim ----------------------------------------------------------------------


def test_khan_acka_harsh_dishonest_vs_stim() -> None:
    layout, parts, sender = khan_acka_layout()
    noise = harsh(layout)
    c = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.4, dishonest="charlie").compile(noise)
    assert "eve_key_matches" in c.plans[0].counters
    assert set(check_round_against_stim(c, 2_000_000, 10).values()) == {"exact-table"}
    check_counts(c, 10**8, 1_000_000, 11)
    honest = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.4).compile(
        PauliNoise(z_flip={u: 0.02 for u in layout.users}))
    check_round_against_stim(honest, 1_000_000, 12)


def test_khan_broadcast_harsh_vs_stim() -> None:
    layout, bc = khan_broadcast_layout()
    c = AnonymousBroadcast(layout, bc).compile(harsh(layout))
    assert check_round_against_stim(c, 2_000_000, 20) == {"broadcast": "exact-table"}
    check_counts(c, 10**8, 1_000_000, 21)


def test_chain_8_users_three_networks_vs_stim() -> None:
    layout = chain_layout((3, 3, 2))
    users = layout.users
    acka = AnonymousConferenceKeyAgreement(layout, (users[0], users[4], users[7], users[2]), users[4], 0.3,
                                           dishonest=users[5]).compile(harsh(layout, scale=2.0))
    assert set(check_round_against_stim(acka, 1_000_000, 30).values()) == {"exact-table"}
    check_counts(acka, 10**7, 500_000, 31)
    bc = AnonymousBroadcast(layout, users[6]).compile(harsh(layout, scale=2.0))
    check_round_against_stim(bc, 1_000_000, 32)


def test_acka_32_users_sequential_vs_stim() -> None:
    layout = chain_layout((12, 10, 10))
    users = layout.users
    parts = users[::2][:14]
    c = AnonymousConferenceKeyAgreement(layout, parts, parts[3], 0.2).compile(harsh(layout))
    assert c.round_samplers == {"key": "exact-sequential", "verify_z": "exact-sequential", "verify_x": "exact-table"}
    assert c.plans[0].max_open <= exact.MAX_OPEN_MECHANISMS
    check_round_against_stim(c, 1_000_000, 40)
    check_counts(c, 10**7, 300_000, 41)


@pytest.mark.parametrize("ground_ground", [False, True])
def test_anonymous_entanglement_vs_stim(ground_ground: bool) -> None:
    layout = chain_layout((3, 4)) if ground_ground else chain_layout((5,))
    ae = AnonymousEntanglement(layout, "u0_1", "u1_2" if ground_ground else None)
    c = ae.compile(harsh(layout, ae.free_space_photons))
    check_round_against_stim(c, 500_000, 50)
    check_counts(c, 10**7, 300_000, 51)


def test_teleportation_and_notification_vs_stim() -> None:
    ae = AnonymousEntanglement(chain_layout((2, 2)), "u0_0", "u1_1")
    t = AnonymousTeleportation(ae).compile(harsh(ae.layout, ae.free_space_photons))
    check_round_against_stim(t, 300_000, 60)
    check_counts(t, 10**7, 300_000, 61)
    layout = chain_layout((3, 2))
    n = Notification(layout, "u0_0", ("u1_1", "u0_2"), 3).compile(harsh(layout))
    check_round_against_stim(n, 500_000, 62)
    check_counts(n, 10**7, 300_000, 63)


# --- the two stim back ends ----------------------------------------------------------------------


def test_stim_back_ends_compiled_vs_flip() -> None:
    """``method="compiled"`` and ``"flip"`` of the per-shot path: same counters, same classes."""
    layout, parts, sender = khan_acka_layout()
    tele = AnonymousTeleportation(AnonymousEntanglement(chain_layout((3,)), "u0_2"))
    cases = ((AnonymousConferenceKeyAgreement(layout, parts, sender, 0.5, dishonest="charlie"), harsh(layout)),
             (tele, harsh(chain_layout((3,)), tele.entanglement.free_space_photons)))
    for spec, n in cases:
        a = spec.compile(n, method="compiled", sampler="stim")
        b = spec.compile(n, method="flip", sampler="stim")
        assert set(a.round_samplers.values()) == {"stim"}
        ca, cb = a.sample_counts(600_000, 70), b.sample_counts(600_000, 71)
        for k in a.counter_names[1:]:
            assert z_two(ca[k], 600_000, cb[k], 600_000) < Z_MAX, (spec.name, k, ca[k], cb[k])
        for i, r in enumerate(a.rounds):
            ra = stim_rows(a, r.name, 200_000, 72 + i, method="compiled")
            rb = stim_rows(b, r.name, 200_000, 72 + i, method="flip")
            both = np.concatenate([ra, rb])
            keys, inv = np.unique(np.packbits(both, axis=1), axis=0, return_inverse=True)
            inv = inv.ravel()
            ta, tb = np.bincount(inv[:200_000], minlength=len(keys)), np.bincount(inv[200_000:], minlength=len(keys))
            pooled = (ta + tb) / 400_000
            chi = exact.chi_square_classes(ta, pooled) if len(keys) > 1 else None
            assert chi is None or chi.pvalue > P_MIN, (spec.name, r.name, chi, ta, tb)


# --- the exact machinery itself ------------------------------------------------------------------


def test_sequential_equals_table_and_samples_its_law() -> None:
    """The same error model through the table and the sequential walk: equal class laws, and
    single-shot draws of the walk (binomial splits, merges) follow that law."""
    layout = chain_layout((4, 3, 3))
    users = layout.users
    c = AnonymousConferenceKeyAgreement(layout, users[:8], users[1], 0.2, dishonest=users[9]).compile(harsh(layout, scale=3.0))
    r = c.round("key")
    model = exact.error_model(r.circuit, r.parities)
    table, seq = exact.build_table(model, r.flags), exact.build_sequential(model, r.flags)
    pt, ct = table.class_distribution()
    ps, cs = seq.class_distribution()
    order_t, order_s = np.lexsort(ct.T[::-1]), np.lexsort(cs.T[::-1])
    np.testing.assert_array_equal(ct[order_t], cs[order_s])
    np.testing.assert_allclose(pt[order_t], ps[order_s], rtol=1e-10, atol=1e-15)
    rng = np.random.default_rng(80)
    rows = np.array([seq.sample(1, rng) for _ in range(6000)], dtype=bool)
    obs, unknown = exact.class_counts(rows, ct)
    assert unknown == 0
    assert exact.chi_square_classes(obs, pt).pvalue > P_MIN
    big = seq.sample(10**9, rng)
    for k, q in zip(big, table.flag_probabilities()):
        assert z_one(int(k), 10**9, float(q)) < Z_MAX


def test_exact_counts_deterministic_additive() -> None:
    layout, parts, sender = khan_acka_layout()
    c = AnonymousConferenceKeyAgreement(layout, parts, sender).compile(harsh(layout))
    assert c.sampler == "exact"
    a = c.sample_counts(10**6, 3)
    assert a == c.sample_counts(10**6, 3) and tuple(a) == c.counter_names and a != c.sample_counts(10**6, 4)
    assert a["key_rounds"] + a["verify_rounds_z"] + a["verify_rounds_x"] == 10**6
    assert c.sample_counts(0, 1) == dict.fromkeys(c.counter_names, 0)
    big = c.sample_counts(10**12, 5)  # cost independent of the shots
    assert big["shots"] == 10**12 and 0 < big["key_errors"] < big["key_rounds"]
    c2 = AnonymousConferenceKeyAgreement(layout, parts, sender).compile(harsh(layout))
    assert all(x is y for x, y in zip(c.plans, c2.plans))  # plan cache, keyed by the circuit
    c3 = AnonymousConferenceKeyAgreement(layout, parts, sender).compile(harsh(layout, scale=1.0 + 1e-12))
    assert c3.plans[0] is not c.plans[0]  # full-precision noise in the key
    with pytest.raises(InputError, match="sampler"):
        AnonymousConferenceKeyAgreement(layout, parts, sender).compile(sampler="fast")


def test_unsupported_noise_falls_back_to_stim_loudly() -> None:
    circuit = stim.Circuit("RX 0\nPAULI_CHANNEL_1(0.3, 0.2, 0.25) 0\nMX 0")  # no exact independent form
    rnd = Round("r", circuit, 1.0, None, ((0,),), {"ones": Flag((0,))})
    exact.clear_plan_cache()
    with pytest.warns(exact.ExactSamplerFallback, match="refused"):
        c = CompiledProtocol("toy", (rnd,), ("shots", "ones"))
        assert c.round_samplers == {"r": "stim"}
    counts = c.sample_counts(200_000, 1)
    assert z_one(counts["ones"], 200_000, 0.45) < Z_MAX  # Y and Z flip the X outcome


def test_wide_walk_falls_back_to_stim(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = chain_layout((6, 6, 6))
    noise = harsh(layout)
    spec = AnonymousConferenceKeyAgreement(layout, layout.users, layout.users[0])
    exact.clear_plan_cache()
    monkeypatch.setattr(exact, "MAX_OPEN_MECHANISMS", 1)
    c = spec.compile(noise)
    assert c.round_samplers["key"] == "stim" and "open at once" in c.plans[0].reason
    assert c.sample_counts(20_000, 1)["key_rounds"] > 0
    exact.clear_plan_cache()


@pytest.mark.parametrize("mutation", ["drop_mechanism", "flip_reference"])
def test_self_check_catches_a_wrong_error_model(mutation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong exact plan (one mechanism dropped, or a wrong reference parity) fails the self-check."""
    layout, bc = khan_broadcast_layout()
    spec = AnonymousBroadcast(layout, bc, message=0)
    real = exact.error_model

    def wrong(circuit, parities):
        m = real(circuit, parities)
        if mutation == "drop_mechanism":
            i = int(np.argmax(m.probabilities * [len(s) == 1 and s[0] == 0 for s in m.symptoms]))
            keep = [j for j in range(len(m.symptoms)) if j != i]
            return exact.ErrorModel(m.num_parities, m.reference, m.probabilities[keep], tuple(m.symptoms[j] for j in keep))
        return exact.ErrorModel(m.num_parities, ~m.reference, m.probabilities, m.symptoms)

    exact.clear_plan_cache()
    ok = spec.compile(harsh(layout))
    assert min(ok.check_exact().values()) > P_MIN
    exact.clear_plan_cache()
    monkeypatch.setattr(exact, "error_model", wrong)
    bad = spec.compile(harsh(layout))
    with pytest.raises(exact.ExactSamplerMismatch, match="disagrees"):
        bad.check_exact()
    with pytest.raises(exact.ExactSamplerMismatch):
        CompiledProtocol(bad.name, bad.rounds, bad.counter_names, bad.resources, self_check=True)
    exact.clear_plan_cache()


def test_no_warning_for_supported_protocols() -> None:
    layout, parts, sender = khan_acka_layout()
    exact.clear_plan_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = AnonymousConferenceKeyAgreement(layout, parts, sender).compile(harsh(layout))
        assert "stim" not in c.round_samplers.values()


def _enumerate(probabilities: list[float], symptoms: list[tuple[int, ...]], k: int) -> np.ndarray:
    """Probability of each of the 2^k parity patterns: every on/off combination of the independent
    mechanisms, a pattern the XOR of the symptoms of those on (brute force, no qrate code)."""
    out = np.zeros(1 << k)
    for on in range(1 << len(probabilities)):
        weight, pattern = 1.0, 0
        for j, (p, sym) in enumerate(zip(probabilities, symptoms)):
            if on >> j & 1:
                weight *= p
                for s in sym:
                    pattern ^= 1 << s
            else:
                weight *= 1 - p
        out[pattern] += weight
    return out


def test_table_merges_mechanisms_with_equal_symptoms_by_parity_of_flips() -> None:
    """Two mechanisms flipping the same parities cancel when both fire: they merge as p + q − 2pq."""
    probabilities, symptoms = [0.1, 0.2, 0.3, 0.25], [(0,), (0,), (0, 1), (0, 1)]
    model = exact.ErrorModel(2, np.zeros(2, dtype=np.bool_), np.array(probabilities), tuple(symptoms))
    flags = {"p0": Flag((0,)), "p1": Flag((1,)), "any": Flag((0, 1)), "none": Flag((0, 1), invert=True)}
    table = exact.build_table(model, flags)
    law = _enumerate(probabilities, symptoms, 2)  # patterns 00, 01 (bit 0), 10, 11
    expected = {"p0": law[1] + law[3], "p1": law[2] + law[3], "any": 1 - law[0], "none": law[0]}
    np.testing.assert_allclose(table.flag_probabilities(), [expected[n] for n in flags], rtol=0, atol=1e-15)


def test_error_model_merges_errors_that_differ_only_outside_the_parities() -> None:
    """X before a CNOT flips m0 and m1 (its own DETECTOR on m1), X after flips m0 only: on the parity
    m0 both are one mechanism, of probability p + q − 2pq (not p + q − pq)."""
    circuit = stim.Circuit("X_ERROR(0.1) 0\nCX 0 1\nX_ERROR(0.2) 0\nM 0 1\nDETECTOR rec[-1]")
    model = exact.error_model(circuit, [[0]])
    assert model.symptoms == ((0,),)
    assert model.probabilities[0] == pytest.approx(0.1 + 0.2 - 2 * 0.1 * 0.2, abs=1e-15)
    plan = exact.plan_round(circuit, [[0]], {"m0": Flag((0,))})
    assert plan.flag_probabilities()[0] == pytest.approx(_enumerate([0.1, 0.2], [(0,), (0,)], 1)[1], abs=1e-15)
