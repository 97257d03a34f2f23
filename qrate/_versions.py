"""Installed versions of the packages that shape qrate's numbers (recorded in results and benchmarks)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """``{name: version}`` for each distribution name; None where it is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
