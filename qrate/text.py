"""Text from scenarios and results files, made safe to print on a terminal."""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with control characters (ESC, OSC, BEL, newlines, ...) escaped as ``\\xNN`` / ``\\uNNNN``."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
