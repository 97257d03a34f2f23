"""Honest estimates from noisy and small counts: no key from error rates at or above 1/2, no "0 ± 0"
for points expected to herald less than once, noise-dominated points flagged, small numbers printed
with significant digits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from qrate._cli.show import print_passes, print_table
from qrate.engine import plan_sweep
from qrate.estimates import estimate_point, finite_key_length_bits, pass_totals, secret_fraction
from qrate.scenario import load_scenario
from qrate.stats import BatchStats, to_row
from tests.estimates.test_estimates import ACKA, NAMES


def _rows(batches: list[dict[str, int]]) -> np.ndarray:
    return np.concatenate(
        [to_row(BatchStats(b["pulses"], b["successes"], counts={n: b.get(n, 0) for n in NAMES}), i, NAMES) for i, b in enumerate(batches)]
    )


def test_error_rate_at_or_above_one_half_gives_no_key() -> None:
    assert secret_fraction(0.6, 0.0) == 0.0 and secret_fraction(0.0, 0.5) == 0.0 and secret_fraction(1.0, 0.4) == 0.0
    assert finite_key_length_bits(10**6, 10**5, 0.0, 0.7, 3) == 0.0
    # the row: Q_X = 100 %, max Q_Z = 40 %: a pure-noise point
    noise = [
        {"pulses": 10**6, "successes": 200, "key_rounds": 180, "verify_rounds_x": 10, "x_parity_errors": 10, "z_err:A:B": 72},
        {"pulses": 10**6, "successes": 220, "key_rounds": 198, "verify_rounds_x": 11, "x_parity_errors": 11, "z_err:A:D": 80},
    ]
    est = estimate_point(_rows(noise), ACKA)
    assert est["qber_x"] == 1.0
    assert est["key_rate_bps"] == 0.0 and est["key_rate_worst_bps"] == 0.0 and est["finite_key_rate_bps"] == 0.0


def test_worst_case_is_never_above_the_estimate() -> None:
    # Q_X = 55 %, its interval reaching 71 %: h falls above 1/2, so the upper end once gave a key of 7 %
    rows = _rows([
        {"pulses": 10**6, "successes": 900, "key_rounds": 800, "verify_rounds_x": 40, "x_parity_errors": 22, "z_err:A:B": 1},
    ])
    est = estimate_point(rows, ACKA)
    assert est["qber_x_ci_high"] > 0.7 and est["qber_x"] == 0.55
    assert est["key_rate_worst_bps"] <= est["key_rate_bps"]
    assert est["key_rate_worst_bps"] == 0.0


def _table(rows: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> list[str]:
    print_table({"report": ACKA, "scenario_name": "t", "protocol": "acka", "axes": []}, rows)
    return capsys.readouterr().out.splitlines()


def test_points_expected_to_herald_less_than_once_show_expected_values_and_a_bound(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = _rows([{"pulses": 10**6, "successes": 0}, {"pulses": 10**6, "successes": 0}])
    est = estimate_point(rows, ACKA, extra={"ground_distance_km": 0.0, "p_success_expected": 1.5e-7})
    assert est["successes_expected"] == pytest.approx(0.3)
    lines = _table([est], capsys)
    row = lines[-1].split()
    assert "E0.3" in row and "E1.5e-07" in row
    upper = float(next(c for c in row if c.startswith("≤"))[1:])
    assert upper == pytest.approx(est["p_success_ci_high"], rel=0.05) and upper > 1.5e-7
    assert "0.0e+00" not in lines[-1]
    assert any(line.startswith("#   E:") for line in lines)


def test_pass_with_less_than_one_expected_herald_shows_expected_count_and_bound(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = _rows([{"pulses": 10**6, "successes": 0}])
    report = {**ACKA, "repetition_rate_hz": 1e6}
    est = estimate_point(rows, report, extra={"p_success_expected": 2e-7})
    totals = pass_totals([(est, rows, 1.0), (est, rows, 1.0)], report)
    assert totals["heralded_pairs"] == 0.0 and totals["heralded_pairs_expected"] == pytest.approx(0.4)
    assert totals["heralded_pairs_upper"] == pytest.approx(-np.log(0.025), rel=1e-9)  # Poisson, 0 seen, 2e6 pulses simulated = physical
    print_passes([{"pass": 0, "start_utc": "t", **totals}], {"passes": 1, "window_days": 1.0, "passes_per_day": 1.0})
    out = capsys.readouterr().out
    assert "E0.4 (≤3.7)" in out and "0 ± 0" not in out


def test_noise_dominated_points_are_flagged(capsys) -> None:  # type: ignore[no-untyped-def]
    night, day = (
        plan_sweep(load_scenario("khan-acka-leo-realistic", ["sweep.ground_distance_km=[0]", f'links.leo.background.sky="{sky}"']))[0]
        for sky in ("night", "day")
    )
    assert night.noise_herald_fraction < 0.01 and day.noise_herald_fraction > 0.99
    assert day.params()["noise_herald_fraction"] == day.noise_herald_fraction
    rows = _rows([{"pulses": 10**6, "successes": 14, "key_rounds": 12, "verify_rounds_x": 1, "x_parity_errors": 1}])
    est = [
        estimate_point(rows, ACKA, extra={"ground_distance_km": float(i), "noise_herald_fraction": p.noise_herald_fraction})
        for i, p in enumerate((night, day))
    ]
    assert not est[0]["noise_dominated"] and est[1]["noise_dominated"]
    lines = _table(est, capsys)
    assert lines[-1].endswith("!") and not lines[-2].endswith("!")
    assert any("noise-dominated" in line for line in lines if line.startswith("#"))


def test_small_probabilities_print_with_significant_digits(capsys) -> None:  # type: ignore[no-untyped-def]
    rows = _rows([{"pulses": 10**12, "successes": 1234}, {"pulses": 10**12, "successes": 1300}])
    est = estimate_point(rows, ACKA, extra={"ground_distance_km": 0.0})
    row = _table([est], capsys)[-1].split()
    assert "1.267e-09" in row and "0.00000" not in row
