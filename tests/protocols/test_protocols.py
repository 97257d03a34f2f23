"""Protocol circuits: noise-free correctness, closed forms, dishonest node, audit, interface."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from qrate.errors import InputError
from qrate.protocols import (
    PROTOCOLS,
    AnonymousBroadcast,
    AnonymousConferenceKeyAgreement,
    AnonymousEntanglement,
    AnonymousTeleportation,
    Notification,
    PauliNoise,
    anonymity_audit,
    bell_fidelity,
    chain_layout,
    khan_acka_layout,
    khan_broadcast_layout,
    teleport_fidelity,
)

SIZES = [(4,), (3, 1), (2, 2), (5, 3), (3, 4, 1), (8, 8), (10, 10, 12), (16, 15, 1), (32,)]


def within(k: int, n: int, p: float, z: float = 4.0) -> bool:
    return abs(k / n - p) <= z * math.sqrt(p * (1 - p) / n)


def random_layout(rng: np.random.Generator, sizes: tuple[int, ...]):
    fwd = sizes[-1] == 1 and len(sizes) > 1 and bool(rng.integers(2))
    return chain_layout(sizes, forward_last=fwd)


@pytest.mark.parametrize("sizes", SIZES)
def test_acka_noise_free(sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(sizes))
    layout = random_layout(rng, sizes)
    users = list(layout.users)
    m = int(rng.integers(2, len(users) + 1))
    parts = tuple(rng.choice(users, size=m, replace=False))
    sender = str(rng.choice(parts))
    c = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.3).compile()
    counts = c.sample_counts(100_000, 7)
    assert counts["key_rounds"] > 50_000 and counts["verify_rounds_x"] > 10_000 and counts["verify_rounds_z"] > 10_000
    assert counts["key_rounds"] + counts["verify_rounds_x"] + counts["verify_rounds_z"] == 100_000
    errs = [k for k in c.counter_names if "err" in k]
    assert len(errs) == 3 + m - 1
    assert all(counts[k] == 0 for k in errs)


def test_acka_keys_identical_and_random() -> None:
    layout, parts, sender = khan_acka_layout()
    c = AnonymousConferenceKeyAgreement(layout, parts, sender).compile()
    r = c.round("key")
    rec = c.round("key").circuit.compile_sampler(seed=3).sample(20_000)
    keys = rec[:, [r.key_bits[p] for p in parts]]
    assert (keys == keys[:, :1]).all()
    assert within(int(keys[:, 0].sum()), 20_000, 0.5)


@pytest.mark.parametrize("sizes", SIZES)
def test_broadcast_noise_free(sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(100 + sum(sizes))
    layout = chain_layout(sizes)
    broadcaster = str(rng.choice(layout.users))
    counts = AnonymousBroadcast(layout, broadcaster).compile().sample_counts(100_000, 9)
    assert counts["broadcast_errors"] == 0
    assert within(counts["message_ones"], 100_000, 0.5)
    fixed = AnonymousBroadcast(layout, broadcaster, message=1).compile().sample_counts(1000, 2)
    assert fixed["broadcast_errors"] == 0 and fixed["message_ones"] == 1000


def test_acka_x_parity_closed_form_and_z_untouched() -> None:
    layout, parts, sender = khan_acka_layout()
    p = 0.02
    noise = PauliNoise(z_flip={u: p for u in layout.users})
    counts = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.5).compile(noise).sample_counts(300_000, 1)
    q = 0.5 * (1 - (1 - 2 * p) ** 4)
    assert abs(q - 0.075327) < 1e-6
    assert within(counts["x_parity_errors"], counts["verify_rounds_x"], q)
    assert counts["key_errors"] == 0 and counts["z_verify_errors"] == 0


def test_acka_flip_simulator_method_same_distribution() -> None:
    layout, parts, sender = khan_acka_layout()
    noise = PauliNoise(z_flip={u: 0.02 for u in layout.users})
    counts = AnonymousConferenceKeyAgreement(layout, parts, sender, 1.0).compile(noise, method="flip").sample_counts(100_000, 4)
    assert within(counts["x_parity_errors"], counts["verify_rounds_x"], 0.5 * (1 - 0.96**4))


def test_readout_flips_give_qz() -> None:
    layout, parts, sender = khan_acka_layout()
    f = 0.03
    counts = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.0).compile(PauliNoise(readout_flip=f)).sample_counts(200_000, 5)
    for other in ("bob", "dina"):
        assert within(counts[f"z_err:alice:{other}"], counts["key_rounds"], 2 * f * (1 - f))


def test_broadcast_closed_form() -> None:
    layout, broadcaster = khan_broadcast_layout()
    p, f = 0.02, 0.01
    noise = PauliNoise(z_flip={u: p for u in layout.users}, readout_flip=f)
    counts = AnonymousBroadcast(layout, broadcaster).compile(noise).sample_counts(200_000, 6)
    q = 0.5 * (1 - (1 - 2 * p) ** 4 * (1 - 2 * f) ** 4)
    assert within(counts["broadcast_errors"], 200_000, q)


def test_free_space_depolarizing_enters_parity() -> None:
    layout, broadcaster = khan_broadcast_layout()
    d = 0.09  # X, Y, Z each d/3: the X-parity flips on Y or Z, probability 2d/3
    noise = PauliNoise(depolarize={"bell0.GS1": d})
    counts = AnonymousBroadcast(layout, broadcaster).compile(noise).sample_counts(200_000, 8)
    assert within(counts["broadcast_errors"], 200_000, 2 * d / 3)


def test_dishonest_node_detection_probability() -> None:
    # Skipping the X measurement leaves the participants in (|0..0><0..0| + |1..1><1..1|)/2 after
    # tracing the dishonest photon: Z checks always pass, the X parity is a fair coin, so a
    # verification round with a uniformly chosen basis detects him with probability 1/2 * 1/2.
    layout = chain_layout((4, 1), forward_last=True)
    parts = ("u0_0", "u0_2", "u1_0")
    c = AnonymousConferenceKeyAgreement(layout, parts, "u0_2", 0.5, dishonest="u0_3").compile()
    counts = c.sample_counts(200_000, 12)
    verify = counts["verify_rounds_x"] + counts["verify_rounds_z"]
    assert within(counts["x_parity_errors"] + counts["z_verify_errors"], verify, 0.25)
    assert counts["z_verify_errors"] == 0 and counts["key_errors"] == 0
    assert counts["eve_key_matches"] == counts["key_rounds"]


def test_anonymity_audit_honest_and_leaky() -> None:
    layout, parts, _ = khan_acka_layout()
    noise = PauliNoise(z_flip={u: 0.02 for u in layout.users}, readout_flip=0.01)

    def acka(sender: str, leaky: bool = False):
        return AnonymousConferenceKeyAgreement(layout, parts, sender, leaky=leaky).compile(noise)

    honest = anonymity_audit(acka("alice"), acka("dina"), shots=40_000, seed=21)
    assert honest.p_value > 1e-4
    assert abs(honest.tv_distance - honest.tv_null_mean) < 5 * honest.tv_null_std
    leaky = anonymity_audit(acka("alice", True), acka("dina", True), shots=40_000, seed=21)
    assert leaky.p_value < 1e-12
    assert leaky.tv_distance > leaky.tv_null_mean + 20 * leaky.tv_null_std

    bl, _ = khan_broadcast_layout()
    bc = anonymity_audit(AnonymousBroadcast(bl, "alice", 1).compile(noise_b := PauliNoise(readout_flip=0.02)),
                         AnonymousBroadcast(bl, "dina", 1).compile(noise_b), shots=40_000, seed=22)
    assert bc.p_value > 1e-4


@pytest.mark.parametrize("ground_ground", [False, True])
def test_anonymous_entanglement_fidelity(ground_ground: bool) -> None:
    layout = chain_layout((3, 4)) if ground_ground else chain_layout((5,))
    ae = AnonymousEntanglement(layout, "u0_1", "u1_2" if ground_ground else None)
    assert bell_fidelity(ae.compile().sample_counts(30_000, 1)) == 1.0
    p = {u: 0.01 * (i + 1) for i, u in enumerate(layout.users)}
    counts = ae.compile(PauliNoise(z_flip=p)).sample_counts(300_000, 2)
    q = 0.5 * (1 - math.prod(1 - 2 * x for x in p.values()))  # every Z flip reaches the pair as Z
    assert counts["zz_errors"] == 0
    assert within(counts["xx_errors"], counts["xx_rounds"], q)
    assert within(counts["yy_errors"], counts["yy_rounds"], q)


def test_teleportation_fidelity() -> None:
    ae = AnonymousEntanglement(chain_layout((3,)), "u0_2")
    t = AnonymousTeleportation(ae)
    assert teleport_fidelity(t.compile().sample_counts(60_000, 1)) == 1.0
    # A Z flip p on a non-participant hits the pair (Z error) and both broadcasts: the X
    # correction (X error) and the Z correction (Z error). Net P(Z) = 2p(1-p), P(X) = p.
    p = 0.1
    counts = t.compile(PauliNoise(z_flip={"u0_0": p})).sample_counts(600_000, 3)
    pz, px = 2 * p * (1 - p), p
    expect = {"x": pz, "z": px, "y": pz * (1 - px) + px * (1 - pz)}
    for s in ("+x", "-x", "+y", "-y", "+z", "-z"):
        assert within(counts[f"errors:{s}"], counts[f"rounds:{s}"], expect[s[1]])
    assert t.resources == {"ghz": 3, "bell": 1, "bsm": 2, "broadcasts": 2}


def test_notification() -> None:
    layout = chain_layout((3, 2))
    n = Notification(layout, "u0_0", ("u1_1", "u0_2"), repetitions=3)
    s = n.sample_sessions(20_000, 4)
    assert s["false_notifications"] == 0
    ci = binomtest(s["missed_receivers"], s["receiver_targets"]).proportion_ci(0.99999)
    assert ci.low < 2**-3 < ci.high
    p = 0.03
    counts = n.compile(PauliNoise(z_flip={u: p for u in layout.users})).sample_counts(200_000, 5)
    assert within(counts["other_ones"], counts["other_rounds"], 0.5 * (1 - (1 - 2 * p) ** 5))
    assert within(counts["receiver_ones"], counts["receiver_rounds"], 0.5)
    assert n.session_resources == {"rounds": 15, "ghz": 30, "bell": 15, "bsm": 30}


def test_counts_deterministic_additive_keys() -> None:
    layout, parts, sender = khan_acka_layout()
    c = AnonymousConferenceKeyAgreement(layout, parts, sender).compile(PauliNoise(readout_flip=0.05))
    a, b = c.sample_counts(5000, 1), c.sample_counts(5000, 1)
    assert a == b and tuple(a) == c.counter_names
    assert c.sample_counts(5000, 2) != a
    assert c.sample_counts(0, 1)["shots"] == 0


def test_decode_accepts_bit_packed() -> None:
    layout, bc = khan_broadcast_layout()
    c = AnonymousBroadcast(layout, bc).compile(PauliNoise(readout_flip=0.1))
    circ = c.circuits["broadcast"]
    packed = circ.compile_sampler(seed=1).sample(1000, bit_packed=True)
    plain = circ.compile_sampler(seed=1).sample(1000)
    x, y = c.decode("broadcast", packed), c.decode("broadcast", plain)
    assert all((x[k] == y[k]).all() for k in x) and x["broadcast_errors"].any()


def test_registry_and_layout_counts() -> None:
    assert {"acka", "broadcast", "anonymous-entanglement"} <= set(PROTOCOLS)
    layout, _, _ = khan_acka_layout()
    assert (layout.ghz_count, layout.bell_count, layout.bsm_count) == (1, 1, 1)
    assert layout.free_space_photons == ("bell0.GS1", "bell0.GS2")
    bl, _ = khan_broadcast_layout()
    assert (bl.ghz_count, bl.bell_count, bl.bsm_count) == (2, 1, 2)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda L: AnonymousConferenceKeyAgreement(L, ("alice", "zoe"), "alice"), "participants"),
        (lambda L: AnonymousConferenceKeyAgreement(L, ("alice", "bob"), "dina"), "sender"),
        (lambda L: AnonymousConferenceKeyAgreement(L, ("alice", "bob"), "alice", 1.5), "verification_fraction"),
        (lambda L: AnonymousConferenceKeyAgreement(L, ("alice", "bob"), "alice", dishonest="bob"), "dishonest"),
        (lambda L: AnonymousBroadcast(L, "eve"), "broadcaster"),
        (lambda L: AnonymousEntanglement(L, "alice"), "layout"),
    ],
)
def test_bad_input(make, field: str) -> None:
    layout, _, _ = khan_acka_layout()
    with pytest.raises(InputError) as err:
        make(layout)
    assert err.value.field == field


def test_bad_noise_keys() -> None:
    layout, parts, sender = khan_acka_layout()
    p = AnonymousConferenceKeyAgreement(layout, parts, sender)
    with pytest.raises(InputError, match="noise.z_flip.zoe"):
        p.compile(PauliNoise(z_flip={"zoe": 0.1}))
    with pytest.raises(InputError, match="noise.depolarize.bell1.GS2"):
        p.compile(PauliNoise(depolarize={"bell1.GS2": 0.1}))
    with pytest.raises(InputError, match="noise.readout_flip"):
        PauliNoise(readout_flip=1.5)
