"""``qrate bench`` memory rows report memory: the peak resident set during the batch, its baseline and
the batch's own increase, not pulses per second."""

from __future__ import annotations

import sys

import pytest

import qrate.bench.memory as memory_stage
from qrate.bench.suite import format_row, targets


def test_memory_rows_report_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {1: (300_000, 310_000), 10: (300_000, 320_000), 100: (300_000, 330_000)}  # KiB: baseline, peak

    def peak_rss(kind: str, pulses: int) -> dict:
        base = 10**5 if kind == "iid" else 10**6
        b, p = fake[pulses // base]
        return {"baseline_kib": b, "peak_kib": p, "seconds": 0.5, "successes": 7, "peak_method": "VmHWM during the batch"}

    monkeypatch.setattr(memory_stage, "peak_rss", peak_rss)
    rows = memory_stage.memory(quick=True)
    assert len(rows) == 6
    for r in rows:
        assert "MiB" in r["unit"] and "pulses" not in r["unit"]
        assert r["per_s"] == pytest.approx(r["peak_rss_mib"])
        assert r["batch_rss_mib"] == pytest.approx(r["peak_rss_mib"] - r["baseline_rss_mib"])
        assert r["pulses_per_s"] == pytest.approx(r["pulses"] / 0.5)
        line = format_row(r)
        assert "MiB peak RSS" in line and f"batch +{r['batch_rss_mib']:.1f} MiB" in line
    assert rows[2]["peak_vs_1x"] == pytest.approx(330_000 / 310_000)
    (t,) = targets(rows)
    assert t["measured"] == pytest.approx(330_000 / 310_000)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux-only")
def test_the_peak_is_measured_during_the_batch_not_over_the_process_lifetime() -> None:
    m = memory_stage.peak_rss("iid", 1000)
    assert m["peak_method"] == "VmHWM during the batch"
    assert m["peak_kib"] >= m["baseline_kib"] > 0
