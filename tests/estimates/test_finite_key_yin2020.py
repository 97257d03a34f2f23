"""Yin et al. (2020) finite-key analysis: closed form, the published block, selection per scenario."""

from __future__ import annotations

import math

import pytest

from qrate.finite_key import finite_key_bits, yin2020_key_length_bits
from qrate.formulas import finite_key_length_bits


def h(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_closed_form() -> None:
    n, k, qx, qz = 10_000, 4_000, 0.03, 0.02
    theta = math.sqrt(math.log(1e10) / (2 * k))
    expected = n * (1 - h(qx + theta)) - 1.19 * n * h(qz) - math.log2(2e10) - 2 * math.log2(1 / 2e-10)
    assert yin2020_key_length_bits(n, k, qx, qz) == pytest.approx(expected, rel=1e-12)
    assert yin2020_key_length_bits(0, k, qx, qz) == 0.0
    assert yin2020_key_length_bits(n, k, 0.5, qz) == 0.0  # no key from an error rate of 1/2
    assert yin2020_key_length_bits(n, k, 0.45, 0.6) == 0.0


def test_published_block_of_yin_2020() -> None:
    """Nature 582, 501 (2020): 3100 s at 1.1 Hz sifted (n = 3410), QBER 4.5 %, f_e = 1.19, eps = 1e-10:
    372 bits (0.12 bit/s). This analysis: 363 bits (within 5 %); Grasselli-Kampermann-Bruss: ~91."""
    n = round(1.1 * 3100)
    ell = yin2020_key_length_bits(n, n // 2, 0.045, 0.045)
    assert ell == pytest.approx(372, rel=0.05)
    assert ell / 3100 == pytest.approx(0.12, abs=0.005)
    gkb = finite_key_length_bits(n, n // 2, 0.045, 0.045, 2, f_ec=1.19)
    assert gkb < 0.5 * ell


def test_selected_per_scenario() -> None:
    args = (3410, 1705, 0.045, 0.045)
    assert finite_key_bits("yin2020", *args, 2) == yin2020_key_length_bits(3410, 1705, 0.045, 0.045)
    assert finite_key_bits("grasselli2018", *args, 2) == finite_key_length_bits(*args, 2)
    assert finite_key_bits("yin2020", *args, 3) == finite_key_length_bits(*args, 3)
