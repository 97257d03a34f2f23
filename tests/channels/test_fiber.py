"""Fiber transmittance and dephasing (PHYSICS.md §1.5, §4)."""

from __future__ import annotations

import math

import pytest

from qrate.channels.fiber import dephasing_probability, fiber_transmittance
from qrate.errors import InputError


@pytest.mark.parametrize("length_km", [0.0, 1.0, 2.0, 3.0, 50.0])
def test_default_fiber(length_km: float) -> None:
    assert fiber_transmittance(length_km) == pytest.approx(0.9 * 10 ** (-0.018 * length_km), rel=1e-15)


def test_products_of_the_case_studies() -> None:
    f = fiber_transmittance
    assert f(1) * f(2) * f(3) * f(2) == pytest.approx(0.470945, abs=5e-7)  # CKA: A, B, C, Dina
    assert f(1) ** 2 * f(2) ** 2 == pytest.approx(0.511647, abs=5e-7)  # QAB: A, H, B, D


def test_custom_loss_and_coupling() -> None:
    assert fiber_transmittance(10.0, loss_db_per_km=0.2, coupling=1.0) == pytest.approx(10**-0.2, rel=1e-15)
    assert fiber_transmittance(0.0, coupling=0.5) == 0.5


def test_dephasing_per_traversal_ignores_length() -> None:
    assert dephasing_probability(0.0) == 0.02
    assert dephasing_probability(100.0, p_per_traversal=0.1) == 0.1


def test_dephasing_rate_hz() -> None:
    c_km_s = 299792.458
    p = dephasing_probability(2.0, mode="rate_hz", rate_hz=0.02)
    assert p == pytest.approx(1 - math.exp(-0.02 * 1.468 * 2.0 / c_km_s), rel=1e-12)
    assert p < 2e-7
    big = dephasing_probability(10.0, mode="rate_hz", rate_hz=1e4, group_index=1.5)
    assert big == pytest.approx(1 - math.exp(-1e4 * 1.5 * 10.0 / c_km_s), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length_km": -1.0}, "length_km"),
        ({"length_km": float("nan")}, "length_km"),
        ({"length_km": 1.0, "loss_db_per_km": -0.1}, "loss_db_per_km"),
        ({"length_km": 1.0, "coupling": 1.5}, "coupling"),
    ],
)
def test_fiber_bad_input(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as info:
        fiber_transmittance(**kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "hz"}, "mode"),
        ({"p_per_traversal": 1.2}, "p_per_traversal"),
        ({"p_per_traversal": -0.1}, "p_per_traversal"),
        ({"mode": "rate_hz", "rate_hz": -1.0}, "rate_hz"),
        ({"mode": "rate_hz", "group_index": 0.5}, "group_index"),
    ],
)
def test_dephasing_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        dephasing_probability(1.0, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
