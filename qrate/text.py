"""The one sanitizer: text from users, scenarios, results files and libraries, made safe to print.

Every place that prints such text (the CLI's error printer, progress and interrupt messages, file
names, scenario and station names, values read from a results file) goes through :func:`printable`.
"""

from __future__ import annotations


def printable(text: object) -> str:
    """``str(text)`` on one line with no terminal control sequence.

    Every character that is not printable (ESC and the rest of C0/C1, DEL, line and paragraph
    breaks, tabs, bidirectional overrides, lone surrogates left by undecodable bytes) is written as
    its Python escape (``\\x1b``, ``\\n``, ``\\u202e``, ``\\udcff``); printable text, non-ASCII
    letters included, is unchanged.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
