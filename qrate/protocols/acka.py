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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from qrate.errors import InputError
from qrate.finite_key import finite_key_bits
from qrate.formulas import Step, proportion, ratio, secret_fraction
from qrate.protocols._decode import DEFAULT_METHOD, DEFAULT_SAMPLER, Flag
from qrate.protocols.carriers import CircuitBuilder, chain_carrier
from qrate.protocols.compiled import CompiledProtocol, Round
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import ChainCarrierProtocol, NetworkLayout
from qrate.protocols.noise import PauliNoise
from qrate.protocols.registry import ProtocolParams, params_of

if TYPE_CHECKING:
    from qrate.scenario.schema import ProtocolSpec


class AckaParams(ProtocolParams):
    """``[protocol.acka]``: ``verification_fraction`` of the heralded states go to verification rounds."""

    verification_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)


DEFAULTS = AckaParams()


@dataclass(frozen=True)
class ConferenceKey(Estimator):
    """The anonymous conference key of Q-ACKA (N-BB84), from its verification and key rounds.

    Q_X = X-parity failures / X-verification rounds; Q_Z^(1,i) = key rounds in which participant
    i's bit differs from the sender's / key rounds. Asymptotic rate
    R·P·(1 − f_verify)·[1 − h(Q_X) − h(max_i Q_Z^(1,i))] (Grasselli, Kampermann, Bruß, NJP 20,
    113014 (2018); Hahn, de Jong, Pappa, PRX Quantum 1, 020325 (2020)); a worst-case rate with
    both error rates at the upper ends of their intervals (the entropy charge is non-decreasing,
    and an error rate at or above 1/2 leaves no key, so it is never above the estimate); the
    finite-key rate for a block of ``key_block_s`` seconds (the simulated key and test rounds
    scaled to the block, divided by the block). Over a satellite pass, the finite-key length
    with the pass as one block (:meth:`pass_totals`).

    Attributes:
        key_rounds, test_rounds, x_errors: counter names; z_errors: pair label -> counter.
        verification_fraction: the share of verification rounds; parties: participants N.
    """

    key_rounds: str
    test_rounds: str
    x_errors: str
    z_errors: Mapping[str, str]
    verification_fraction: float
    parties: int

    kind: ClassVar[str] = "conference_key"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "qber_x",
            "Q_X",
            "X-parity error rate from the X-verification rounds",
            "QBER $Q_X$ (%), 95% CI",
            100.0,
            fmt=".4g",
            ci=("qber_x_ci_low", "qber_x_ci_high"),
            y="qber",
        ),
        Quantity(
            "qber_z_max",
            "Q_Z_max",
            "largest pairwise Z error rate in key rounds",
            "QBER max $Q_Z$ (%), 95% CI",
            100.0,
            fmt=".4g",
            ci=("qber_z_max_ci_low", "qber_z_max_ci_high"),
            y="qber_z",
        ),
        Quantity(
            "key_rate_bps",
            "key_kbps",
            "asymptotic conference-key rate (kbit/s), ± 1σ across batches",
            "anonymous conference-key rate (kbit/s)",
            1e-3,
            std="key_rate_std_bps",
            sem="key_rate_sem_bps",
            y="key_rate",
            total="key_bits",
        ),
        Quantity(
            "key_rate_worst_bps",
            "key_lo_kbps",
            "key rate with Q_X and max Q_Z at the upper ends of their 95% intervals (kbit/s)",
            "worst-case conference-key rate (kbit/s)",
            1e-3,
            y="key_rate_worst",
        ),
        Quantity(
            "finite_key_rate_bps",
            "fk_kbps",
            "finite-key rate for a block of sampling.key_block_s seconds (kbit/s)",
            "finite-key conference-key rate (kbit/s)",
            1e-3,
            y="finite_key_rate",
        ),
    )

    def limits(self) -> list[tuple[str, str]]:
        """X errors within the X rounds, every pair's Z errors within the key rounds."""
        return [(self.x_errors, self.test_rounds), *((z, self.key_rounds) for z in self.z_errors.values())]

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch key rate from its own Q_X and max Q_Z (a batch without test or key rounds takes
        the pooled ``qber_x`` / ``qber_z:<pair>``)."""
        key_b, test_b = b.count(self.key_rounds), b.count(self.test_rounds)
        qx_b = ratio(b.count(self.x_errors), test_b, pooled["qber_x"])
        qz_b = np.max([ratio(b.count(name), key_b, pooled[f"qber_z:{pair}"]) for pair, name in self.z_errors.items()], axis=0)
        keep = 1.0 - self.verification_fraction
        return {"key_rate": b.uses_per_s * b.p_batches * keep * secret_fraction(qx_b, qz_b)}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Error rates with their intervals, the asymptotic, worst-case and finite-key rates."""
        n_key, k_test = b.total(self.key_rounds), b.total(self.test_rounds)
        qx, qx_lo, qx_hi = proportion(b.total(self.x_errors), k_test)
        qz_ci = {pair: proportion(b.total(name), n_key) for pair, name in self.z_errors.items()}
        qz = {pair: ci[0] for pair, ci in qz_ci.items()}
        worst_pair = max(qz_ci, key=lambda pair: qz_ci[pair][0]) if qz_ci else None
        qz_max, qz_lo, _ = qz_ci[worst_pair] if worst_pair is not None else (math.nan,) * 3
        qz_hi = max((ci[2] for ci in qz_ci.values()), default=math.nan)
        keep = 1.0 - self.verification_fraction
        rate_use = b.uses_per_s * p_success
        resolved = math.isfinite(qx) and math.isfinite(qz_max)
        r_inf = float(secret_fraction(qx, qz_max)) if resolved else 0.0
        r_worst = min(float(secret_fraction(qx_hi, qz_hi)), r_inf) if resolved else 0.0
        pooled = {"qber_x": qx, **{f"qber_z:{pair}": v for pair, v in qz.items()}}
        key_std, key_sem = b.spreads(self, pooled)["key_rate"]
        # finite key over a physical block of key_block_s seconds: the simulated rounds scaled to the
        # block (the rate no longer depends on how long one simulates)
        seconds = b.seconds
        block_s = float(b.key_block_s or seconds)
        ell = finite_key_bits(
            b.finite_key, round(n_key * block_s / seconds), round(k_test * block_s / seconds), qx, qz_max, self.parties
        )
        bound = {} if b.finite_key == "grasselli2018" else {"finite_key_bound": b.finite_key}
        return {
            **bound,
            "qber_x": qx,
            "qber_x_ci_low": qx_lo,
            "qber_x_ci_high": qx_hi,
            "qber_z": qz,
            "qber_z_max": qz_max,
            "qber_z_max_ci_low": qz_lo,
            "qber_z_max_ci_high": qz_hi,
            "secret_fraction": r_inf,
            "key_rate_bps": rate_use * keep * r_inf,
            "key_rate_f0_bps": rate_use * r_inf,
            "key_rate_std_bps": key_std,
            "key_rate_sem_bps": key_sem,
            "key_rate_worst_bps": rate_use * keep * r_worst,
            "finite_key_rate_bps": ell / block_s,
            "key_block_s": block_s,
        }

    def pass_totals(self, steps: Sequence[Step], rate_hz: float) -> dict[str, Any]:
        """Finite-key length with the pass as one block.

        The counters of every step scaled to its physical pulses (weight_s × R over the simulated
        pulses) and pooled, with Q_X and max Q_Z from the pooled counts; its standard error comes
        from the batches as independent replicates of the pass (batch b of every step, scaled by
        the number of batches).
        """
        bound = str(steps[0][0].get("finite_key_bound", "grasselli2018")) if steps else "grasselli2018"
        names = {"n": self.key_rounds, "k": self.test_rounds, "x": self.x_errors, **self.z_errors}
        pooled = dict.fromkeys(names, 0.0)
        batches = max(int(rows.size) for _, rows, _ in steps)
        replicas = np.zeros((batches, len(names)))
        for _, rows, w in steps:
            b = Batches(rows, rate_hz)
            scale = w * rate_hz / float(rows["pulses"].sum())
            for j, (role, counter) in enumerate(names.items()):
                c = b.count(counter)
                pooled[role] += scale * float(c.sum())
                replicas[: c.size, j] += scale * rows.size * c

        def length(v: Mapping[str, float]) -> float:
            n, k = round(v["n"]), round(v["k"])
            if n <= 0 or k <= 0:
                return 0.0
            qz = max((v[p] / v["n"] for p in self.z_errors), default=0.0)
            return finite_key_bits(bound, n, k, v["x"] / v["k"], qz, self.parties)

        ell = length(pooled)
        reps = [length(dict(zip(names, r, strict=True))) for r in replicas]
        se = float(np.std(reps, ddof=1) / math.sqrt(len(reps))) if len(reps) > 1 else math.nan
        return {"finite_key_bits": ell, "finite_key_bits_stderr": se, "key_rounds": pooled["n"]}


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
    verification_fraction: float = DEFAULTS.verification_fraction
    dishonest: str | None = None
    leaky: bool = False

    name: ClassVar[str] = "acka"
    Params: ClassVar[type[AckaParams]] = AckaParams
    reads_participants: ClassVar[bool] = True
    estimators: ClassVar[tuple[type[Estimator], ...]] = (ConferenceKey,)
    carriers_per_use: ClassVar[int] = 1

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> AnonymousConferenceKeyAgreement:
        """Participants and sender from ``[protocol]``, the verification fraction from ``[protocol.acka]``."""
        params = params_of(spec, AckaParams)
        return cls(layout, tuple(spec.participants), spec.sender_user, params.verification_fraction)

    def report(self) -> Report:
        """Counter roles: Q_X from the X-verification rounds, Q_Z per (sender, participant) pair."""
        key = ConferenceKey(
            key_rounds="key_rounds",
            test_rounds="verify_rounds_x",
            x_errors="x_parity_errors",
            z_errors={f"{self.sender}-{p}": f"z_err:{self.sender}:{p}" for p in self.others},
            verification_fraction=self.verification_fraction,
            parties=len(self.participants),
        )
        return Report(self.name, "key_rate", self.carriers_per_use, (key,))

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
