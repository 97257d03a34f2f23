"""Anonymous entanglement (Khan et al. 2025, Sec. III-A; see "Anonymous entanglement" in qrate/MODELS.md), both
forms, with Bell-pair fidelity checks.

* **Satellite–ground** (``receiver=None``): the layout is one terrestrial network. Its GS holds a
  GHZ with its users; the NTN node (satellite) sends one photon of a Bell pair to the GS
  (photon ``"ntn0.<gs>"``) and keeps the other (``"ntn0.keep"``). Non-participants measure X and
  announce; the anonymous node (``sender``) announces a random bit and applies the Z correction,
  leaving a Bell pair (sender, GS); the GS swaps it with the satellite's pair by a BSM, whose
  outcomes the NTN node corrects. Result: a Bell pair between the sender and the NTN node.
* **Ground–ground** (``receiver`` given): the layout is two networks, sender in one and receiver
  in the other. Each side runs the step above with its own Bell pair from the same NTN node
  (photons ``"ntn<i>.<gs_i>"`` and ``"ntn<i>.keep"``); the NTN node then swaps its two photons by a
  BSM and the receiver applies the corrections. Result: a Bell pair (sender, receiver).

``depolarize`` keys are those ``ntn<i>.*`` photon names. The pair should be ``|Φ+>``; three kinds
of round measure XX, YY and ZZ on it (probability 1/3 each). Counters: ``shots``,
``xx_rounds``, ``yy_rounds``, ``zz_rounds``, ``xx_errors``, ``yy_errors``, ``zz_errors`` (outcome
parity opposite to that of ``|Φ+>``: XX = +1, YY = −1, ZZ = +1). For Pauli noise the fidelity
with ``|Φ+>`` is ``F = 1 − (e_xx + e_yy + e_zz)/2`` with ``e`` the error fractions
(:func:`bell_fidelity`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qrate.errors import InputError
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import CircuitBuilder, bell, bsm, fiber_noise, ghz
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import NoParams

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec

BASES = ("X", "Y", "Z")


def _one_receiver(spec: ProtocolSpec) -> str:
    """The one participant besides the sender (InputError naming ``participants`` otherwise)."""
    sender = spec.sender_user
    others = [u for u in spec.participants if u != sender]
    if len(others) != 1 or sender not in spec.participants:
        raise InputError(
            "participants", f"expected the sender {sender!r} and exactly one receiver, got {list(spec.participants)}"
        )
    return others[0]


def bell_fidelity(counts: Mapping[str, int]) -> float:
    """Fidelity with ``|Φ+>`` from the XX/YY/ZZ counters (Pauli noise); NaN while a basis has no rounds."""
    if any(counts.get(f"{p}_rounds", 0) == 0 for p in ("xx", "yy", "zz")):
        return math.nan
    e = [counts[f"{p}_errors"] / counts[f"{p}_rounds"] for p in ("xx", "yy", "zz")]
    return 1.0 - sum(e) / 2.0


def check_fidelity(b: Summary, rounds: Mapping[str, str], errors: Mapping[str, str], weight: float) -> tuple[float, float]:
    """``1 − weight·Σ e_j`` over error fractions e_j = errors_j / rounds_j, and its standard error."""
    value, var = 1.0, 0.0
    for name, rounds_name in rounds.items():
        n = b.total(rounds_name)
        if n == 0:
            return math.nan, math.nan
        e = b.total(errors[name]) / n
        value -= weight * e
        var += weight**2 * e * (1.0 - e) / n
    return value, math.sqrt(var)


@dataclass(frozen=True)
class BellPair(Estimator):
    """Anonymous Bell pairs: their rate and fidelity with |Φ+> from XX/YY/ZZ checks,
    F = 1 − (e_xx + e_yy + e_zz)/2, with its standard error.

    Attributes:
        rounds, errors: basis (``xx``, ``yy``, ``zz``) -> counter of its check rounds / errors.
    """

    rounds: Mapping[str, str]
    errors: Mapping[str, str]

    kind: ClassVar[str] = "bell_pair"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "pair_rate_bps",
            "pair_kbps",
            "anonymous Bell pairs per second (k/s), ± 1σ across batches",
            "anonymous Bell-pair rate (kpairs/s)",
            1e-3,
            std="pair_rate_std_bps",
            y="pair_rate",
            total="anonymous_pairs",
        ),
        Quantity(
            "bell_fidelity",
            "fidelity",
            "fidelity with |Φ+> from XX/YY/ZZ checks",
            "Bell-pair fidelity",
            1.0,
            fmt=".5f",
            sem="bell_fidelity_stderr",
            y="fidelity",
        ),
        Quantity("bell_fidelity_stderr", "±se", "standard error of the fidelity", "", fmt=".1e"),
    )

    def limits(self) -> list[tuple[str, str]]:
        """Each basis' errors within its rounds."""
        return [(self.errors[k], self.rounds[k]) for k in self.rounds]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch pair rate."""
        return {"rate": b.uses_per_s * b.p_batches}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Pair rate and fidelity."""
        f, se = check_fidelity(b, self.rounds, self.errors, 0.5)
        per_use = b.uses_per_s
        return {
            "pair_rate_bps": per_use * p_success,
            "pair_rate_std_bps": b.spreads(self)["rate"][0],
            "bell_fidelity": f,
            "bell_fidelity_stderr": se,
        }


