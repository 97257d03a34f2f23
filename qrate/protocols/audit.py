"""Anonymity audit: the public transcript must not depend on who the anonymous sender is.

:func:`anonymity_audit` samples the announcements (every announced bit of one round, in a fixed
order by announcing node) of two compiled variants of a protocol, e.g. sender Alice and sender
Bob, and compares the two distributions of the joint announcement pattern:

* ``p_value`` of a chi-square test of homogeneity (``scipy.stats.chi2_contingency``) on the
  2 × (patterns seen) table: small means the transcript reveals the sender;
* ``tv_distance``: total-variation distance between the two empirical distributions, with
  ``tv_null_mean`` ± ``tv_null_std``, its value under the null hypothesis estimated by random
  re-splits of the pooled samples (the finite-sample bias: an honest protocol gives
  ``tv_distance`` within a few ``tv_null_std`` of ``tv_null_mean``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2_contingency

from qrate.errors import InputError, count_arg
from qrate.protocols.compiled import CompiledProtocol

MAX_ANNOUNCED_BITS = 24
MAX_AUDIT_SHOTS = 10**8
"""Most shots per sender in one audit (two transcripts of this many rows are held in memory)."""


@dataclass(frozen=True)
class AuditResult:
    """Distance between the transcript distributions of two sender choices."""

    shots: int
    announced_bits: int
    tv_distance: float
    tv_null_mean: float
    tv_null_std: float
    chi2: float
    dof: int
    p_value: float


def _patterns(bits: np.ndarray) -> np.ndarray:
    weights = 1 << np.arange(bits.shape[1], dtype=np.int64)
    return bits.astype(np.int64) @ weights


def _tv(a: np.ndarray, b: np.ndarray, size: int) -> float:
    pa = np.bincount(a, minlength=size) / len(a)
    pb = np.bincount(b, minlength=size) / len(b)
    return 0.5 * float(np.abs(pa - pb).sum())


def anonymity_audit(
    a: CompiledProtocol,
    b: CompiledProtocol,
    *,
    shots: int,
    seed: int,
    round_name: str | None = None,
    resplits: int = 20,
) -> AuditResult:
    """Compare the transcripts of ``a`` and ``b`` (same protocol, two anonymous senders).

    Raises:
        InputError: ``shots`` not an integer in [1, MAX_AUDIT_SHOTS] (zero shots compare nothing: an
            error, not NaN), ``resplits`` not in [2, 10000], ``seed`` not in [0, 2**128), or
            transcripts that cannot be compared.
    """
    shots = count_arg("shots", shots, minimum=1, maximum=MAX_AUDIT_SHOTS)
    resplits = count_arg("resplits", resplits, minimum=2, maximum=10_000)
    seed = count_arg("seed", seed, maximum=2**128 - 1)
    round_name = round_name or a.rounds[0].name
    rng = np.random.default_rng(seed)
    sa, sb = (int(x) for x in rng.integers(0, 2**63 - 1, size=2))
    names_a, ta = a.sample_transcripts(round_name, shots, sa)
    names_b, tb = b.sample_transcripts(round_name, shots, sb)
    if names_a != names_b:
        raise InputError("audit", f"the two transcripts announce different bits: {names_a} vs {names_b}")
    if ta.shape[1] > MAX_ANNOUNCED_BITS:
        raise InputError("audit", f"{ta.shape[1]} announced bits; at most {MAX_ANNOUNCED_BITS} supported")
    ka, kb = _patterns(ta), _patterns(tb)
    size = 1 << ta.shape[1]
    tv = _tv(ka, kb, size)
    pooled = np.concatenate([ka, kb])
    null = []
    for _ in range(resplits):
        perm = rng.permutation(pooled)
        null.append(_tv(perm[:shots], perm[shots:], size))
    table = np.stack([np.bincount(ka, minlength=size), np.bincount(kb, minlength=size)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi2, p, dof = 0.0, 1.0, 0
    else:
        res = chi2_contingency(table, correction=False)
        chi2, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    return AuditResult(shots, ta.shape[1], tv, float(np.mean(null)), float(np.std(null, ddof=1)), chi2, dof, p)
