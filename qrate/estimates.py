"""Counters -> estimates with error bars, driven by the protocol's report stored in the results file.

A protocol declares its *report* (:meth:`qrate.protocols.registry.ProtocolEntry` builds it): a
JSON-able mapping ``{"protocol", "default_y", "carriers_per_use", "estimators": [...]}`` whose
estimators each name a kind below and the counters that play each role. The report is written
into every results file when it is created, so this module turns a file's batch rows into
estimates without importing the engine or the protocols (nor Stim).

Conventions: rates are in bit/s (per second of source operation at ``repetition_rate_hz``);
``*_std_bps`` is the 1σ spread across batches of the per-batch rates (as in Khan et al.'s figures),
``*_sem_bps`` its standard error of the mean; ``*_ci_low/high`` are 95 % Clopper–Pearson
intervals; ``*_stderr`` is a standard error. ``None`` stands for "not applicable / unknown".

Estimator kinds:

* ``conference_key`` (Q-ACKA): Q_X = X-parity failures / X-verification rounds, Q_Z^(1,i) = key
  rounds in which participant i's bit differs from the sender's / key rounds; the asymptotic
  N-BB84 rate R·P·(1 − f_verify)·[1 − h(Q_X) − h(max_i Q_Z^(1,i))] (Grasselli, Kampermann, Bruß,
  NJP 20, 113014 (2018); Hahn, de Jong, Pappa, PRX Quantum 1, 020325 (2020)); a worst-case rate
  with Q_X and max Q_Z at the upper ends of their confidence intervals; the finite-key rate
  (:func:`finite_key_length_bits` for a block of ``key_block_s`` seconds: the simulated key and
  test rounds scaled to the block, divided by the block).
* ``broadcast_bits`` (Q-AB): bits per second, correctly decoded bits per second, bit-error rate.
* ``bell_pair`` (anonymous entanglement): fidelity with |Φ+> from XX/YY/ZZ checks,
  F = 1 − (e_xx + e_yy + e_zz)/2, with its standard error.
* ``teleported_qubit``: average fidelity over the six Pauli eigenstates, with its standard error,
  and the rate of teleported qubits.
* ``notification_session``: per-round detection and false-alarm probabilities q1, q0 and, for S rounds per
  target, P(miss) = (1 − q1)^S and P(false notification) = 1 − (1 − q0)^S.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qrate.finite_key import finite_key_bits
from qrate.stats import COUNTER_PREFIX, total

CONFIDENCE = 0.95
"""Confidence level of every interval."""

Report = Mapping[str, Any]


# ----------------------------------------------------------------------------------- formulas
def binary_entropy(p: float | np.ndarray) -> Any:
    """h(p) = −p log2 p − (1−p) log2(1−p), with h(0) = h(1) = 0."""
    from scipy import special

    p = np.asarray(p, dtype=float)
    out = (special.entr(p) + special.entr(1.0 - p)) / math.log(2.0)
    return float(out) if out.ndim == 0 else out


def proportion(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(k/n, low, high)`` with a Clopper–Pearson interval (``scipy.special.betaincinv``); nan for n = 0."""
    from scipy.special import betaincinv

    k, n = int(k), int(n)
    if n <= 0:
        return math.nan, math.nan, math.nan
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return k / n, low, high


