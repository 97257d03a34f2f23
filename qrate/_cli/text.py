"""Terminal-safe text for the CLI (the function lives in :mod:`qrate.text`)."""

from __future__ import annotations

from qrate.text import printable

__all__ = ["printable"]
