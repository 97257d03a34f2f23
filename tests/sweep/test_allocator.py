"""glibc tuning applies to Dask workers only (their nanny sets ``MALLOC_TRIM_THRESHOLD_``)."""

from __future__ import annotations

import pytest

from qrate.sweep import _allocator


def test_a_process_without_the_nannys_variable_is_not_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.setattr(_allocator, "_done", False)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        _allocator.ctypes, "CDLL", lambda name: type("C", (), {"mallopt": staticmethod(lambda *a: calls.append(a) or 1)})()
    )
    assert _allocator.tune_allocator() is False
    assert calls == [] and _allocator._done is False


def test_a_worker_started_by_the_nanny_is_tuned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setattr(_allocator, "_done", False)
    monkeypatch.setattr(_allocator.ctypes.util, "find_library", lambda name: "libc.so.6")
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        _allocator.ctypes, "CDLL", lambda name: type("C", (), {"mallopt": staticmethod(lambda *a: calls.append(a) or 1)})()
    )
    assert _allocator.tune_allocator() is True
    assert _allocator.tune_allocator() is True
    assert calls == [
        (_allocator.M_MMAP_THRESHOLD, _allocator.MMAP_THRESHOLD_BYTES),
        (_allocator.M_TRIM_THRESHOLD, _allocator.TRIM_THRESHOLD_BYTES),
    ]
