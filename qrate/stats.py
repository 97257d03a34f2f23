"""Sufficient statistics per batch (additive) and the estimates derived from them.

A batch returns :class:`BatchStats`: pulses, heralded successes, protocol counters, and the
moments of the sampled joint free-space transmittance. Batches add exactly (``a + b``), so runs and
files combine without loss. Estimates (:func:`estimate_point`) come from a table of batch rows:

* proportions (success probability, QBERs) with Clopper-Pearson intervals from
  ``scipy.stats.binomtest(...).proportion_ci``;
* every rate with a 1σ error bar = the sample standard deviation across batches of the batch
  rates (as in Khan et al.'s figures, PHYSICS.md §5.5), and the standard error of the mean
  (that standard deviation / sqrt(number of batches));
* the asymptotic anonymous conference-key rate R_src·P·(1 − f_verify)·[1 − h(Q_X) − max_i h(Q_Z^(1,i))]
  (Grasselli, Kampermann, Bruß, NJP 20, 113014 (2018); Hahn, de Jong, Pappa, PRX Quantum 1, 020325 (2020));
* a finite-key rate, :func:`finite_key_length_bits`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

#: fields of a batch row before the protocol counters (which follow, prefixed ``COUNTER_PREFIX``)
BASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("batch_index", "<i8"),
    ("pulses", "<i8"),
    ("successes", "<i8"),
    ("eta_count", "<i8"),
    ("eta_sum", "<f8"),
    ("eta_sumsq", "<f8"),
    ("seconds", "<f8"),
)
COUNTER_PREFIX = "c_"
CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class BatchStats:
    """Sufficient statistics of one batch (or of a sum of batches).

    Attributes:
        pulses: source ticks simulated.
        successes: heralded ticks (every photon detected, every BSM succeeded).
        eta_count, eta_sum, eta_sumsq: number, sum and sum of squares of the joint free-space
            transmittance draws of the batch (per coherence block, or a diagnostic sample).
        seconds: wall time spent.
        counts: protocol counters of the Stim circuit run on the successes.
    """

    pulses: int
    successes: int
    eta_count: int = 0
    eta_sum: float = 0.0
    eta_sumsq: float = 0.0
    seconds: float = 0.0
    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.pulses:
            raise ValueError(f"need 0 <= successes <= pulses, got successes={self.successes}, pulses={self.pulses}")

    def __add__(self, other: BatchStats) -> BatchStats:
        if set(self.counts) != set(other.counts) and self.counts and other.counts:
            raise ValueError(f"cannot add stats with different counters: {sorted(self.counts)} vs {sorted(other.counts)}")
        names = list(self.counts) or list(other.counts)
        return BatchStats(
            pulses=self.pulses + other.pulses,
            successes=self.successes + other.successes,
            eta_count=self.eta_count + other.eta_count,
            eta_sum=self.eta_sum + other.eta_sum,
            eta_sumsq=self.eta_sumsq + other.eta_sumsq,
            seconds=self.seconds + other.seconds,
            counts={k: int(self.counts.get(k, 0)) + int(other.counts.get(k, 0)) for k in names},
        )


def batch_dtype(counter_names: Sequence[str]) -> np.dtype:
    """Structured dtype of one batch row with the given protocol counters."""
    return np.dtype([*BASE_FIELDS, *((COUNTER_PREFIX + n, "<i8") for n in counter_names)])


def to_row(stats_: BatchStats, batch_index: int, counter_names: Sequence[str]) -> np.ndarray:
    """One batch as a structured row (shape ``(1,)``)."""
    row = np.zeros(1, dtype=batch_dtype(counter_names))
    row["batch_index"] = batch_index
    for name in ("pulses", "successes", "eta_count", "eta_sum", "eta_sumsq", "seconds"):
        row[name] = getattr(stats_, name)
    for n in counter_names:
        row[COUNTER_PREFIX + n] = stats_.counts.get(n, 0)
    return row


def counter_names_of(rows: np.ndarray) -> tuple[str, ...]:
    """Protocol counter names stored in a batch table."""
    return tuple(n[len(COUNTER_PREFIX) :] for n in rows.dtype.names or () if n.startswith(COUNTER_PREFIX))


def total(rows: np.ndarray) -> BatchStats:
    """Sum of a batch table."""
    names = counter_names_of(rows)
    return BatchStats(
        pulses=int(rows["pulses"].sum()),
        successes=int(rows["successes"].sum()),
        eta_count=int(rows["eta_count"].sum()),
        eta_sum=float(rows["eta_sum"].sum()),
        eta_sumsq=float(rows["eta_sumsq"].sum()),
        seconds=float(rows["seconds"].sum()),
        counts={n: int(rows[COUNTER_PREFIX + n].sum()) for n in names},
    )


# ----------------------------------------------------------------------------- small helpers
def binary_entropy(p: float | np.ndarray) -> Any:
    """h(p) = −p log2 p − (1−p) log2(1−p), with h(0) = h(1) = 0."""
    p = np.asarray(p, dtype=float)
    out = (special.entr(p) + special.entr(1.0 - p)) / math.log(2.0)
    return float(out) if out.ndim == 0 else out


def proportion(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(k/n, low, high)`` with a Clopper-Pearson interval; nan when ``n == 0``."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return k / n, float(ci.low), float(ci.high)


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

    Bound (structure of Grasselli, Kampermann, Bruß, NJP 20, 113014 (2018), Theorem 1, as
    summarised in PHYSICS.md §5.1; constants not re-derived here)::

        ℓ = n [1 − h(Q_X + μ)] − n f_EC h(max_i Q_Z^(1,i)) − log2(2 (N−1) / ε_EC) − 2 log2(1 / (2 ε_PA)),
        μ = sqrt((n + k)/(n k) · (k + 1)/k · ln(1/ε_PE)),

    with n key rounds, k test rounds, N parties, ε_PE (parameter estimation), ε_EC (error
    correction, one syndrome broadcast serving all N−1 Bobs), ε_PA (privacy amplification); the
    protocol is then (ε_PE + ε_EC + ε_PA)-secure up to the constants of the theorem. Defaults:
    ε = 1e-10 each, error-correction efficiency f_EC = 1.16.
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


# --------------------------------------------------------------------------------- estimates
@dataclass(frozen=True, slots=True)
class CounterRoles:
    """Which protocol counters mean what (names as the compiled protocol reports them).

    ``z_errors`` maps a participant-pair label (``"Alice-Bob"``) to its Z-error counter; its
    denominator is ``key_rounds``. ``x_errors`` counts X-parity failures over ``test_rounds``;
    ``broadcast_errors`` counts wrong announced bits over ``broadcast_rounds``.
    """

    key_rounds: str | None = None
    test_rounds: str | None = None
    x_errors: str | None = None
    z_errors: Mapping[str, str] = field(default_factory=dict)
    broadcast_rounds: str | None = None
    broadcast_errors: str | None = None


def _c(rows: np.ndarray, name: str | None) -> np.ndarray | None:
    if name is None or COUNTER_PREFIX + name not in (rows.dtype.names or ()):
        return None
    return rows[COUNTER_PREFIX + name].astype(np.int64)


def _ratio(num: np.ndarray, den: np.ndarray, fallback: float) -> np.ndarray:
    out = np.full(num.shape, fallback, dtype=float)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def estimate_point(
    rows: np.ndarray,
    *,
    protocol: str,
    repetition_rate_hz: float,
    verification_fraction: float,
    roles: CounterRoles,
    n_parties: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimates (JSON-able dict; ``None`` where not applicable) from one point's batch rows.

    Rates are in bit/s; ``*_std_bps`` is the 1σ spread across batches, ``*_sem_bps`` the
    standard error of the mean. ``p_success_stderr`` is the standard error of the mean across
    batches (the binomial one, also given as ``p_success_binomial_stderr``, for a single batch).
    ``*_ci_low/high`` are 95 % Clopper-Pearson intervals; for ``p_success`` the interval is
    widened to the Student-t interval of the batch means where that is wider (successes are
    overdispersed when fading is correlated over coherence blocks). Per-batch key rates use per-batch QBERs
    (pooled ones for a batch without rounds). See the module docstring for the formulas.
    """
    if rows.size == 0:
        raise ValueError("no batches")
    tot = total(rows)
    rate = float(repetition_rate_hz)
    pulses_b = rows["pulses"].astype(float)
    succ_b = rows["successes"].astype(float)
    p_b = succ_b / pulses_b
    p, p_lo, p_hi = proportion(tot.successes, tot.pulses)
    binom_se = math.sqrt(max(p * (1 - p), 0.0) / tot.pulses)
    _, p_sem = spread(p_b)
    if rows.size >= 2 and math.isfinite(p_sem):
        half = float(stats.t.ppf(0.975, rows.size - 1)) * p_sem
        p_lo, p_hi = min(p_lo, max(p - half, 0.0)), max(p_hi, min(p + half, 1.0))
    rate_std, rate_sem = spread(rate * p_b)
    out: dict[str, Any] = {
        "protocol": protocol,
        **(dict(extra) if extra else {}),
        "batches": int(rows.size),
        "pulses": tot.pulses,
        "successes": tot.successes,
        "p_success": p,
        "p_success_stderr": p_sem if math.isfinite(p_sem) else binom_se,
        "p_success_binomial_stderr": binom_se,
        "p_success_ci_low": p_lo,
        "p_success_ci_high": p_hi,
        "rate_bps": rate * p,
        "rate_std_bps": rate_std,
        "rate_sem_bps": rate_sem,
        "mean_eta_free_space": tot.eta_sum / tot.eta_count if tot.eta_count else math.nan,
        "mean_eta_free_space_stderr": _moment_se(tot),
        "counts": dict(tot.counts),
        "seconds": tot.seconds,
    }
    for key in ("qber_x", "qber_x_ci_low", "qber_x_ci_high", "qber_z", "qber_z_max", "secret_fraction", "key_rate_bps",
                "key_rate_std_bps", "key_rate_sem_bps", "key_rate_f0_bps", "finite_key_rate_bps", "broadcast_rate_bps",
                "broadcast_rate_std_bps", "broadcast_correct_rate_bps", "broadcast_correct_rate_std_bps",
                "broadcast_error_rate", "broadcast_error_rate_ci_low", "broadcast_error_rate_ci_high"):
        out[key] = None

    key_b, test_b, xerr_b = _c(rows, roles.key_rounds), _c(rows, roles.test_rounds), _c(rows, roles.x_errors)
    if test_b is not None and xerr_b is not None:
        qx, qx_lo, qx_hi = proportion(int(xerr_b.sum()), int(test_b.sum()))
        out.update(qber_x=qx, qber_x_ci_low=qx_lo, qber_x_ci_high=qx_hi)
    if key_b is not None and roles.z_errors:
        qz = {pair: proportion(int(_c(rows, name).sum()), int(key_b.sum()))[0]  # type: ignore[union-attr]
              for pair, name in roles.z_errors.items()}
        out["qber_z"] = qz
        out["qber_z_max"] = max(qz.values())
    if protocol == "acka" and out["qber_x"] is not None and out["qber_z_max"] is not None:
        qx, qz_max = float(out["qber_x"]), float(out["qber_z_max"])
        r_inf = float(secret_fraction(qx, qz_max)) if math.isfinite(qx) and math.isfinite(qz_max) else 0.0
        keep = 1.0 - verification_fraction
        out["secret_fraction"] = r_inf
        out["key_rate_bps"] = rate * p * keep * r_inf
        out["key_rate_f0_bps"] = rate * p * r_inf
        # per-batch key rates with per-batch QBERs (pooled value where a batch has no rounds)
        qx_b = _ratio(xerr_b, test_b, qx)  # type: ignore[arg-type]
        qz_b = np.max(
            [_ratio(_c(rows, name), key_b, out["qber_z"][pair]) for pair, name in roles.z_errors.items()],  # type: ignore[arg-type]
            axis=0,
        )
        key_std, key_sem = spread(rate * p_b * keep * secret_fraction(qx_b, qz_b))
        out["key_rate_std_bps"], out["key_rate_sem_bps"] = key_std, key_sem
        n_key, k_test = int(key_b.sum()), int(test_b.sum())  # type: ignore[union-attr]
        ell = finite_key_length_bits(n_key, k_test, qx, qz_max, n_parties)
        out["finite_key_rate_bps"] = ell / (tot.pulses / rate)
    b_rounds, b_err = _c(rows, roles.broadcast_rounds), _c(rows, roles.broadcast_errors)
    if protocol == "broadcast" and b_rounds is not None and b_err is not None:
        q, q_lo, q_hi = proportion(int(b_err.sum()), int(b_rounds.sum()))
        q = q if math.isfinite(q) else 0.0
        out["broadcast_rate_bps"] = rate * p
        out["broadcast_rate_std_bps"] = rate_std
        out["broadcast_correct_rate_bps"] = rate * p * (1.0 - q)
        q_b = _ratio(b_err, b_rounds, q)
        out["broadcast_correct_rate_std_bps"] = spread(rate * p_b * (1.0 - q_b))[0]
        out.update(broadcast_error_rate=q, broadcast_error_rate_ci_low=q_lo, broadcast_error_rate_ci_high=q_hi)
    return {k: _jsonable(v) for k, v in out.items()}


def _moment_se(tot: BatchStats) -> float:
    if tot.eta_count < 2:
        return math.nan
    mean = tot.eta_sum / tot.eta_count
    var = max(tot.eta_sumsq / tot.eta_count - mean * mean, 0.0) * tot.eta_count / (tot.eta_count - 1)
    return math.sqrt(var / tot.eta_count)


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    return v


def sum_stats(items: Iterable[BatchStats]) -> BatchStats:
    """Sum of batch statistics (zero element: no pulses)."""
    acc = BatchStats(0, 0)
    for item in items:
        acc = acc + item
    return acc
