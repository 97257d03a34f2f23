"""Numba kernels of the heralding step (pure: arrays, scalars and a Generator in; numbers out)."""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def block_successes(
    rng: np.random.Generator,
    eta: np.ndarray,
    factors_a: np.ndarray,
    factors_b: np.ndarray,
    constant: float,
    block_pulses: int,
    last_block_pulses: int,
) -> tuple[int, float, float]:
    """Heralded successes over blocks of pulses that share one transmittance draw.

    Block j (column j of ``eta``, one row per downlink) has ``block_pulses`` pulses, the last one
    ``last_block_pulses``; its per-pulse success probability is
    ``constant * prod_k (factors_a[k] * eta[k, j] + factors_b[k])`` and its successes are
    Binomial(pulses of block j, that probability).

    Returns:
        (total successes, sum over blocks of the joint transmittance prod_k eta[k, j], sum of its squares).
    """
    n_down, n_blocks = eta.shape
    total = 0
    eta_sum = 0.0
    eta_sumsq = 0.0
    for j in range(n_blocks):
        p = constant
        joint = 1.0
        for k in range(n_down):
            e = eta[k, j]
            joint *= e
            p *= factors_a[k] * e + factors_b[k]
        n = block_pulses if j < n_blocks - 1 else last_block_pulses
        if p > 0.0 and n > 0:
            total += rng.binomial(n, min(p, 1.0))
        eta_sum += joint
        eta_sumsq += joint * joint
    return total, eta_sum, eta_sumsq


@numba.njit(cache=True, nogil=True)
def weibull_rows(
    rng: np.random.Generator, n: int, peaks: np.ndarray, scales_l: np.ndarray, half_shapes: np.ndarray
) -> np.ndarray:
    """(downlinks, n) Weibull-model transmittances, row k drawn after row k-1 from the same generator.

    Row k is exactly what :func:`qrate.channels._kernels.weibull_transmittance` draws with
    ``(peaks[k], scales_l[k], half_shapes[k])`` (same formula, same draws, same order): the
    downlinks of one batch are drawn in one call instead of one call per downlink.
    """
    out = np.empty((peaks.size, n), dtype=np.float64)
    for k in range(peaks.size):
        peak, scale_l, half_shape = peaks[k], scales_l[k], half_shapes[k]
        for i in range(n):
            out[k, i] = peak * math.exp(-scale_l * rng.standard_exponential() ** half_shape)
    return out


@numba.njit(cache=True, nogil=True)
def joint_moments(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and sum of squares of the joint transmittance (product over axis 1) of every row of
    ``eta[i, downlink, draw]``, accumulated in draw order from row i alone."""
    n_rows, n_down, n = eta.shape
    sums = np.zeros(n_rows)
    sumsqs = np.zeros(n_rows)
    for i in range(n_rows):
        s1 = 0.0
        s2 = 0.0
        for j in range(n):
            joint = 1.0
            for k in range(n_down):
                joint *= eta[i, k, j]
            s1 += joint
            s2 += joint * joint
        sums[i] = s1
        sumsqs[i] = s2
    return sums, sumsqs


@numba.njit(cache=True, nogil=True)
def weibull_moments(
    exponentials: np.ndarray, peaks: np.ndarray, scales_l: np.ndarray, half_shapes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and sum of squares of the joint Weibull-model transmittance of every row of draws.

    ``exponentials[i, k, j]`` is a standard exponential E; downlink k's transmittance is
    ``peaks[k] * exp(-scales_l[k] * E ** half_shapes[k])`` (as :func:`weibull_rows`); the joint
    transmittance of draw j is the product over downlinks (:func:`joint_moments`).
    """
    n_rows, n_down, n = exponentials.shape
    eta = np.empty_like(exponentials)
    for i in range(n_rows):
        for k in range(n_down):
            for j in range(n):
                eta[i, k, j] = peaks[k] * math.exp(-scales_l[k] * exponentials[i, k, j] ** half_shapes[k])
    return joint_moments(eta)
