"""Long-term figures: per day / per year only from a day or more, night-only and clear-sky factors applied."""

from __future__ import annotations

import pytest

from qrate.longterm import long_term_summary


def _passes() -> list[dict]:
    return [
        {"key_bits": 100.0, "key_bits_stderr": 3.0, "night": True},
        {"key_bits": 40.0, "key_bits_stderr": 4.0, "night": False},
        {"key_bits": 60.0, "key_bits_stderr": 0.0, "night": True},
    ]


def test_short_window_is_marked_not_representative() -> None:
    s = long_term_summary(_passes(), 0.25)
    assert not s["representative"] and "not representative" in s["long_term_note"] and "6 h window" in s["long_term_note"]
    assert s["key_bits_per_pass"] == pytest.approx(200 / 3)
    assert s["key_bits_per_day"] == pytest.approx(200 / 0.25)  # the extrapolation, flagged
    assert long_term_summary(_passes(), 1.0)["representative"] and "long_term_note" not in long_term_summary(_passes(), 1.0)


def test_day_window_with_night_only_and_clear_sky() -> None:
    s = long_term_summary(_passes(), 2.0)
    assert s["key_bits_per_day"] == pytest.approx(100.0) and s["key_bits_per_year"] == pytest.approx(36525.0)
    assert s["key_bits_per_day_stderr"] == pytest.approx(5.0 / 2.0)
    assert s["passes_per_day"] == pytest.approx(1.5) and s["night_passes"] == 2
    s = long_term_summary(_passes(), 2.0, night_only=True, clear_sky_fraction=0.5)
    assert s["counted_passes"] == 2
    assert s["key_bits_per_day"] == pytest.approx(160.0 * 0.5 / 2.0)
    assert s["key_bits_per_year_stderr"] == pytest.approx(365.25 * 3.0 * 0.5 / 2.0)
    assert s["night_only"] is True and s["clear_sky_fraction"] == 0.5
