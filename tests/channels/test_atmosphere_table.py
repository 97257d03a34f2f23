"""Atmospheric transmittance by wavelength: the LOWTRAN7 table, its interpolation, the air-mass law."""

from __future__ import annotations

import math

import pytest

from qrate.channels.atmosphere import (
    AEROSOL_MODELS,
    air_mass,
    atmosphere_table,
    atmospheric_transmittance,
    slant_transmittance,
    zenith_transmittance,
)
from qrate.errors import InputError

TABLE = {  # LOWTRAN7, mid-latitude summer, sea level to space, zenith
    "no_aerosol": (0.972, 0.936, 0.963, 0.975),
    "rural_23km": (0.785, 0.761, 0.793, 0.909),
    "rural_5km": (0.445, 0.440, 0.473, 0.742),
    "urban_5km": (0.431, 0.426, 0.456, 0.701),
}
WAVELENGTHS_NM = (785.0, 810.0, 850.0, 1550.0)


@pytest.mark.parametrize("model", AEROSOL_MODELS)
def test_tabulated_wavelengths_return_the_table(model: str) -> None:
    for lam, t in zip(WAVELENGTHS_NM, TABLE[model]):
        assert zenith_transmittance(1e-9 * lam, model) == pytest.approx(t, rel=1e-12)


def test_table_file_names_its_source() -> None:
    table = atmosphere_table()
    assert "LOWTRAN" in table["source"] and "AFGL-TR-88-0177" in table["source"]
    assert tuple(table["transmittance"]) == AEROSOL_MODELS


def test_interpolation_is_linear_in_optical_depth() -> None:
    # midway between 785 and 810 nm: the geometric mean of the two transmittances
    got = zenith_transmittance(797.5e-9, "rural_23km")
    assert got == pytest.approx(math.sqrt(0.785 * 0.761), rel=1e-12)
    got = zenith_transmittance(840e-9, "no_aerosol")  # 3/4 of the way from 810 to 850 nm
    assert got == pytest.approx(math.exp(0.25 * math.log(0.936) + 0.75 * math.log(0.963)), rel=1e-12)
    # near an isolated tabulated wavelength: its value
    assert zenith_transmittance(1545e-9, "urban_5km") == 0.701
    assert zenith_transmittance(780e-9, "no_aerosol") == 0.972


def test_slant_transmittance_is_the_zenith_value_to_the_air_mass() -> None:
    for zenith_deg in (0.0, 30.0, 60.0, 75.0):
        z = math.radians(zenith_deg)
        expected = 0.793 ** air_mass(z)
        assert slant_transmittance(850e-9, z, "rural_23km") == pytest.approx(expected, rel=1e-12)
        assert slant_transmittance(850e-9, z, "rural_23km") == atmospheric_transmittance(0.793, z)


def test_existing_air_mass_interface_is_unchanged() -> None:
    assert atmospheric_transmittance(1.0, 1.2) == 1.0
    assert atmospheric_transmittance(0.8, 0.0) == 0.8
    assert atmospheric_transmittance(0.8, math.radians(60.0)) == pytest.approx(0.64, rel=1e-12)
    assert air_mass(math.radians(80.0)) == pytest.approx(1.0 / (math.cos(math.radians(80.0)) + 0.50572 * 16.07995**-1.6364))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: zenith_transmittance(1064e-9), "wavelength_m"),
        (lambda: zenith_transmittance(700e-9), "wavelength_m"),
        (lambda: zenith_transmittance(-8e-7), "wavelength_m"),
        (lambda: zenith_transmittance(850e-9, "maritime"), "aerosol_model"),
        (lambda: slant_transmittance(850e-9, math.pi / 2), "zenith_rad"),
    ],
)
def test_bad_inputs_raise_input_error(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
