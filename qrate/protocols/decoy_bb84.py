"""Decoy-state BB84 with weak coherent pulses, prepare-and-measure from a platform to one ground user.

The platform (Alice) sends phase-randomised weak coherent pulses of intensity μ_k (signal μ₁,
decoy μ₂, vacuum μ₃ = 0) with probabilities p_k, each in the Z basis with probability p_Z (else
X); the receiving user (Bob, the one ``participant``, the user of a forwarding station, so that
the free-space photon of that station's downlink reaches his detectors) measures in Z with
probability p_Z. See "Decoy-state BB84" in qrate/MODELS.md.

Channel (Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005), "MQZL"): with η the whole transmittance (the
downlink's mean transmittance, the user's fiber and switch, the detector efficiency), Y₀ the
probability of a noise click among the ``detectors.per_receiver`` detectors of Bob's receiver in a
gate (dark counts, sky background, afterpulses: the scenario's
:class:`qrate.channels.devices.Detector`, as for every protocol) and e_d the misalignment error,

    Q_k = 1 − (1 − Y₀) e^(−η μ_k),   E_k Q_k = Y₀/2 + e_d (1 − Y₀)(1 − e^(−η μ_k)),

the click probability and the error probability of a sifted click (a noise click gives a random
bit; Q_k = Y₀ + 1 − e^(−ημ_k) and E_k Q_k = e₀Y₀ + e_d(1 − e^(−ημ_k)) up to terms of order
Y₀ η μ_k). Each pulse is independent, so a batch of N pulses is one multinomial draw over the
outcome classes (intensity × Alice's basis × {sifted correct, sifted error, unsifted click}, and
no click): exact, with a cost independent of N. The mean transmittance enters e^(−ημ) (the
Jensen gap of fading is below μ² Var(η)/2, negligible at η ≪ 1); coherence blocks are refused.

Counters: ``clicks:<k>`` (every click of intensity k), ``sifted:<k>:<b>`` (clicks with Alice's
and Bob's basis both b), ``errors:<k>:<b>`` (sifted clicks whose bit differs), for k in
``signal, decoy, vacuum`` and b in ``Z, X``. The pulses sent of each intensity and basis are
N p_k p_b (Alice's choices, not data).

Estimates (:class:`DecoyKey`): gains and QBER, the MQZL vacuum + weak decoy bounds on the
single-photon yield Y₁ and error e₁, the asymptotic GLLP rate, and the finite-key length of
Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014) for a block (``sampling.key_block_s``)
and for each satellite pass as one block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from qrate.errors import InputError, count_arg
from qrate.formulas import Step, error_entropy, proportion
from qrate.protocols.estimator import Batches, Estimator, Quantity, Report, Summary
from qrate.protocols.layout import NetworkLayout
from qrate.protocols.pulses import PulseCounts, PulseSampler
from qrate.protocols.registry import ProtocolParams, params_of
from qrate.stats import MOMENT_SAMPLES as STATS_MOMENT_SAMPLES
from qrate.strict import CrossFieldError

if TYPE_CHECKING:
    from qrate.engine.plan import PointPlan
    from qrate.protocols.compiled import CompiledProtocol
    from qrate.protocols.noise import PauliNoise
    from qrate.scenario.schema import ProtocolSpec

INTENSITIES = ("signal", "decoy", "vacuum")
BASES = ("Z", "X")
MOMENT_SAMPLES = STATS_MOMENT_SAMPLES
"""Transmittance draws per batch for the reported mean transmittance (diagnostic only; the one rule:
:data:`qrate.stats.MOMENT_SAMPLES`)."""


class DecoyParams(ProtocolParams):
    """``[protocol.decoy-bb84]``: intensities and their probabilities, bases, misalignment and the
    security parameters. Bob's detectors are the scenario's ``[detectors]`` (``per_receiver``: a
    passive-basis receiver has 4).

    Attributes:
        intensities: mean photon numbers (signal μ₁, decoy μ₂, vacuum μ₃ = 0), μ₁ > μ₂ > 0.
        probabilities: p_k of each intensity (sum 1).
        basis_z_probability: p_Z, Alice's and Bob's probability of the Z basis.
        misalignment_error: e_d, the error probability of a detected signal photon.
        key_bases: ``both``: both bases form key (each analysed with the other as test basis);
            ``Z``: only Z (X is the test basis).
        error_correction_efficiency: f_EC, leakage f_EC·h(E) per sifted bit.
        eps_sec, eps_cor: secrecy and correctness parameters of the finite key.
    """

    intensities: tuple[float, float, float] = (0.8, 0.1, 0.0)
    probabilities: tuple[float, float, float] = (0.5, 0.25, 0.25)
    basis_z_probability: float = Field(default=0.5, gt=0.0, lt=1.0)
    misalignment_error: float = Field(default=0.01, ge=0.0, le=0.5)
    key_bases: Literal["both", "Z"] = "both"
    error_correction_efficiency: float = Field(default=1.16, ge=1.0, le=3.0)
    eps_sec: float = Field(default=1e-10, gt=0.0, lt=1.0)
    eps_cor: float = Field(default=1e-15, gt=0.0, lt=1.0)

    @model_validator(mode="before")
    @classmethod
    def _no_own_detectors(cls, data: object) -> object:
        if isinstance(data, dict) and "detectors" in data:  # the parameter of model 2 and before
            raise CrossFieldError("detectors", "no longer a protocol parameter: set detectors.per_receiver instead")
        return data

    @model_validator(mode="after")
    def _decoy_rules(self) -> DecoyParams:
        mu1, mu2, mu3 = self.intensities
        if mu3 != 0.0:
            raise ValueError(f"intensities: the third intensity is the vacuum (0), got {mu3:g}")
        if not 0.0 < mu2 < mu1 <= 100.0:
            raise ValueError(f"intensities: expected signal > decoy > 0, got {mu1:g}, {mu2:g}")
        p = self.probabilities
        if any(not 0.0 < x < 1.0 for x in p) or abs(sum(p) - 1.0) > 1e-9:
            raise ValueError(f"probabilities: expected three values in (0, 1) summing to 1, got {list(p)}")
        return self


DEFAULTS = DecoyParams()


# ----------------------------------------------------------------------------- closed forms
def gains(eta: float, y0: float, intensities: Sequence[float]) -> np.ndarray:
    """Click probability per pulse Q_k = 1 − (1 − Y₀) e^(−η μ_k) of each intensity."""
    mu = np.asarray(intensities, dtype=float)
    return 1.0 - (1.0 - y0) * np.exp(-eta * mu)


def error_gains(eta: float, y0: float, e_d: float, intensities: Sequence[float]) -> np.ndarray:
    """Error probability per sifted pulse E_k Q_k = Y₀/2 + e_d (1 − Y₀)(1 − e^(−η μ_k))."""
    mu = np.asarray(intensities, dtype=float)
    return 0.5 * y0 + e_d * (1.0 - y0) * -np.expm1(-eta * mu)


def single_photon_yield_lower(q_mu: float, q_nu: float, y0: float, mu: float, nu: float) -> float:
    """MQZL vacuum + weak decoy lower bound on Y₁ (their Eq. 34):
    Y₁ ≥ μ/(μν − ν²) · [Q_ν e^ν − Q_μ e^μ ν²/μ² − (μ² − ν²)/μ² · Y₀]."""
    return mu / (mu * nu - nu * nu) * (q_nu * math.exp(nu) - q_mu * math.exp(mu) * nu**2 / mu**2 - (mu**2 - nu**2) / mu**2 * y0)


def single_photon_error_upper(eq_nu: float, y0: float, y1: float, nu: float) -> float:
    """MQZL upper bound on e₁ (their Eq. 37): e₁ ≤ (E_ν Q_ν e^ν − Y₀/2) / (Y₁ ν), at most 1/2."""
    if y1 <= 0:
        return 0.5
    return min(0.5, max(0.0, (eq_nu * math.exp(nu) - 0.5 * y0) / (y1 * nu)))


def asymptotic_key_per_pulse(q: np.ndarray, eq: np.ndarray, intensities: Sequence[float], f_ec: float) -> dict[str, float]:
    """GLLP with MQZL's bounds, per signal pulse of a matched basis:
    Q₁ (1 − h(e₁)) − f Q_μ h(E_μ), with Q₁ = μ e^(−μ) Y₁ (0 when negative); the bounds too."""
    mu, nu, _ = intensities
    y0 = float(q[2])
    y1 = single_photon_yield_lower(float(q[0]), float(q[1]), y0, mu, nu)
    e1 = single_photon_error_upper(float(eq[1]), y0, y1, nu)
    q1 = mu * math.exp(-mu) * y1
    e_mu = float(eq[0] / q[0]) if q[0] > 0 else 0.5
    r = q1 * (1.0 - float(error_entropy(e1))) - f_ec * float(q[0]) * float(error_entropy(e_mu)) if y1 > 0 else 0.0
    return {"y1_lower": y1, "e1_upper": e1, "q1_lower": q1, "key_per_pulse": max(0.0, r)}


def _gamma(a: float, b: float, c: float, d: float) -> float:
    """Lim et al.'s γ(a, b, c, d) = sqrt((c+d)(1−b)b/(c d ln 2) · log2((c+d)/(c d (1−b) b) · 21²/a²))."""
    if b <= 0.0 or b >= 1.0 or c <= 0 or d <= 0:
        return 0.5
    inner = (c + d) / (c * d * (1.0 - b) * b) * 21.0**2 / a**2
    return math.sqrt((c + d) * (1.0 - b) * b / (c * d * math.log(2.0)) * math.log2(max(inner, 1.0)))


