"""Pure plotting layer: estimates -> curves (units, error bars), drawing, legend labels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.image import imread

from qrate.engine import protocol_of
from qrate.estimates import Quantity, quantity
from qrate.plot import Curve, curve_from_estimates, draw_curves, plot_curves, variant_labels
from qrate.scenario import load_scenario

REPORTS = {s.protocol.name: {**protocol_of(s).report().to_json(), "repetition_rate_hz": 1e6}
           for s in (load_scenario("khan-acka-leo"), load_scenario("khan-broadcast-uav"))}


def y_spec(y: str, protocol: str) -> Quantity:
    """The quantity ``--y y`` draws for a preset's protocol."""
    return quantity(REPORTS[protocol], y)


def _est(d: float, key: float | None, std: float | None, **kw: float | None) -> dict:
    return {"ground_distance_km": d, "key_rate_bps": key, "key_rate_std_bps": std, "key_rate_sem_bps": None, **kw}


def test_curve_sorted_by_distance_in_kbit_per_s_with_1sigma_bars() -> None:
    spec = y_spec("key_rate", "acka")
    c = curve_from_estimates([_est(500.0, 120_000.0, 3_000.0), _est(0.0, 250_000.0, 5_000.0)], spec, "x")
    np.testing.assert_array_equal(c.x, [0.0, 500.0])
    np.testing.assert_allclose(c.y, [250.0, 120.0])
    np.testing.assert_allclose(c.err_low, [5.0, 3.0])
    np.testing.assert_allclose(c.err_high, [5.0, 3.0])
    assert np.isnan(c.sem).all()


def test_missing_values_are_nan_and_missing_spread_is_zero() -> None:
    c = curve_from_estimates([_est(0.0, None, None), _est(10.0, 1000.0, None)], y_spec("key_rate", "acka"), "x")
    assert math.isnan(c.y[0]) and c.y[1] == 1.0
    np.testing.assert_array_equal(c.err_low, [0.0, 0.0])


def test_qber_uses_asymmetric_confidence_interval_in_percent() -> None:
    est = {"ground_distance_km": 0.0, "qber_x": 0.075, "qber_x_ci_low": 0.07, "qber_x_ci_high": 0.082}
    c = curve_from_estimates([est], y_spec("qber", "acka"), "q")
    np.testing.assert_allclose([c.y[0], c.err_low[0], c.err_high[0]], [7.5, 0.5, 0.7])
    b = {"ground_distance_km": 0.0, "broadcast_error_rate": 0.1, "broadcast_error_rate_ci_low": 0.09,
         "broadcast_error_rate_ci_high": 0.12}
    cb = curve_from_estimates([b], y_spec("qber", "broadcast"), "q")
    np.testing.assert_allclose([cb.y[0], cb.err_low[0], cb.err_high[0]], [10.0, 1.0, 2.0])


def test_y_spec_refuses_quantities_a_protocol_does_not_have() -> None:
    with pytest.raises(ValueError, match="broadcast_rate"):
        y_spec("key_rate", "broadcast")
    with pytest.raises(ValueError, match="key_rate"):
        y_spec("broadcast_rate", "acka")
    with pytest.raises(ValueError, match="not reported for protocol .acka."):
        y_spec("fidelity", "acka")


def _curve(label: str, y: list[float], err: list[float], x: list[float] | None = None) -> Curve:
    xs = np.array(x if x is not None else [0.0, 100.0, 200.0][: len(y)])
    e = np.array(err)
    return Curve(label, xs, np.array(y), e, e, np.array(err) / 3)


def test_error_bars_drawn_span_y_minus_to_y_plus_sigma() -> None:
    ax = Figure().add_subplot()
    draw_curves(ax, [_curve("a", [10.0, 8.0, 5.0], [1.0, 0.5, 0.25])])
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = container.lines[2][0].get_segments()
    spans = sorted((float(s[0, 0]), float(s[0, 1]), float(s[1, 1])) for s in segments)
    assert spans == [(0.0, 9.0, 11.0), (100.0, 7.5, 8.5), (200.0, 4.75, 5.25)]


def test_log_axis_keeps_lower_bar_positive() -> None:
    ax = Figure().add_subplot()
    draw_curves(ax, [_curve("a", [10.0, 1.0, 0.1], [1.0, 2.0, 0.5])], log=True)
    assert ax.get_yscale() == "log"
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    lows = [float(min(s[0, 1], s[1, 1])) for s in container.lines[2][0].get_segments()]
    assert min(lows) > 0


def test_plot_curves_writes_a_readable_png(tmp_path) -> None:  # type: ignore[no-untyped-def]
    curves = [_curve("a", [10.0, 8.0, 5.0], [1.0, 0.5, 0.2]), _curve("b", [9.0, 7.0, 4.0], [1.0, 0.5, 0.2])]
    path = plot_curves(curves, tmp_path / "f.png", y_label="rate (kbit/s)", title="t", legend_title="p", note="n",
                       ratio=True, log=True)
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 300
    assert float(image[..., :3].std()) > 0.01  # not blank


def test_ratio_panel_needs_the_same_distances(tmp_path) -> None:  # type: ignore[no-untyped-def]
    curves = [_curve("a", [1.0, 2.0], [0.1, 0.1], [0.0, 1.0]), _curve("b", [1.0, 2.0], [0.1, 0.1], [0.0, 2.0])]
    with pytest.raises(ValueError, match="other distances"):
        plot_curves(curves, tmp_path / "f.png", y_label="y", ratio=True)
    with pytest.raises(ValueError, match="no curves"):
        plot_curves([], tmp_path / "g.png", y_label="y")


def test_curve_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="shape"):
        Curve("a", np.zeros(2), np.zeros(3), np.zeros(2), np.zeros(2), np.zeros(2))


# ------------------------------------------------------------------------------ legend labels
BASE = {"name": "leo", "description": "d", "links": {"leo": {"aperture_radius_m": 3.0, "model": "weibull"}},
        "sampling": {"seed": 1, "batches": 10}}


def _with(**changes: object) -> dict:
    import copy

    out = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = out
        *head, last = dotted.split("__")
        for part in head:
            node = node[part]
        node[last] = value
    return out


def test_one_varied_field_is_the_legend_title() -> None:
    title, labels = variant_labels([BASE, _with(links__leo__aperture_radius_m=1.5)])
    assert title == "links.leo.aperture_radius_m" and labels == ["3", "1.5"]


def test_physical_fields_win_over_sampling_and_description() -> None:
    other = _with(links__leo__model="exact", sampling__seed=2, description="other")
    assert variant_labels([BASE, other]) == ("links.leo.model", ["weibull", "exact"])
    assert variant_labels([BASE, _with(sampling__seed=2)]) == ("sampling.seed", ["1", "2"])


def test_several_fields_give_key_value_labels() -> None:
    other = _with(links__leo__model="exact", links__leo__aperture_radius_m=1.0)
    title, labels = variant_labels([BASE, other])
    assert title is None
    assert labels == ["aperture_radius_m=3, model=weibull", "aperture_radius_m=1, model=exact"]


def test_different_scenarios_or_identical_ones_are_labelled_by_name() -> None:
    assert variant_labels([BASE, _with(name="uav", links__leo__model="exact")]) == ("scenario", ["leo", "uav"])
    assert variant_labels([BASE, BASE]) == (None, ["leo", "leo"])
    assert variant_labels([BASE]) == (None, ["leo"])
