"""Shared statistics of the estimators: intervals, spreads, entropies, the finite-key bound, pass integrals.

Nothing here knows a protocol: the estimators of each protocol module (:mod:`qrate.protocols`)
call these functions on their counters. Conventions: probabilities in [0, 1]; intervals are
two-sided at :data:`CONFIDENCE`; ``nan`` stands for "unknown" (no rounds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

CONFIDENCE = 0.95
"""Confidence level of every interval."""


def binary_entropy(p: float | np.ndarray) -> Any:
    """h(p) = −p log2 p − (1−p) log2(1−p), with h(0) = h(1) = 0."""
    from scipy import special

    p = np.asarray(p, dtype=float)
    out = (special.entr(p) + special.entr(1.0 - p)) / math.log(2.0)
    return float(out) if out.ndim == 0 else out


def error_entropy(q: float | np.ndarray) -> Any:
    """Entropy charged for an error rate q: h(min(q, 1/2)).

    h is not monotone above 1/2; an error rate at or above 1/2 leaves no secrecy (h = 1), and the
    charge is non-decreasing in q, so the upper end of an interval is its worst case.
    """
    q = np.asarray(q, dtype=float)
    return binary_entropy(np.minimum(q, 0.5))


def count_value(v: float) -> float:
    """A count as an int, or as a float when it is an expected (non-integer) count
    (:mod:`qrate.require.expected`)."""
    f = float(v)
    return int(f) if f.is_integer() else f


def proportion(k: float, n: float, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(k/n, low, high)`` with a Clopper–Pearson interval (``scipy.special.betaincinv``); nan for n = 0.

    ``k`` and ``n`` may be expected (real) counts: the interval is then the incomplete beta
    function's at those real arguments.
    """
    from scipy.special import betaincinv

    k, n = count_value(k), count_value(n)
    if n <= 0:
        return math.nan, math.nan, math.nan
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return k / n, low, high


def poisson_upper(k: int, confidence: float = CONFIDENCE) -> float:
    """Upper end of the two-sided Garwood interval of a Poisson mean after observing ``k`` events
    (k = 0: −ln(α/2) ≈ 3.69 at 95 %)."""
    from scipy.stats import chi2

    return float(chi2.ppf(1.0 - (1.0 - confidence) / 2, 2 * (int(k) + 1))) / 2.0


def spread(values: np.ndarray) -> tuple[float, float]:
    """``(sample std (ddof=1), standard error of the mean)`` of per-batch values; nan for < 2 values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan, math.nan
    sd = float(values.std(ddof=1))
    return sd, sd / math.sqrt(values.size)


class RunningSpread:
    """Running :func:`spread` of finite per-batch values in O(1) time and memory per value.

    Welford's update of the mean and the sum of squared deviations (Welford, Technometrics 4,
    419 (1962)), with West's weighted form for a value seen ``weight`` times (West, CACM 22, 532
    (1979)); non-finite values are skipped, as :func:`spread` drops them.
    """

    __slots__ = ("m2", "mean", "n")

    def __init__(self, n: int = 0, mean: float = 0.0, m2: float = 0.0) -> None:
        self.n, self.mean, self.m2 = n, mean, m2

    def add(self, x: float, weight: int = 1) -> None:
        """Add value ``x`` (``weight`` times; skipped unless finite)."""
        if not math.isfinite(x):
            return
        self.n += weight
        delta = x - self.mean
        self.mean += delta * weight / self.n
        self.m2 += weight * delta * (x - self.mean)

    def merge(self, values: np.ndarray, weights: np.ndarray) -> None:
        """Add each finite ``values[i]`` ``weights[i]`` times at once (Chan, Golub, LeVeque's pairwise
        combination, Am. Stat. 37, 242 (1983))."""
        x, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
        ok = np.isfinite(x)
        x, w = x[ok], w[ok]
        n_b = int(w.sum())
        if n_b == 0:
            return
        mean_b = float(np.dot(w, x)) / n_b
        m2_b = float(np.dot(w, (x - mean_b) ** 2))
        n = self.n + n_b
        delta = mean_b - self.mean
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.mean += delta * n_b / n
        self.n = n

    def copy(self) -> RunningSpread:
        """An independent copy."""
        return RunningSpread(self.n, self.mean, self.m2)

    def spread(self) -> tuple[float, float]:
        """``(sample std (ddof=1), standard error of the mean)``, as :func:`spread`; nan for < 2 values."""
        if self.n < 2:
            return math.nan, math.nan
        sd = math.sqrt(max(self.m2, 0.0) / (self.n - 1))
        return sd, sd / math.sqrt(self.n)


def ratio(num: np.ndarray, den: np.ndarray, fallback: float) -> np.ndarray:
    """Per-batch ``num/den`` (``fallback`` where a batch has no rounds)."""
    out = np.full(np.shape(num), fallback, dtype=float)
    ok = np.asarray(den) > 0
    out[ok] = np.asarray(num)[ok] / np.asarray(den)[ok]
    return out


def moment_se(count: int, s1: float, s2: float) -> float:
    """Standard error of a mean from ``count`` samples with sum ``s1`` and sum of squares ``s2``."""
    if count < 2:
        return math.nan
    mean = s1 / count
    var = max(s2 / count - mean * mean, 0.0) * count / (count - 1)
    return math.sqrt(var / count)


def secret_fraction(q_x: float | np.ndarray, q_z_max: float | np.ndarray) -> Any:
    """Asymptotic N-BB84 secret fraction r∞ = 1 − h(Q_X) − h(max Q_Z), clipped at 0.

    An error rate at or above 1/2 gives 0 (:func:`error_entropy`), never a key from noise.
    """
    return np.maximum(0.0, 1.0 - error_entropy(q_x) - error_entropy(q_z_max))


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
    Defaults: ε = 1e-10 each, error-correction efficiency f_EC = 1.16. Error rates at or above 1/2
    are charged h = 1 (:func:`error_entropy`).
    """
    if n_key <= 0 or k_test <= 0 or not (math.isfinite(q_x) and math.isfinite(q_z_max)):
        return 0.0
    n, k = float(n_key), float(k_test)
    mu = math.sqrt((n + k) / (n * k) * (k + 1.0) / k * math.log(1.0 / eps_pe))
    ell = (
        n * (1.0 - error_entropy(q_x + mu))
        - n * f_ec * error_entropy(q_z_max)
        - math.log2(2.0 * (n_parties - 1) / eps_ec)
        - 2.0 * math.log2(1.0 / (2.0 * eps_pa))
    )
    return max(0.0, float(ell))


# ----------------------------------------------------------------------------- satellite passes
Step = tuple[Mapping[str, Any], np.ndarray, float]
"""One step of a pass: ``(estimates, batch rows, weight_s)``."""


def step_stderr(est: Mapping[str, Any], sem: str | None, std: str | None) -> float:
    """A step's standard error of an estimate: its ``sem``, else its batch spread ``std`` over √batches, else 0."""
    se = est.get(sem) if sem else None
    if se is None and std is not None and est.get(std) is not None:
        se = est[std] / math.sqrt(est["batches"])
    return float(se) if se is not None else 0.0


def integrate(values: Sequence[tuple[float | None, float, float]]) -> tuple[float | None, float | None]:
    """``(Σ rate × weight_s, √Σ (se × weight_s)²)`` over ``(rate, se, weight_s)`` steps; None if a rate is unknown."""
    if any(v is None for v, _, _ in values):
        return None, None
    total = math.fsum(float(v) * w for v, _, w in values if v is not None)
    return total, math.sqrt(sum((se * w) ** 2 for _, se, w in values))