def spread(values: np.ndarray) -> tuple[float, float]:
    """``(sample std (ddof=1), standard error of the mean)`` of per-batch values; nan for < 2 values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan, math.nan
    sd = float(values.std(ddof=1))
    return sd, sd / math.sqrt(values.size)


def secret_fraction(q_x: float | np.ndarray, q_z_max: float | np.ndarray) -> Any:
    """Asymptotic N-BB84 secret fraction r∞ = 1 − h(Q_X) − h(max Q_Z), clipped at 0."""
    return np.maximum(0.0, 1.0 - binary_entropy(q_x) - binary_entropy(q_z_max))


def finite_key_length_bits(
    n_key: int,
    k_test: int,
    q_x: float,
    q_z_max: float,
    n_parties: int,
    *,
    eps_pe: float = 1e-10,
    eps_ec: float = 1e-10,
    eps_pa: float = 1e-10,
    f_ec: float = 1.16,
) -> float:
    """Finite-key secret length of the N-party GHZ (N-BB84) protocol, in bits (≥ 0).

    Bound of Grasselli, Kampermann, Bruß, NJP 20, 113014 (2018), Theorem 1 (see qrate/MODELS.md,
    "Finite-key rate")::

        ℓ = n [1 − h(Q_X + μ)] − n f_EC h(max_i Q_Z^(1,i)) − log2(2 (N−1) / ε_EC) − 2 log2(1 / (2 ε_PA)),
        μ = sqrt((n + k)/(n k) · (k + 1)/k · ln(1/ε_PE)),

    with n key rounds, k test rounds, N parties, ε_PE (parameter estimation), ε_EC (error
    correction, one syndrome broadcast serving all N−1 Bobs), ε_PA (privacy amplification).
    Defaults: ε = 1e-10 each, error-correction efficiency f_EC = 1.16.
    """
    if n_key <= 0 or k_test <= 0 or not (math.isfinite(q_x) and math.isfinite(q_z_max)):
        return 0.0
    n, k = float(n_key), float(k_test)
    mu = math.sqrt((n + k) / (n * k) * (k + 1.0) / k * math.log(1.0 / eps_pe))
    ell = (
        n * (1.0 - binary_entropy(min(q_x + mu, 0.5)))
        - n * f_ec * binary_entropy(q_z_max)
        - math.log2(2.0 * (n_parties - 1) / eps_ec)
        - 2.0 * math.log2(1.0 / (2.0 * eps_pa))
    )
    return max(0.0, ell)


# ------------------------------------------------------------------------------- declarations
@dataclass(frozen=True, slots=True)
class Quantity:
    """One reported estimate: its key, how ``qrate show`` prints it and how ``qrate plot`` draws it.

    Attributes:
        key: key in the estimates dict (rates in bit/s, fractions in [0, 1]).
        column: ``qrate show`` column header; legend: its one-line meaning (column legend).
        label: plot axis label in display units; scale: value -> display units (1e-3: bit/s -> kbit/s).
        fmt: format of the displayed value.
        std, sem: keys of its 1σ spread across batches and standard error of the mean, or None.
        ci: keys of a (low, high) confidence interval, or None.
        y: the ``qrate plot --y`` name, or None if not plottable.
        total: for a rate, the name of its integral over a satellite pass (e.g. ``key_bits``), or None.
    """

    key: str
    column: str
    legend: str
    label: str
    scale: float = 1.0
    fmt: str = ".4g"
    std: str | None = None
    sem: str | None = None
    ci: tuple[str, str] | None = None
    y: str | None = None
    total: str | None = None


@dataclass(frozen=True, slots=True)
class _Batches:
    """One point's batch table with the per-batch views every estimator needs.

    ``rate_hz`` is the source clock; ``uses_per_s`` turns a success probability into protocol uses
    per second (each use takes ``carriers_per_use`` heralded carriers).
    """

    rows: np.ndarray
    rate_hz: float
    carriers_per_use: int = 1

    @property
    def uses_per_s(self) -> float:
        return self.rate_hz / self.carriers_per_use

    def count(self, name: str) -> np.ndarray:
        """Per-batch values of counter ``name`` (zeros if the file has no such counter)."""
        field = COUNTER_PREFIX + name
        if field not in (self.rows.dtype.names or ()):
            return np.zeros(self.rows.size, dtype=np.int64)
        return self.rows[field].astype(np.int64)

    def total(self, name: str) -> int:
        return int(self.count(name).sum())

    @property
    def p_batches(self) -> np.ndarray:
        return self.rows["successes"].astype(float) / self.rows["pulses"].astype(float)


def _ratio(num: np.ndarray, den: np.ndarray, fallback: float) -> np.ndarray:
    """Per-batch ``num/den`` (``fallback`` where a batch has no rounds)."""
    out = np.full(num.shape, fallback, dtype=float)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


# ------------------------------------------------------------------------------ estimator kinds
HERALDING = (
    Quantity(
        "p_success",
        "p_success",
        "heralded successes per pulse",
        "success probability per pulse",
        fmt=".5f",
        sem="p_success_stderr",
        ci=("p_success_ci_low", "p_success_ci_high"),
        y="p_success",
    ),
    Quantity(
        "rate_bps",
        "rate_kbps",
        "heralded rate R·P (kbit/s), ± 1σ across batches",
        "heralded rate $R_{src}\\,P_{success}$ (kbit/s)",
        1e-3,
        std="rate_std_bps",
        sem="rate_sem_bps",
        y="rate",
        total="heralded_pairs",
    ),
)


def _heralding(b: _Batches) -> dict[str, Any]:
    tot = total(b.rows)
    p, p_lo, p_hi = proportion(tot.successes, tot.pulses)
    binom_se = math.sqrt(max(p * (1 - p), 0.0) / tot.pulses)
    _, p_sem = spread(b.p_batches)
    if b.rows.size >= 2 and math.isfinite(p_sem):
        from scipy import stats

        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, b.rows.size - 1)) * p_sem
        p_lo, p_hi = min(p_lo, max(p - half, 0.0)), max(p_hi, min(p + half, 1.0))
    rate_std, rate_sem = spread(b.rate_hz * b.p_batches)
    return {
        "batches": int(b.rows.size),
        "pulses": tot.pulses,
        "successes": tot.successes,
        "p_success": p,
        # never below the binomial floor: few batches can scatter less than chance allows
        "p_success_stderr": max(p_sem, binom_se) if math.isfinite(p_sem) else binom_se,
        "p_success_binomial_stderr": binom_se,
        "p_success_ci_low": p_lo,
        "p_success_ci_high": p_hi,
        "rate_bps": b.rate_hz * p,
        "rate_std_bps": rate_std,
        "rate_sem_bps": rate_sem,
        "mean_eta_free_space": tot.eta_sum / tot.eta_count if tot.eta_count else math.nan,
        "mean_eta_free_space_stderr": _moment_se(tot.eta_count, tot.eta_sum, tot.eta_sumsq),
        "counts": dict(tot.counts),
        "seconds": tot.seconds,
    }


def _moment_se(count: int, s1: float, s2: float) -> float:
    if count < 2:
        return math.nan
    mean = s1 / count
    var = max(s2 / count - mean * mean, 0.0) * count / (count - 1)
    return math.sqrt(var / count)


CONFERENCE_KEY = (
    Quantity(
        "qber_x",
        "Q_X",
        "X-parity error rate from the X-verification rounds",
        "QBER $Q_X$ (%), 95% CI",
        100.0,
        fmt=".5f",
        ci=("qber_x_ci_low", "qber_x_ci_high"),
        y="qber",
    ),
    Quantity(
        "qber_z_max",
        "Q_Z_max",
        "largest pairwise Z error rate in key rounds",
        "QBER max $Q_Z$ (%), 95% CI",
        100.0,
        fmt=".5f",
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


def _conference_key(b: _Batches, spec: Mapping[str, Any], p: float) -> dict[str, Any]:
    key_b, test_b, xerr_b = b.count(spec["key_rounds"]), b.count(spec["test_rounds"]), b.count(spec["x_errors"])
    n_key, k_test = int(key_b.sum()), int(test_b.sum())
    qx, qx_lo, qx_hi = proportion(int(xerr_b.sum()), k_test)
    z_b = {pair: b.count(name) for pair, name in spec["z_errors"].items()}
    qz_ci = {pair: proportion(int(v.sum()), n_key) for pair, v in z_b.items()}
    qz = {pair: ci[0] for pair, ci in qz_ci.items()}
    worst_pair = max(qz_ci, key=lambda pair: qz_ci[pair][0]) if qz_ci else None
    qz_max, qz_lo, _ = qz_ci[worst_pair] if worst_pair is not None else (math.nan,) * 3
    out: dict[str, Any] = {
        "qber_x": qx,
        "qber_x_ci_low": qx_lo,
        "qber_x_ci_high": qx_hi,
        "qber_z": qz,
        "qber_z_max": qz_max,
        "qber_z_max_ci_low": qz_lo,
        "qber_z_max_ci_high": max((ci[2] for ci in qz_ci.values()), default=math.nan),
    }
    keep = 1.0 - float(spec["verification_fraction"])
    rate_use = b.uses_per_s * p
    resolved = math.isfinite(qx) and math.isfinite(qz_max)
    r_inf = float(secret_fraction(qx, qz_max)) if resolved else 0.0
    r_worst = float(secret_fraction(qx_hi, out["qber_z_max_ci_high"])) if resolved else 0.0
    qx_b = _ratio(xerr_b, test_b, qx)
    qz_b = np.max([_ratio(v, key_b, qz[pair]) for pair, v in z_b.items()], axis=0)
    key_std, key_sem = spread(b.uses_per_s * b.p_batches * keep * secret_fraction(qx_b, qz_b))
    # finite key over a physical block of key_block_s seconds: the simulated rounds scaled to the
    # block (the rate no longer depends on how long one simulates)
    seconds = float(b.rows["pulses"].sum()) / b.rate_hz
    block_s = float(spec.get("key_block_s") or seconds)
    ell = finite_key_bits(
        spec, round(n_key * block_s / seconds), round(k_test * block_s / seconds), qx, qz_max, int(spec["parties"])
    )
    out.update(
        secret_fraction=r_inf,
        key_rate_bps=rate_use * keep * r_inf,
        key_rate_f0_bps=rate_use * r_inf,
        key_rate_std_bps=key_std,
        key_rate_sem_bps=key_sem,
        key_rate_worst_bps=rate_use * keep * r_worst,
        finite_key_rate_bps=ell / block_s,
        key_block_s=block_s,
    )
    return out


BROADCAST = (
    Quantity(
        "broadcast_rate_bps",
        "bc_kbps",
        "anonymous broadcast rate (kbit/s), ± 1σ across batches",
        "anonymous broadcast rate (kbit/s)",
        1e-3,
        std="broadcast_rate_std_bps",
        sem="rate_sem_bps",
        y="broadcast_rate",
        total="broadcast_bits",
    ),
    Quantity(
        "broadcast_correct_rate_bps",
        "ok_kbps",
        "correctly decoded broadcast bits (kbit/s), ± 1σ",
        "correct anonymous broadcast rate (kbit/s)",
        1e-3,
        std="broadcast_correct_rate_std_bps",
        y="broadcast_correct_rate",
        total="broadcast_correct_bits",
    ),
    Quantity(
        "broadcast_error_rate",
        "bc_err",
        "broadcast bit-error rate",
        "broadcast bit-error rate (%), 95% CI",
        100.0,
        fmt=".5f",
        ci=("broadcast_error_rate_ci_low", "broadcast_error_rate_ci_high"),
        y="qber",
    ),
)


def _broadcast(b: _Batches, spec: Mapping[str, Any], p: float) -> dict[str, Any]:
    rounds_b, err_b = b.count(spec["rounds"]), b.count(spec["errors"])
    q, q_lo, q_hi = proportion(int(err_b.sum()), int(rounds_b.sum()))
    q = q if math.isfinite(q) else 0.0
    per_use = b.uses_per_s
    q_b = _ratio(err_b, rounds_b, q)
    return {
        "broadcast_rate_bps": per_use * p,
        "broadcast_rate_std_bps": spread(per_use * b.p_batches)[0],
        "broadcast_correct_rate_bps": per_use * p * (1.0 - q),
        "broadcast_correct_rate_std_bps": spread(per_use * b.p_batches * (1.0 - q_b))[0],
        "broadcast_error_rate": q,
        "broadcast_error_rate_ci_low": q_lo,
        "broadcast_error_rate_ci_high": q_hi,
    }


def _fidelity(b: _Batches, rounds: Mapping[str, str], errors: Mapping[str, str], weight: float) -> tuple[float, float]:
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


BELL_PAIR = (
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


def _bell_pair(b: _Batches, spec: Mapping[str, Any], p: float) -> dict[str, Any]:
    f, se = _fidelity(b, spec["rounds"], spec["errors"], 0.5)
    per_use = b.uses_per_s
    return {
        "pair_rate_bps": per_use * p,
        "pair_rate_std_bps": spread(per_use * b.p_batches)[0],
        "bell_fidelity": f,
        "bell_fidelity_stderr": se,
    }


TELEPORTATION = (
    Quantity(
        "teleport_rate_bps",
        "qubit_kps",
        "teleported qubits per second (k/s), ± 1σ across batches",
        "anonymous teleportation rate (kqubit/s)",
        1e-3,
        std="teleport_rate_std_bps",
        y="teleport_rate",
        total="teleported_qubits",
    ),
    Quantity(
        "teleport_fidelity",
        "fidelity",
        "average fidelity over the six Pauli eigenstates",
        "teleportation fidelity",
        1.0,
        fmt=".5f",
        sem="teleport_fidelity_stderr",
        y="fidelity",
    ),
    Quantity("teleport_fidelity_stderr", "±se", "standard error of the fidelity", "", fmt=".1e"),
)


def _teleportation(b: _Batches, spec: Mapping[str, Any], p: float) -> dict[str, Any]:
    rounds = spec["rounds"]
    f, se = _fidelity(b, rounds, spec["errors"], 1.0 / len(rounds))
    per_use = b.uses_per_s
    return {
        "teleport_rate_bps": per_use * p,
        "teleport_rate_std_bps": spread(per_use * b.p_batches)[0],
        "teleport_fidelity": f,
        "teleport_fidelity_stderr": se,
    }


NOTIFICATION = (
    Quantity(
        "session_rate_hz",
        "sess_per_s",
        "notification sessions per second, ± 1σ across batches",
        "notification sessions per second",
        1.0,
        std="session_rate_std_hz",
        y="session_rate",
        total="sessions",
    ),
    Quantity(
        "p_miss",
        "P_miss",
        "probability that a receiver is not notified in one session",
        "P(receiver missed)",
        1.0,
        fmt=".3e",
        ci=("p_miss_ci_low", "p_miss_ci_high"),
        y="p_miss",
    ),
    Quantity(
        "p_false",
        "P_false",
        "probability of a false notification of a non-receiver in one session",
        "P(false notification)",
        1.0,
        fmt=".3e",
        ci=("p_false_ci_low", "p_false_ci_high"),
        y="p_false",
    ),
)


def _notification(b: _Batches, spec: Mapping[str, Any], p: float) -> dict[str, Any]:
    s = int(spec["repetitions"])
    q1 = proportion(b.total(spec["receiver_ones"]), b.total(spec["receiver_rounds"]))
    q0 = proportion(b.total(spec["other_ones"]), b.total(spec["other_rounds"]))
    per_session = b.rate_hz / float(spec["rounds_per_session"])
    return {
        "session_rate_hz": per_session * p,
        "session_rate_std_hz": spread(per_session * b.p_batches)[0],
        # (1 − q1)^S decreases in q1, so the interval's ends swap
        "p_miss": (1 - q1[0]) ** s,
        "p_miss_ci_low": (1 - q1[2]) ** s,
        "p_miss_ci_high": (1 - q1[1]) ** s,
        "p_false": 1 - (1 - q0[0]) ** s,
        "p_false_ci_low": 1 - (1 - q0[1]) ** s,
        "p_false_ci_high": 1 - (1 - q0[2]) ** s,
    }


@dataclass(frozen=True, slots=True)
class EstimatorKind:
    """One kind of estimator: what it reports and how it computes it from the batch rows.

    ``limits`` lists consistency rules ``(counter role, role it cannot exceed)`` that hold for every
    batch; ``compute(batches, spec, p_success)`` returns the estimates.
    """

    quantities: tuple[Quantity, ...]
    compute: Callable[[_Batches, Mapping[str, Any], float], dict[str, Any]]
    limits: Callable[[Mapping[str, Any]], list[tuple[str, str]]]


def _pairs(spec: Mapping[str, Any], part: str, whole: str) -> list[tuple[str, str]]:
    return [(spec[part][k], spec[whole][k]) for k in spec[whole]]


KINDS: dict[str, EstimatorKind] = {
    "conference_key": EstimatorKind(
        CONFERENCE_KEY,
        _conference_key,
        lambda s: [(s["x_errors"], s["test_rounds"]), *((z, s["key_rounds"]) for z in s["z_errors"].values())],
    ),
    "broadcast_bits": EstimatorKind(BROADCAST, _broadcast, lambda s: [(s["errors"], s["rounds"])]),
    "bell_pair": EstimatorKind(BELL_PAIR, _bell_pair, lambda s: _pairs(s, "errors", "rounds")),
    "teleported_qubit": EstimatorKind(TELEPORTATION, _teleportation, lambda s: _pairs(s, "errors", "rounds")),
    "notification_session": EstimatorKind(
        NOTIFICATION,
        _notification,
        lambda s: [(s["receiver_ones"], s["receiver_rounds"]), (s["other_ones"], s["other_rounds"])],
    ),
}
"""Estimator kinds by the name a report gives them."""


# --------------------------------------------------------------------------------- public API
def _kinds(report: Report) -> list[tuple[EstimatorKind, Mapping[str, Any]]]:
    out = []
    for spec in report.get("estimators", ()):
        kind = KINDS.get(spec.get("kind"))
        if kind is None:
            raise ValueError(f"unknown estimator kind {spec.get('kind')!r}; known: {', '.join(KINDS)}")
        out.append((kind, spec))
    return out


def quantities(report: Report) -> tuple[Quantity, ...]:
    """Every quantity a point of this report has: heralding first, then the protocol's."""
    return HERALDING + tuple(q for kind, _ in _kinds(report) for q in kind.quantities)


