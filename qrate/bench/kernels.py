"""Stages ``transmittance`` and ``heralding``: samples (pulses) per second on one core vs their limits.

* transmittance: the Numba kernels vs the same model in plain numpy/scipy; the limit is the
  generator's raw throughput for the one variate every sample needs (``standard_exponential``).
* heralding: the per-pulse reference path (one Bernoulli per pulse per lossy element; limit: raw
  ``rng.random`` doubles / Bernoulli draws per pulse), the binomial path (independent fading: one
  binomial draw per batch) and the binomial-block path (limit: transmittance samples/s of the
  kernel / downlinks, times pulses per block).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from qrate.bench._plans import LEO, ghz4_plan, preset_plan
from qrate.bench._timing import best_time_s, row
from qrate.channels import FreeSpaceLink, LinkBudget, link_budget, sample_transmittance
from qrate.engine import herald, herald_per_pulse
from qrate.geometry import midpoint_geometry


def numpy_weibull(b: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """Plain numpy, same model: eta = T eta0 exp(-scaleL x), x ~ Weibull(2/lambda)."""
    return b.t_atm * b.eta0 * np.exp(-b.weibull_scale_l * rng.weibull(2.0 / b.weibull_shape, n))


def numpy_exact_table(b: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """Plain numpy, same model and table: vectorised cubic-Hermite lookup of eta(r/W)."""
    assert b.exact_table is not None
    u = (b.sigma_m / b.beam_radius_m) * np.sqrt(2.0 * rng.standard_exponential(n))
    return b.t_atm * b.exact_table(u)


def scipy_exact_ncx2(b: LinkBudget, n: int, rng: np.random.Generator) -> np.ndarray:
    """Plain numpy/scipy, no table: eta = T ncx2.cdf((2a/W)^2, 2, (2r/W)^2)."""
    r = b.sigma_m * np.sqrt(2.0 * rng.standard_exponential(n))
    w, a = b.beam_radius_m, b.link.aperture_radius_m
    return b.t_atm * stats.ncx2.cdf((2 * a / w) ** 2, 2, (2 * r / w) ** 2)


def transmittance(quick: bool) -> list[dict[str, Any]]:
    """Transmittance samples/s/core (LEO far-field link at 450 km, D = 1000 km)."""
    n = 100_000 if quick else 1_000_000
    repeat, min_s = (2, 0.05) if quick else (5, 0.3)
    geo = midpoint_geometry(450.0, 1000.0)
    budgets = {m: link_budget(FreeSpaceLink(5e-6, 5e-7, 3.0, beam="far_field", model=m), geo) for m in ("exact", "weibull")}
    rng = np.random.default_rng(12345)
    cases = {
        "rng.random (raw PCG64 doubles)": (lambda: rng.random(n), n),
        "rng.standard_exponential (ziggurat)": (lambda: rng.standard_exponential(n), n),
        "numba weibull kernel": (lambda: sample_transmittance(budgets["weibull"], n, rng), n),
        "numpy weibull (rng.weibull + exp)": (lambda: numpy_weibull(budgets["weibull"], n, rng), n),
        "numba exact kernel (Hermite table)": (lambda: sample_transmittance(budgets["exact"], n, rng), n),
        "numpy exact (same Hermite table)": (lambda: numpy_exact_table(budgets["exact"], n, rng), n),
        "scipy exact (ncx2.cdf per sample)": (lambda: scipy_exact_ncx2(budgets["exact"], n // 10, rng), n // 10),
    }
    rates = {name: shots / best_time_s(fn, repeat=repeat, min_time_s=min_s) for name, (fn, shots) in cases.items()}
    limit = rates["rng.standard_exponential (ziggurat)"]
    numpy_of = {
        "numba weibull kernel": "numpy weibull (rng.weibull + exp)",
        "numba exact kernel (Hermite table)": "numpy exact (same Hermite table)",
    }
    out = []
    for name, rate in rates.items():
        ref = numpy_of.get(name)
        extra = {"speedup_vs_numpy": rate / rates[ref]} if ref else {}
        out.append(row("transmittance", name, rate, limit, unit="samples/s/core", samples_per_call=cases[name][1], **extra))
    return out


def heralding(quick: bool) -> list[dict[str, Any]]:
    """Heralding pulses/s/core: per-pulse reference, binomial (iid) and binomial-block (1 ms blocks)."""
    repeat = 2 if quick else 5
    rng = np.random.default_rng(7)
    _, plan = preset_plan(LEO, 0.0)
    n_pp = 100_000 if quick else 1_000_000
    raw = n_pp / best_time_s(lambda: rng.random(n_pp), repeat=repeat, min_time_s=0.05)
    forwarded = sum(1 for u in plan.users if u.downlink >= 0)
    to_bsm = sum(1 for d in plan.downlinks if d.to_user is None)
    draws = len(plan.sources) + plan.bsm_count + to_bsm + 3 * len(plan.users) + 2 * forwarded
    t_pp = best_time_s(lambda: herald_per_pulse(plan, n_pp, rng), repeat=repeat, min_time_s=0.05)
    out = [
        row(
            "heralding",
            "per-pulse reference (LEO, D = 0)",
            n_pp / t_pp,
            raw / draws,
            unit="pulses/s/core",
            pulses=n_pp,
            uniform_draws_per_pulse=draws,
            limit="raw rng.random doubles/s / uniform draws per pulse",
        )
    ]
    n_iid = 10**12
    t_iid = best_time_s(lambda: herald(plan, n_iid, rng), repeat=repeat, min_time_s=0.05)
    out.append(
        row(
            "heralding",
            "binomial, independent fading (LEO, D = 0)",
            n_iid / t_iid,
            None,
            unit="pulses/s/core",
            pulses=n_iid,
            note="O(1) in pulses: one binomial draw + a 1024-sample moment estimate",
        )
    )
    _, plan_b = ghz4_plan(70.0, coherence_time_s=1e-3)
    n_b = 10**8 if quick else 10**9
    blocks = n_b // plan_b.block_pulses
    t_b = best_time_s(lambda: herald(plan_b, n_b, rng), repeat=repeat, min_time_s=0.0)
    nk = 10**6
    t_k = best_time_s(lambda: sample_transmittance(plan_b.downlinks[0].budget, nk, rng), repeat=repeat, min_time_s=0.05)
    limit = nk / t_k / len(plan_b.downlinks) * plan_b.block_pulses
    out.append(
        row(
            "heralding",
            "binomial-block, 1 ms blocks (GHZ-4, 70 dB)",
            n_b / t_b,
            limit,
            unit="pulses/s/core",
            pulses=n_b,
            blocks=blocks,
            block_pulses=plan_b.block_pulses,
            limit="transmittance kernel samples/s / downlinks x pulses per block",
        )
    )
    return out