@dataclass(frozen=True)
class AnonymousEntanglement:
    """Anonymous Bell pair between ``sender`` and the NTN node, or ``sender`` and ``receiver``."""

    layout: NetworkLayout
    sender: str
    receiver: str | None = None

    name: ClassVar[str] = "anonymous-entanglement"
    Params: ClassVar[type[NoParams]] = NoParams
    reads_participants: ClassVar[bool] = True
    estimators: ClassVar[tuple[type[Estimator], ...]] = (BellPair,)
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousEntanglement:
        """Ground–ground form: ``participants`` are the sender and one receiver in another network."""
        return cls(layout, spec.sender_user, _one_receiver(spec))

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """Noise keys of the NTN photon sent to ``ground_station`` (one per network)."""
        i = next(k for k, n in enumerate(self.layout.networks) if n.ground_station == ground_station)
        return (f"ntn{i}.{ground_station}",)

    @property
    def carrier_resources(self) -> dict[str, int]:
        """GHZ states, Bell pairs and BSMs of one anonymous pair."""
        return self.resources

    def report(self) -> Report:
        """Counter roles: XX, YY and ZZ check rounds and their errors give the pair's fidelity."""
        pair = BellPair({p: f"{p}_rounds" for p in ("xx", "yy", "zz")}, {p: f"{p}_errors" for p in ("xx", "yy", "zz")})
        return Report(self.name, "pair_rate", self.carriers_per_use, (pair,))

    def __post_init__(self) -> None:
        nets = self.layout.networks
        if any(n.forward for n in nets):
            raise InputError("layout", "anonymous entanglement needs a GHZ at every ground station (no forwarding)")
        want = 1 if self.receiver is None else 2
        if len(nets) != want:
            form = "satellite-ground" if self.receiver is None else "ground-ground"
            raise InputError("layout", f"the {form} form needs {want} network(s), got {len(nets)}")
        i = self.layout.network_of(self.sender)
        if self.receiver is not None and self.layout.network_of(self.receiver) == i:
            raise InputError("receiver", "sender and receiver must be in different networks")

    @property
    def free_space_photons(self) -> tuple[str, ...]:
        """Keys accepted by ``PauliNoise.depolarize``."""
        return tuple(x for i, n in enumerate(self.layout.networks) for x in (f"ntn{i}.{n.ground_station}", f"ntn{i}.keep"))

    @property
    def resources(self) -> dict[str, int]:
        """GHZ states, Bell pairs and BSMs per heralded shot."""
        k = len(self.layout.networks)
        return {"ghz": k, "bell": k, "bsm": k + (k - 1)}

    def build_pair(self, b: CircuitBuilder, noise: PauliNoise, prefix: str = "") -> tuple[str, str, dict[str, tuple[int, ...]]]:
        """Append the protocol; return (sender qubit, partner qubit, announcements)."""
        # chain-layout photon names are accepted too (teleportation's broadcasts use them)
        noise.check_keys(self.layout.users, (*self.free_space_photons, *self.layout.free_space_photons))
        anon = {self.sender} | ({self.receiver} if self.receiver else set())
        ann: dict[str, tuple[int, ...]] = {}
        keep: list[str] = []
        for i, net in enumerate(self.layout.networks):
            g, fs, kp = (f"{prefix}{net.ground_station}.ghz", f"{prefix}ntn{i}.{net.ground_station}", f"{prefix}ntn{i}.keep")
            ghz(b, [prefix + u for u in net.users] + [g], noise.ghz_fidelity.get(net.ground_station, 1.0))
            bell(b, fs, kp)
            b.noise("DEPOLARIZE1", fs, noise.depolarize.get(f"ntn{i}.{net.ground_station}", 0.0))
            b.noise("Z_ERROR", fs, noise.z_flip.get(f"ntn{i}.{net.ground_station}", 0.0))
            b.noise("DEPOLARIZE1", kp, noise.depolarize.get(f"ntn{i}.keep", 0.0))
            for u in net.users:
                fiber_noise(b, u, noise, prefix + u)
            (node,) = [u for u in net.users if u in anon]
            for u in net.users:
                ann[u] = (b.random_bit(f"{prefix}rand.{u}"),) if u == node else (b.measure("X", prefix + u, noise.readout(u)),)
            b.controlled("Z", [ann[u][0] for u in net.users if u != node], prefix + node)
            mx, mz = bsm(b, g, fs)
            b.controlled("X", [mz], kp)
            b.controlled("Z", [mx], kp)
            ann[f"gs{i}.x"], ann[f"gs{i}.z"] = (mx,), (mz,)
            keep.append(kp)
        if self.receiver is None:
            return prefix + self.sender, keep[0], ann
        mx, mz = bsm(b, keep[0], keep[1])
        b.controlled("X", [mz], prefix + self.receiver)
        b.controlled("Z", [mx], prefix + self.receiver)
        ann["ntn.x"], ann["ntn.z"] = (mx,), (mz,)
        return prefix + self.sender, prefix + self.receiver, ann

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        """Compile the XX, YY and ZZ check rounds for ``noise`` (one parity each: the two outcomes)."""
        noise = noise or PauliNoise()
        rounds = []
        for p in BASES:
            b = CircuitBuilder()
            qa, qb, ann = self.build_pair(b, noise)
            ra = b.measure(p, qa, noise.readout(self.sender))
            rb = b.measure(p, qb, noise.readout(self.receiver) if self.receiver else 0.0)
            flag = Flag((0,), invert=p == "Y")  # |Φ+>: YY = -1
            rounds.append(
                Round(
                    p.lower() * 2,
                    b.circuit,
                    1 / 3,
                    f"{p.lower() * 2}_rounds",
                    ((ra, rb),),
                    {f"{p.lower() * 2}_errors": flag},
                    ann,
                    {self.sender: ra, self.receiver or "ntn": rb},
                )
            )
        counters = ("shots", "xx_rounds", "yy_rounds", "zz_rounds", "xx_errors", "yy_errors", "zz_errors")
        return CompiledProtocol(self.name, tuple(rounds), counters, self.resources, method, sampler)