def lim_key_length_bits(
    n: np.ndarray,
    m: np.ndarray,
    intensities: Sequence[float],
    probabilities: Sequence[float],
    *,
    key: int = 0,
    f_ec: float = 1.16,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
) -> dict[str, float]:
    """Finite-key secret length (bits, ≥ 0) of Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014),
    Eqs. (1)–(5), with basis ``key`` (index into ``n``'s columns) as the key basis and the other as test basis.

    Args:
        n: sifted clicks (intensity × basis); m: their errors (same shape).
        intensities: μ₁ > μ₂ + μ₃, μ₃ ≥ 0; probabilities: p_k.
    """
    mu = np.asarray(intensities, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    test = 1 - key
    ln = math.log(21.0 / eps_sec)
    tau0 = float(np.sum(p * np.exp(-mu)))
    tau1 = float(np.sum(p * np.exp(-mu) * mu))
    mu1, mu2, mu3 = (float(x) for x in mu)
    den1 = mu1 * (mu2 - mu3) - mu2**2 + mu3**2

    def bounds(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta = math.sqrt(max(float(counts.sum()), 0.0) / 2.0 * ln)
        return np.exp(mu) / p * (counts - delta), np.exp(mu) / p * (counts + delta)

    def vacuum_and_single(col: int) -> tuple[float, float]:
        lo, hi = bounds(n[:, col])
        s0 = max(0.0, tau0 * (mu2 * lo[2] - mu3 * hi[1]) / (mu2 - mu3))
        s1 = tau1 * mu1 * (lo[1] - hi[2] - (mu2**2 - mu3**2) / mu1**2 * (hi[0] - s0 / tau0)) / den1
        return s0, max(0.0, s1)

    s0, s1 = vacuum_and_single(key)
    _, s1_test = vacuum_and_single(test)
    m_lo, m_hi = bounds(m[:, test])
    v1 = max(0.0, tau1 * (m_hi[1] - m_lo[2]) / (mu2 - mu3))
    n_key = float(n[:, key].sum())
    out = {"s0": s0, "s1": s1, "phase_error": 0.5, "length_bits": 0.0}
    if s1 <= 0 or s1_test <= 0 or n_key <= 0:
        return out
    ratio = min(v1 / s1_test, 0.5)
    phi = min(0.5, ratio + _gamma(eps_sec, ratio, s1, s1_test))
    e_key = float(m[:, key].sum()) / n_key
    leak = f_ec * n_key * float(error_entropy(e_key))
    ell = s0 + s1 * (1.0 - float(error_entropy(phi))) - leak - 6.0 * math.log2(21.0 / eps_sec) - math.log2(2.0 / eps_cor)
    out.update(phase_error=phi, length_bits=max(0.0, ell))
    return out


# ----------------------------------------------------------------------------------- sampler
def all_counter_names() -> tuple[str, ...]:
    """Every counter of the protocol, in a fixed order."""
    return (
        *(f"clicks:{k}" for k in INTENSITIES),
        *(f"sifted:{k}:{b}" for k in INTENSITIES for b in BASES),
        *(f"errors:{k}:{b}" for k in INTENSITIES for b in BASES),
    )


@dataclass(frozen=True)
class DecoyPulses(PulseSampler):
    """Exact counters of weak coherent pulses on one downlink (module docstring).

    Attributes:
        eta: whole transmittance (downlink mean × fiber × switch × detector efficiency).
        y0: noise-click probability per gate among the detectors of Bob's receiver.
        params: the protocol's parameters; budget: the downlink's budget (for the reported
            transmittance draws; None: none drawn); eta_link: the downlink's mean transmittance.
    """

    eta: float
    y0: float
    params: DecoyParams = DEFAULTS
    budget: Any = None
    eta_link: float = 0.0

    counter_names: tuple[str, ...] = all_counter_names()

    def _classes(self) -> np.ndarray:
        """Probabilities of (intensity, Alice basis, {correct, error, unsifted}), flattened."""
        p = self.params
        q = gains(self.eta, self.y0, p.intensities)
        eq = error_gains(self.eta, self.y0, p.misalignment_error, p.intensities)
        pz = p.basis_z_probability
        out = np.zeros((3, 2, 3))
        for k in range(3):
            for j, pb in enumerate((pz, 1.0 - pz)):  # Alice's basis j; Bob matches it with the same probability
                w = p.probabilities[k] * pb
                out[k, j] = (w * pb * (q[k] - eq[k]), w * pb * eq[k], w * (1.0 - pb) * q[k])
        return out.ravel()

    @cached_property
    def _cell_probabilities(self) -> np.ndarray:
        """The outcome classes of one pulse and, last, "no click"."""
        probs = self._classes()
        return np.array([*probs, max(0.0, 1.0 - float(probs.sum()))])

    def _counts(self, cells: np.ndarray) -> dict[str, Any]:
        c = cells.reshape(3, 2, 3)
        out: dict[str, Any] = {}
        for k, name in enumerate(INTENSITIES):
            out[f"clicks:{name}"] = c[k].sum()
            for j, b in enumerate(BASES):
                out[f"sifted:{name}:{b}"] = c[k, j, 0] + c[k, j, 1]
                out[f"errors:{name}:{b}"] = c[k, j, 1]
        return {k: out[k] for k in self.counter_names}

    def sample_pulses(self, pulses: int, rng: np.random.Generator) -> PulseCounts:
        """One multinomial draw of the outcome classes of ``pulses`` pulses."""
        pulses = count_arg("pulses", pulses)
        cells = rng.multinomial(int(pulses), self._cell_probabilities)[:-1]
        counts = {k: int(v) for k, v in self._counts(cells).items()}
        successes = sum(counts[f"clicks:{k}"] for k in INTENSITIES)
        m, s1, s2 = 0, 0.0, 0.0
        if self.budget is not None and pulses > 0:
            from qrate.channels.freespace import sample_transmittance

            draws = sample_transmittance(self.budget, min(int(pulses), MOMENT_SAMPLES), rng)
            m, s1, s2 = int(draws.size), float(draws.sum()), float(np.dot(draws, draws))
        return PulseCounts(successes, counts, m, s1, s2)

    def expected_counts(self, pulses: float) -> dict[str, float]:
        """Mean of every counter over ``pulses`` pulses."""
        return {k: float(v) for k, v in self._counts(float(pulses) * self._classes()).items()}

    def free_space_transmittance(self) -> float | None:
        """The receiver's downlink mean transmittance."""
        return self.eta_link

    def success_probability(self) -> float:
        """Clicks per pulse, Σ_k p_k Q_k."""
        p = self.params
        return float(np.dot(p.probabilities, gains(self.eta, self.y0, p.intensities)))

    def signal_success_probability(self) -> float:
        """Clicks per pulse without a noise click, Σ_k p_k (1 − Y₀)(1 − e^(−ημ_k))."""
        p = self.params
        return float(np.dot(p.probabilities, gains(self.eta, 0.0, p.intensities))) * (1.0 - self.y0)


# --------------------------------------------------------------------------------- estimator
def _table(values: Mapping[str, float | int]) -> np.ndarray:
    return np.array([[float(values[f"{k}:{b}"]) for b in BASES] for k in INTENSITIES])


@dataclass(frozen=True)
class DecoyKey(Estimator):
    """Decoy-state BB84 key: gains, QBER, single-photon bounds, asymptotic and finite-key rates.

    Sent pulses are N p_k; sifted gain Q_k = sifted_k / (N p_k q) with q = p_Z² + p_X² the basis
    match, E_k = errors_k / sifted_k. Asymptotic rate R·p₁·q_key·[Q₁(1 − h(e₁)) − f Q_μ h(E_μ)]
    (GLLP; MQZL bounds from the pooled bases), q_key = q (both bases form key) or p_Z²; the
    finite-key rate ℓ/T of Lim et al. (2014) with the counters scaled to a block of T =
    ``key_block_s`` seconds (with both key bases, the sum of the two bases' lengths); over a pass,
    the pass is one block (:meth:`pass_totals`).

    Attributes:
        sifted, errors: ``"<intensity>:<basis>"`` -> counter; clicks: intensity -> counter.
        intensities, probabilities, basis_z_probability, key_bases, error_correction_efficiency,
        eps_sec, eps_cor: as :class:`DecoyParams`.
    """

    sifted: Mapping[str, str]
    errors: Mapping[str, str]
    clicks: Mapping[str, str]
    intensities: tuple[float, ...]
    probabilities: tuple[float, ...]
    basis_z_probability: float
    key_bases: str
    error_correction_efficiency: float
    eps_sec: float
    eps_cor: float

    kind: ClassVar[str] = "decoy_key"
    quantities: ClassVar[tuple[Quantity, ...]] = (
        Quantity(
            "sifted_rate_bps",
            "sift_kbps",
            "sifted bits per second in the key bases, all intensities (kbit/s), ± 1σ",
            "sifted key rate (kbit/s)",
            1e-3,
            std="sifted_rate_std_bps",
            y="sifted_rate",
            total="sifted_bits",
        ),
        Quantity(
            "qber_signal",
            "QBER_mu",
            "error rate of sifted signal-state bits, both bases (%)",
            "QBER of signal states (%), 95% CI",
            100.0,
            ci=("qber_signal_ci_low", "qber_signal_ci_high"),
            y="qber",
        ),
        Quantity("y1_lower", "Y1_lo", "decoy lower bound on the single-photon yield", "single-photon yield $Y_1^L$", y="y1"),
        Quantity(
            "e1_upper",
            "e1_hi",
            "decoy upper bound on the single-photon error (%)",
            "single-photon error $e_1^U$ (%)",
            100.0,
            y="e1",
        ),
        Quantity(
            "key_rate_bps",
            "key_kbps",
            "asymptotic GLLP key rate with decoy bounds (kbit/s), ± 1σ across batches",
            "decoy-state BB84 key rate (kbit/s)",
            1e-3,
            std="key_rate_std_bps",
            sem="key_rate_sem_bps",
            y="key_rate",
            total="key_bits",
        ),
        Quantity(
            "finite_key_rate_bps",
            "fk_kbps",
            "finite-key rate (Lim et al. 2014) for a block of sampling.key_block_s seconds (kbit/s)",
            "finite-key rate (kbit/s)",
            1e-3,
            y="finite_key_rate",
        ),
    )

    def limits(self) -> list[tuple[str, str]]:
        """Errors within sifted clicks, sifted clicks within clicks."""
        out = [(self.errors[k], self.sifted[k]) for k in self.sifted]
        for k in self.sifted:
            out.append((self.sifted[k], self.clicks[k.split(":")[0]]))
        return out

    @property
    def _match(self) -> float:
        pz = self.basis_z_probability
        return pz * pz + (1.0 - pz) * (1.0 - pz)

    @property
    def _key_match(self) -> float:
        pz = self.basis_z_probability
        return self._match if self.key_bases == "both" else pz * pz

    def _per_pulse(self, n: np.ndarray, m: np.ndarray, pulses: float) -> dict[str, float]:
        """Asymptotic key per pulse from sifted clicks ``n`` and errors ``m`` (intensity × basis) of ``pulses`` pulses."""
        sent = pulses * np.asarray(self.probabilities) * self._match
        sifted, err = n.sum(axis=1), m.sum(axis=1)
        q = np.divide(sifted, sent, out=np.zeros(3), where=sent > 0)
        eq = np.divide(err, sent, out=np.zeros(3), where=sent > 0)
        out = asymptotic_key_per_pulse(q, eq, self.intensities, self.error_correction_efficiency)
        out["key_per_pulse"] *= self.probabilities[0] * self._key_match
        return out

    def _finite(self, n: np.ndarray, m: np.ndarray) -> float:
        """Finite-key length in bits of one block with sifted clicks ``n`` and errors ``m``."""
        kw = {"f_ec": self.error_correction_efficiency, "eps_sec": self.eps_sec, "eps_cor": self.eps_cor}
        bases = (0, 1) if self.key_bases == "both" else (0,)
        return sum(lim_key_length_bits(n, m, self.intensities, self.probabilities, key=k, **kw)["length_bits"] for k in bases)

    def _tables(self, b: Batches) -> tuple[np.ndarray, np.ndarray]:
        """Per-batch sifted clicks and errors, (batches, intensity, basis)."""
        n = np.stack([np.stack([b.count(self.sifted[f"{k}:{x}"]) for x in BASES], axis=-1) for k in INTENSITIES], axis=1)
        m = np.stack([np.stack([b.count(self.errors[f"{k}:{x}"]) for x in BASES], axis=-1) for k in INTENSITIES], axis=1)
        return n.astype(float), m.astype(float)

    def batch_values(self, b: Batches, pooled: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Per-batch asymptotic key rate and sifted rate (bit/s)."""
        n_b, m_b = self._tables(b)
        pulses_b = b.rows["pulses"].astype(float)
        key_cols = [0, 1] if self.key_bases == "both" else [0]
        sifted_b = n_b[:, :, key_cols].sum(axis=(1, 2))
        per_batch = [self._per_pulse(n_b[i], m_b[i], pulses_b[i])["key_per_pulse"] for i in range(n_b.shape[0])]
        return {"key_rate": b.rate_hz * np.asarray(per_batch), "sifted_rate": b.rate_hz * sifted_b / pulses_b}

    def compute(self, b: Summary, p_success: float) -> dict[str, Any]:
        """Gains, QBER, decoy bounds and key rates of one point."""
        n = np.array([[float(b.total(self.sifted[f"{k}:{x}"])) for x in BASES] for k in INTENSITIES])
        m = np.array([[float(b.total(self.errors[f"{k}:{x}"])) for x in BASES] for k in INTENSITIES])
        pulses = float(b.pulses)
        seconds = b.seconds
        key_cols = [0, 1] if self.key_bases == "both" else [0]
        qber = proportion(int(m[0].sum()), int(n[0].sum()))
        asym = self._per_pulse(n, m, pulses)
        spreads = b.spreads(self)
        key_std, key_sem = spreads["key_rate"]
        block_s = float(b.key_block_s or seconds)
        scale = block_s / seconds
        out: dict[str, Any] = {
            "sifted_rate_bps": float(n[:, key_cols].sum()) / seconds,
            "sifted_rate_std_bps": spreads["sifted_rate"][0],
            "qber_signal": qber[0],
            "qber_signal_ci_low": qber[1],
            "qber_signal_ci_high": qber[2],
            "qber_z": float(m[:, 0].sum() / n[:, 0].sum()) if n[:, 0].sum() else None,
            "qber_x": float(m[:, 1].sum() / n[:, 1].sum()) if n[:, 1].sum() else None,
            "y1_lower": asym["y1_lower"],
            "e1_upper": asym["e1_upper"],
            "key_rate_bps": b.rate_hz * asym["key_per_pulse"],
            "key_rate_std_bps": key_std,
            "key_rate_sem_bps": key_sem,
            "finite_key_rate_bps": self._finite(n * scale, m * scale) / block_s,
            "key_block_s": block_s,
        }
        for k, name in enumerate(INTENSITIES):
            sent = pulses * self.probabilities[k]
            out[f"gain_{name}"] = b.total(self.clicks[name]) / sent
        return out

    def pass_totals(self, steps: Sequence[Step], rate_hz: float) -> dict[str, Any]:
        """Finite-key length with the pass as one block: the steps' counters scaled to their physical
        pulses and pooled; its standard error from the batches as replicates of the pass."""
        batches = max(int(rows.size) for _, rows, _ in steps)
        pooled_n, pooled_m = np.zeros((3, 2)), np.zeros((3, 2))
        rep_n, rep_m = np.zeros((batches, 3, 2)), np.zeros((batches, 3, 2))
        for _, rows, w in steps:
            n_b, m_b = self._tables(Batches(rows, rate_hz))
            scale = w * rate_hz / float(rows["pulses"].sum())
            pooled_n += scale * n_b.sum(axis=0)
            pooled_m += scale * m_b.sum(axis=0)
            rep_n[: rows.size] += scale * rows.size * n_b
            rep_m[: rows.size] += scale * rows.size * m_b
        ell = self._finite(pooled_n, pooled_m)
        reps = [self._finite(rep_n[i], rep_m[i]) for i in range(batches)]
        se = float(np.std(reps, ddof=1) / math.sqrt(len(reps))) if len(reps) > 1 else math.nan
        return {"finite_key_bits": ell, "finite_key_bits_stderr": se}


# ---------------------------------------------------------------------------------- protocol
@dataclass(frozen=True)
class DecoyBB84:
    """Decoy-state BB84 from the platform to ``receiver``, the user of a forwarding station.

    Attributes:
        layout: the network chain (the receiver's station forwards the downlink photon to him).
        receiver: Bob; params: the protocol's parameters.
    """

    layout: NetworkLayout
    receiver: str
    params: DecoyParams = DEFAULTS

    name: ClassVar[str] = "decoy-bb84"
    Params: ClassVar[type[DecoyParams]] = DecoyParams
    reads_participants: ClassVar[bool] = True
    reads_sender: ClassVar[bool] = False
    estimators: ClassVar[tuple[type[Estimator], ...]] = (DecoyKey,)
    carriers_per_use: ClassVar[int] = 1
    pulse_counters: ClassVar[bool] = True

    @classmethod
    def from_scenario(cls, layout: NetworkLayout, spec: ProtocolSpec) -> DecoyBB84:
        """``participants``: the receiving user; ``[protocol.decoy-bb84]``: :class:`DecoyParams`."""
        if len(spec.participants) != 1:
            raise InputError("participants", f"expected the one receiving user, got {list(spec.participants)}")
        return cls(layout, spec.participants[0], params_of(spec, DecoyParams))

    def __post_init__(self) -> None:
        net = next((n for n in self.layout.networks if self.receiver in n.users), None)
        if net is None:
            raise InputError("participants", f"{self.receiver!r} is not a user; users: {list(self.layout.users)}")
        if not net.forward:
            raise InputError(
                "participants",
                f"{self.receiver!r} must be the user of a forwarding station (forward = true), which passes the"
                " platform's photon to him",
            )

    def downlink_photons(self, link_index: int, ground_station: str) -> tuple[str, ...]:
        """No Pauli-noise keys: the pulses are counted by :class:`DecoyPulses`, not by Stim."""
        return ()

    @property
    def carrier_resources(self) -> dict[str, int]:
        """One downlink photon, no GHZ state, no BSM."""
        return {"ghz": 0, "bell": 1, "bsm": 0}

    def compile(self, noise: PauliNoise | None = None, **options: Any) -> CompiledProtocol:
        """Not a Stim protocol: its counters come from :meth:`pulse_sampler`."""
        raise InputError("protocol.name", "decoy-bb84 draws its counters from the pulses (pulse_sampler), not Stim rounds")

    def pulse_sampler(self, plan: PointPlan) -> DecoyPulses:
        """The exact counter sampler of ``plan``'s point: the receiver's downlink, fiber, switch and detector.

        Raises:
            InputError: a coherence time (block fading) on the receiver's link.
        """
        user = next(u for u in plan.users if u.user == self.receiver)
        if user.downlink < 0:
            raise InputError("participants", f"{self.receiver!r} receives no downlink photon")
        if plan.block_pulses:
            raise InputError("links", "decoy-bb84 draws independent pulses: set coherence_time_s = 0")
        dl = plan.downlinks[user.downlink]
        eta = dl.mean_eta * user.fiber_eta * user.switch_eta * user.detector_efficiency
        # the receiver's detector (qrate.channels.devices.Detector): its per_receiver detectors' noise clicks
        return DecoyPulses(eta, user.noise_click_probability, self.params, dl.budget, dl.mean_eta)

    def report(self) -> Report:
        """Counter roles per intensity and basis, and the parameters the formulas need."""
        p = self.params
        key = DecoyKey(
            sifted={f"{k}:{b}": f"sifted:{k}:{b}" for k in INTENSITIES for b in BASES},
            errors={f"{k}:{b}": f"errors:{k}:{b}" for k in INTENSITIES for b in BASES},
            clicks={k: f"clicks:{k}" for k in INTENSITIES},
            intensities=tuple(p.intensities),
            probabilities=tuple(p.probabilities),
            basis_z_probability=p.basis_z_probability,
            key_bases=p.key_bases,
            error_correction_efficiency=p.error_correction_efficiency,
            eps_sec=p.eps_sec,
            eps_cor=p.eps_cor,
        )
        return Report(self.name, "key_rate", self.carriers_per_use, (key,))
