"""Khan Q-ACKA circuit (6 qubits) against an independent exact density-matrix calculation."""

from __future__ import annotations

import itertools
import math

import numpy as np

from qrate.protocols import AnonymousConferenceKeyAgreement, PauliNoise, khan_acka_layout

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)
Y = 1j * X @ Z
H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
ORDER = ("alice", "bob", "charlie", "G", "S1", "dina")  # qubit 0 is the most significant bit
N = len(ORDER)


def single(u: np.ndarray, k: int) -> np.ndarray:
    mats = [u if j == k else I2 for j in range(N)]
    out = mats[0]
    for m in mats[1:]:
        out = np.kron(out, m)
    return out


def cnot(c: int, t: int) -> np.ndarray:
    dim = 1 << N
    u = np.zeros((dim, dim))
    for i in range(dim):
        j = i ^ (1 << (N - 1 - t)) if (i >> (N - 1 - c)) & 1 else i
        u[j, i] = 1
    return u


def pauli_channel(rho: np.ndarray, k: int, probs: dict[str, float]) -> np.ndarray:
    out = (1 - sum(probs.values())) * rho
    for name, p in probs.items():
        u = single({"X": X, "Y": Y, "Z": Z}[name], k)
        out = out + p * u @ rho @ u.conj().T
    return out


def outcome_distribution(basis_x: bool, noise: dict) -> dict[tuple[int, ...], float]:
    """Exact distribution of the 6 outcome bits (users after readout flips)."""
    dim = 1 << N
    psi = np.zeros(dim, dtype=complex)
    for a in (0, 1):  # GHZ4 on alice, bob, charlie, G  (x)  Phi+ on S1, dina
        for c in (0, 1):
            bits = (a, a, a, a, c, c)
            psi[int("".join(map(str, bits)), 2)] = 0.5
    rho = np.outer(psi, psi.conj())
    for k, name in enumerate(ORDER):
        probs = {}
        if name in noise["z"]:
            probs["Z"] = noise["z"][name]
        rho = pauli_channel(rho, k, probs) if probs else rho
        if name in noise["x"]:
            rho = pauli_channel(rho, k, {"X": noise["x"][name]})
        if name in noise["dep"]:
            p = noise["dep"][name]
            rho = pauli_channel(rho, k, {"X": p / 3, "Y": p / 3, "Z": p / 3})
    g, s1 = ORDER.index("G"), ORDER.index("S1")
    u = single(H, g) @ cnot(g, s1)
    if basis_x:
        for name in ("alice", "bob", "charlie", "dina"):
            u = single(H, ORDER.index(name)) @ u
    else:  # charlie always measures X
        u = single(H, ORDER.index("charlie")) @ u
    rho = u @ rho @ u.conj().T
    probs = np.real(np.diag(rho))
    dist: dict[tuple[int, ...], float] = {}
    users = [ORDER.index(n) for n in ("alice", "bob", "charlie", "dina")]
    for i in range(dim):
        bits = [(i >> (N - 1 - k)) & 1 for k in range(N)]
        for flips in itertools.product((0, 1), repeat=4):
            w = probs[i]
            out = list(bits)
            for k, f in zip(users, flips):
                pf = noise["ro"].get(ORDER[k], 0.0)
                w *= pf if f else 1 - pf
                out[k] ^= f
            dist[tuple(out)] = dist.get(tuple(out), 0.0) + w
    return dist


def test_khan_acka_matches_density_matrix() -> None:
    z = {"alice": 0.03, "bob": 0.05, "charlie": 0.07, "dina": 0.04}
    ro = {"alice": 0.02, "charlie": 0.01, "dina": 0.04}
    ref_noise = {"z": z, "x": {"bob": 0.05}, "dep": {"S1": 0.06, "dina": 0.03}, "ro": ro}
    a, b, c, g, s1, d = range(6)
    px = sum(w for o, w in outcome_distribution(True, ref_noise).items() if o[a] ^ o[b] ^ o[c] ^ o[d] ^ o[g])
    dist_z = outcome_distribution(False, ref_noise)
    p_ad = sum(w for o, w in dist_z.items() if o[a] != o[d] ^ o[s1])
    p_ab = sum(w for o, w in dist_z.items() if o[a] != o[b])
    p_any = sum(w for o, w in dist_z.items() if o[a] != o[b] or o[a] != o[d] ^ o[s1])

    layout, parts, sender = khan_acka_layout()
    noise = PauliNoise(z_flip=z, x_flip={"bob": 0.05}, depolarize={"bell0.GS1": 0.06, "bell0.GS2": 0.03}, readout_flip=ro)
    counts = AnonymousConferenceKeyAgreement(layout, parts, sender, 0.5).compile(noise).sample_counts(200_000, 11)
    checks = [
        (counts["x_parity_errors"], counts["verify_rounds_x"], px),
        (counts["z_err:alice:dina"], counts["key_rounds"], p_ad),
        (counts["z_err:alice:bob"], counts["key_rounds"], p_ab),
        (counts["key_errors"], counts["key_rounds"], p_any),
    ]
    for k, n, p in checks:
        assert 0.01 < p < 0.5
        assert abs(k / n - p) < 4.5 * math.sqrt(p * (1 - p) / n), (k, n, p)
