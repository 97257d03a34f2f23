"""Measured loss tables: checks with field names, linear-in-dB interpolation, fading, range geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qrate.channels.measured import MeasuredLoss, geometry_at_elevation, geometry_at_slant_range, micius_2017_downlink
from qrate.errors import InputError
from qrate.geometry import EARTH_RADIUS_KM, midpoint_geometry

SEED = 20260305


def table(**kw: object) -> MeasuredLoss:
    args: dict = {"abscissa": "slant_range_km", "points": [500.0, 800.0, 1200.0], "loss_db": [28.0, 31.0, 39.0]}
    args.update(kw)
    return MeasuredLoss(**args)


def test_interpolation_is_linear_in_db() -> None:
    t = table()
    assert t.loss_db_at(500.0) == 28.0
    assert t.loss_db_at(1200.0) == 39.0
    assert t.loss_db_at(650.0) == pytest.approx(29.5)
    assert t.loss_db_at(1000.0) == pytest.approx(35.0)
    assert t.mean_transmittance_at(1000.0) == pytest.approx(10**-3.5, rel=1e-12)
    assert t.points == (500.0, 800.0, 1200.0)  # stored as tuples: the spec stays immutable


def test_geometry_lookup_by_range_and_by_elevation() -> None:
    geo = midpoint_geometry(500.0, 1000.0)
    assert table().loss_db_for(geo) == pytest.approx(table().loss_db_at(geo.slant_range_km))
    elev = MeasuredLoss("elevation_deg", [10.0, 40.0, 90.0], [40.0, 32.0, 28.0])
    assert elev.loss_db_for(geo) == pytest.approx(float(np.interp(geo.elevation_deg, [10, 40, 90], [40, 32, 28])))
    assert elev.mean_transmittance(geo) == pytest.approx(10 ** (-elev.loss_db_for(geo) / 10))


@pytest.mark.statistical
def test_lognormal_fading_keeps_the_mean() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    t = table(scintillation_index=0.2)
    geo = geometry_at_slant_range(500.0, 900.0)
    x = t.sample_transmittance(geo, 300_000, rng)
    mean = t.mean_transmittance(geo)
    assert abs(x.mean() - mean) < 5 * x.std() / math.sqrt(x.size)
    assert x.var() / mean**2 == pytest.approx(0.2, rel=0.05)
    np.testing.assert_array_equal(table().sample_transmittance(geo, 4, rng), np.full(4, mean))


def test_slant_range_geometry_round_trip() -> None:
    h = 500.0
    for length in (h, 645.0, 1200.0, 2500.0):
        geo = geometry_at_slant_range(h, length)
        assert geo.slant_range_km == pytest.approx(length, rel=1e-12)
        r = EARTH_RADIUS_KM
        sin_e = ((r + h) ** 2 - r * r - length * length) / (2 * r * length)
        assert math.sin(geo.elevation_rad) == pytest.approx(sin_e, abs=1e-12)
    geo = geometry_at_elevation(500.0, 30.0)
    assert geo.elevation_deg == pytest.approx(30.0, abs=1e-9)


def test_micius_table_loads() -> None:
    t = micius_2017_downlink()
    assert len(t.points) == 24
    assert t.points[0] == 645.0 and t.points[-1] == 1200.0
    assert t.loss_db_at(645.0) == pytest.approx(29.754)
    assert t.loss_db_at(1200.0) == pytest.approx(40.34)


def test_from_mapping() -> None:
    t = MeasuredLoss.from_mapping(
        {"elevation_deg": [20, 90], "loss_db": [35, 30], "scintillation_index": 0.1}, name="links.leo.measured"
    )
    assert t.abscissa == "elevation_deg" and t.name == "links.leo.measured" and t.scintillation_index == 0.1


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: table(points=[500.0], loss_db=[30.0]), "measured_loss.slant_range_km"),
        (lambda: table(points=[500.0, 500.0, 900.0]), "measured_loss.slant_range_km"),
        (lambda: table(points=[900.0, 800.0, 1200.0]), "measured_loss.slant_range_km"),
        (lambda: table(points=[500.0, float("nan"), 1200.0]), "measured_loss.slant_range_km[1]"),
        (lambda: table(loss_db=[28.0, float("inf"), 39.0]), "measured_loss.loss_db[1]"),
        (lambda: table(loss_db=[28.0, -1.0, 39.0]), "measured_loss.loss_db[1]"),
        (lambda: table(loss_db=[28.0, 31.0]), "measured_loss.loss_db"),
        (lambda: table(loss_db="28 31 39"), "measured_loss.loss_db"),
        (lambda: table(abscissa="ground_distance_km"), "measured_loss.abscissa"),
        (lambda: table(scintillation_index=-0.1), "measured_loss.scintillation_index"),
        (lambda: table(name="links.leo.loss_table", points=[1.0, 0.5, 2.0]), "links.leo.loss_table.slant_range_km"),
        (lambda: MeasuredLoss("elevation_deg", [10.0, 95.0], [30.0, 28.0]), "measured_loss.elevation_deg"),
        (lambda: table().loss_db_at(1500.0), "slant_range_km"),
        (
            lambda: MeasuredLoss.from_mapping({"slant_range_km": [1, 2], "elevation_deg": [1, 2], "loss_db": [1, 2]}),
            "measured_loss.slant_range_km/elevation_deg",
        ),
        (lambda: MeasuredLoss.from_mapping({"slant_range_km": [1, 2], "loss_dB": [1, 2]}), "measured_loss.loss_db"),
        (lambda: MeasuredLoss.from_mapping({"slant_range_km": [1, 2], "loss_db": [1, 2], "fading": 0.1}), "measured_loss.fading"),
        (lambda: geometry_at_slant_range(500.0, 400.0), "slant_range_km"),
        (lambda: geometry_at_slant_range(500.0, 3000.0), "slant_range_km"),
        (lambda: geometry_at_elevation(500.0, 0.0), "elevation_deg"),
    ],
)
def test_bad_tables_raise_input_error_naming_the_field(call, field: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