def quantity(report: Report, y: str) -> Quantity:
    """The quantity plotted as ``--y y`` (ValueError naming the choices if there is none)."""
    for q in quantities(report):
        if q.y == y:
            return q
    have = [q.y for q in quantities(report) if q.y]
    raise ValueError(f"{y} is not reported for protocol {report.get('protocol')!r}; choose one of {', '.join(have)}")


def inconsistency(report: Report, rows: np.ndarray) -> str | None:
    """A one-line description of the first batch whose counters contradict the report's roles, or None."""
    b = _Batches(rows, 1.0)
    for kind, spec in _kinds(report):
        for part, whole in kind.limits(spec):
            bad = np.flatnonzero(b.count(part) > b.count(whole))
            if bad.size:
                i = int(rows["batch_index"][bad[0]])
                return f"batch {i} counts more {part!r} than {whole!r}"
    return None


def estimate_point(rows: np.ndarray, report: Report, *, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Estimates of one point (JSON-able; ``None`` where not applicable) from its batch rows.

    Args:
        rows: the point's batch table (:func:`qrate.stats.batch_dtype`), at least one row.
        report: the protocol's report (module docstring); its ``repetition_rate_hz`` sets the rates.
        extra: values copied into the result first (the point's axes, e.g. ``ground_distance_km``).
    """
    if rows.size == 0:
        raise ValueError("no batches")
    b = _Batches(rows, float(report["repetition_rate_hz"]), int(report.get("carriers_per_use", 1)))
    out: dict[str, Any] = {"protocol": report.get("protocol"), **(dict(extra) if extra else {}), **_heralding(b)}
    for kind, spec in _kinds(report):
        out.update(kind.compute(b, {"key_block_s": report.get("key_block_s"), **spec}, out["p_success"]))
    return {k: _jsonable(v) for k, v in out.items()}


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    return v


def show_quantities(report: Report) -> Sequence[Quantity]:
    """Quantities printed by ``qrate show`` after the heralding columns (those with a column)."""
    return tuple(q for kind, _ in _kinds(report) for q in kind.quantities)


# ----------------------------------------------------------------------------- satellite passes
def pass_totals(steps: Sequence[tuple[Mapping[str, Any], np.ndarray, float]], report: Report) -> dict[str, Any]:
    """Totals of one satellite pass from its steps: ``(estimates, batch rows, weight_s)`` each.

    Every rate with a ``total`` name is integrated over the pass, Σ rate × weight_s, with the
    standard error √Σ (se × weight_s)² from each step's standard error (its batch spread over
    √batches). A conference key also gets the finite-key length with the pass as the block: the
    counters of every step scaled to its physical pulses (weight_s × R over the simulated pulses)
    and pooled, with Q_X and max Q_Z from the pooled counts; its standard error comes from the
    batches as independent replicates of the pass (batch b of every step, scaled by the number of
    batches).
    """
    out: dict[str, Any] = {"duration_s": float(sum(w for _, _, w in steps)), "steps": len(steps)}
    for q in quantities(report):
        if q.total is None:
            continue
        values = [(e.get(q.key), _step_se(e, q), w) for e, _, w in steps]
        if any(v is None for v, _, _ in values):
            out[q.total], out[q.total + "_stderr"] = None, None
            continue
        out[q.total] = math.fsum(float(v) * w for v, _, w in values if v is not None)
        out[q.total + "_stderr"] = math.sqrt(sum((se * w) ** 2 for _, se, w in values))
    for kind, spec in _kinds(report):
        if kind.compute is _conference_key:
            out.update(_pass_finite_key(steps, spec, float(report["repetition_rate_hz"])))
    return out


def _step_se(est: Mapping[str, Any], q: Quantity) -> float:
    se = est.get(q.sem) if q.sem else None
    if se is None and q.std is not None and est.get(q.std) is not None:
        se = est[q.std] / math.sqrt(est["batches"])
    return float(se) if se is not None else 0.0


def _pass_finite_key(
    steps: Sequence[tuple[Mapping[str, Any], np.ndarray, float]], spec: Mapping[str, Any], rate_hz: float
) -> dict[str, Any]:
    names = {"n": spec["key_rounds"], "k": spec["test_rounds"], "x": spec["x_errors"], **spec["z_errors"]}
    pooled = dict.fromkeys(names, 0.0)
    batches = max(int(rows.size) for _, rows, _ in steps)
    replicas = np.zeros((batches, len(names)))
    for _, rows, w in steps:
        b = _Batches(rows, rate_hz)
        scale = w * rate_hz / float(rows["pulses"].sum())
        for j, (role, counter) in enumerate(names.items()):
            c = b.count(counter)
            pooled[role] += scale * float(c.sum())
            replicas[: c.size, j] += scale * rows.size * c
    parties = int(spec["parties"])

    def length(v: Mapping[str, float]) -> float:
        n, k = round(v["n"]), round(v["k"])
        if n <= 0 or k <= 0:
            return 0.0
        qz = max((v[p] / v["n"] for p in spec["z_errors"]), default=0.0)
        return finite_key_bits(spec, n, k, v["x"] / v["k"], qz, parties)

    ell = length(pooled)
    reps = [length(dict(zip(names, r, strict=True))) for r in replicas]
    se = float(np.std(reps, ddof=1) / math.sqrt(len(reps))) if len(reps) > 1 else math.nan
    return {"finite_key_bits": ell, "finite_key_bits_stderr": se, "key_rounds": pooled["n"]}
