"""Anonymous conference key agreement (Q-ACKA), general in layout and participants.

Steps per heralded shot (Khan et al. 2025, Secs. III-C and IV-A; Hahn–de Jong–Pappa AME; see "Anonymous
conference key agreement (Q-ACKA)" in qrate/MODELS.md): the chain carrier
makes a GHZ on all users; every non-participant measures X and announces; every participant
announces a fresh random bit; the sender applies ``Z^(parity of the non-participants' bits)``.
Then a round is a **key round** (probability ``1 - verification_fraction``: participants measure
Z) or a **verification round** whose basis the verifier draws uniformly: Z (all outcomes must be
equal) or X (parity must be 0).

Counters (``CompiledProtocol.counter_names``):

* ``shots``, ``key_rounds``, ``verify_rounds_z``, ``verify_rounds_x``;
* ``key_errors``: key rounds where some participant's bit differs from the sender's;
* ``z_err:<sender>:<p>``: key rounds where participant ``p``'s bit differs from the sender's
  (Q_Z^(1,i) = z_err / key_rounds);
* ``z_verify_errors``: failed Z-verification rounds; ``x_parity_errors``: failed X-verification
  rounds (Q_X = x_parity_errors / verify_rounds_x);
* with ``dishonest`` set, ``eve_key_matches``: key rounds where the dishonest node's Z outcome
  equals the sender's key bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from qrate.errors import InputError
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec


@dataclass(frozen=True)
class AnonymousConferenceKeyAgreement(ChainCarrierProtocol):
    """Q-ACKA on ``layout`` among ``participants``, initiated anonymously by ``sender``.

    Attributes:
        layout: the network chain.
        participants: users who obtain the key (the sender included), at least two.
        sender: the anonymous initiator; applies the AME Z correction; reference for ``z_err``.
        verification_fraction: probability that a heralded shot is a verification round.
        dishonest: optional non-participant who skips his X measurement, announces a random bit,
            keeps his photon and measures it in Z in key rounds to learn the key.
        leaky: audit only: the sender announces her correction bit (parity of the
            non-participants' announcements) instead of a fresh random bit, which reveals her.
    """

    layout: NetworkLayout
    participants: tuple[str, ...]
    sender: str
    verification_fraction: float = 0.1
    dishonest: str | None = None
    leaky: bool = False

    name: ClassVar[str] = "acka"
    scenario_fields: ClassVar[tuple[str, ...]] = ("participants", "verification_fraction")
    carriers_per_use: ClassVar[int] = 1
    DEFAULT_VERIFICATION_FRACTION: ClassVar[float] = 0.1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousConferenceKeyAgreement:
        """Participants, sender and verification fraction (default 0.1) from ``[protocol]``."""
        f = spec.verification_fraction
        return cls(layout, tuple(spec.participants), spec.sender, cls.DEFAULT_VERIFICATION_FRACTION if f is None else f)

    def report(self) -> dict[str, Any]:
        """Counter roles: Q_X from the X-verification rounds, Q_Z per (sender, participant) pair."""
        return {
            "protocol": self.name,
            "default_y": "key_rate",
            "carriers_per_use": self.carriers_per_use,
            "estimators": [
                {
                    "kind": "conference_key",
                    "key_rounds": "key_rounds",
                    "test_rounds": "verify_rounds_x",
                    "x_errors": "x_parity_errors",
                    "z_errors": {f"{self.sender}-{p}": f"z_err:{self.sender}:{p}" for p in self.others},
                    "verification_fraction": self.verification_fraction,
                    "parties": len(self.participants),
                }
            ],
        }

    def __post_init__(self) -> None:
        object.__setattr__(self, "participants", tuple(self.participants))
        users = self.layout.users
        bad = [p for p in self.participants if p not in users]
        if bad:
            raise InputError("participants", f"not users of the layout: {bad}; users: {list(users)}")
        if len(set(self.participants)) != len(self.participants) or len(self.participants) < 2:
            raise InputError("participants", "need at least two distinct participants")
        if self.sender not in self.participants:
            raise InputError("sender", f"{self.sender!r} must be one of the participants {list(self.participants)}")
        if not 0.0 <= self.verification_fraction <= 1.0:
            raise InputError("verification_fraction", f"must lie in [0, 1], got {self.verification_fraction}")
        if self.dishonest is not None and (self.dishonest not in users or self.dishonest in self.participants):
            raise InputError("dishonest", f"{self.dishonest!r} must be a user who is not a participant")

    @property
    def others(self) -> tuple[str, ...]:
        """Participants other than the sender, in order."""
        return tuple(p for p in self.participants if p != self.sender)

    def build(
        self, noise: PauliNoise, basis: str
    ) -> tuple[CircuitBuilder, dict[str, tuple[int, ...]], dict[str, int], int | None]:
        """Circuit of one shot whose participants finally measure in ``basis``.

        Returns the builder, the announcements, the participants' final record indices and the
        dishonest node's Z record (or None).
        """
        lay = self.layout
        noise.check_keys(lay.users, lay.free_space_photons)
        b = CircuitBuilder()
        carrier = chain_carrier(b, lay, noise)
        q = carrier.qubit
        ann: dict[str, tuple[int, ...]] = {}
        for u in lay.users:
            if u in self.participants or u == self.dishonest:
                if not (self.leaky and u == self.sender):
                    ann[u] = (b.random_bit(f"rand.{u}"),)
            else:
                ann[u] = (b.measure("X", q[u], noise.readout(u)),)
        correction = [m for u in lay.users if u not in self.participants for m in ann[u]]
        if self.leaky:
            ann[self.sender] = tuple(correction)
            ann = {u: ann[u] for u in lay.users}
        for j, (mx, mz) in enumerate(carrier.bsm_records):
            ann[f"bsm{j}.x"], ann[f"bsm{j}.z"] = (mx,), (mz,)
        b.controlled("Z", correction, q[self.sender])
        final = {p: b.measure(basis, q[p], noise.readout(p)) for p in self.participants}
        eve = None
        if self.dishonest is not None and basis == "Z":
            eve = b.measure("Z", q[self.dishonest], noise.readout(self.dishonest))
        return b, ann, final, eve

    def compile(
        self, noise: PauliNoise | None = None, *, method: str = DEFAULT_METHOD, sampler: str = DEFAULT_SAMPLER
    ) -> CompiledProtocol:
        """Compile the key, Z-verification and X-verification rounds for ``noise``.

        Key and Z rounds: parity ``j`` = ``p_j``'s bit XOR the sender's, ``p_j`` the j-th other
        participant (plus, with a dishonest node, his Z outcome XOR the sender's bit); X rounds:
        one parity, the XOR of all participants' X outcomes.
        """
        noise = noise or PauliNoise()
        bz, ann_z, kz, eve = self.build(noise, "Z")
        bx, ann_x, kx, _ = self.build(noise, "X")
        s, others = self.sender, self.others
        diffs = tuple((kz[p], kz[s]) for p in others)
        any_diff = Flag(tuple(range(len(others))))
        key_flags = {f"z_err:{s}:{p}": Flag((j,)) for j, p in enumerate(others)}
        key_flags["key_errors"] = any_diff
        key_parities = diffs
        if eve is not None:
            key_parities += ((eve, kz[s]),)
            key_flags["eve_key_matches"] = Flag((len(others),), invert=True)
        x_parity = (tuple(kx[p] for p in self.participants),)
        f = self.verification_fraction
        rounds = (
            Round("key", bz.circuit, 1.0 - f, "key_rounds", key_parities, key_flags, ann_z, kz),
            Round("verify_z", bz.circuit, f / 2, "verify_rounds_z", diffs, {"z_verify_errors": any_diff}, ann_z, kz),
            Round("verify_x", bx.circuit, f / 2, "verify_rounds_x", x_parity, {"x_parity_errors": Flag((0,))}, ann_x, kx),
        )
        pair = {p: f"z_err:{s}:{p}" for p in others}
        counters = (
            "shots",
            "key_rounds",
            "verify_rounds_z",
            "verify_rounds_x",
            "key_errors",
            "z_verify_errors",
            "x_parity_errors",
            *pair.values(),
        )
        if eve is not None:
            counters += ("eve_key_matches",)
        lay = self.layout
        resources = {"ghz": lay.ghz_count, "bell": lay.bell_count, "bsm": lay.bsm_count}
        return CompiledProtocol(self.name, rounds, counters, resources, method, sampler)
