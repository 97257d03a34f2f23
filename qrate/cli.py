"""Command-line entry point: ``qrate VERB [options]``.

Each verb lives in its own module ``qrate._cli.<verb>`` exposing ``main(argv) -> int`` and is
imported only when called, so ``qrate --help`` stays fast and tests can call verbs in-process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from qrate.errors import InputError, Interrupted, QrateError
from qrate.text import printable

#: verb -> (module, one-line description)
VERBS: dict[str, tuple[str, str]] = {
    "link": ("qrate._cli.link", "link budget of one free-space downlink (LEO satellite or UAV)"),
    "passes": ("qrate._cli.passes", "passes of a satellite (TLE, circular orbit) or UAV seen by all given stations at once"),
    "scenarios": ("qrate._cli.scenarios", "list the scenario presets shipped with qrate"),
    "validate": ("qrate._cli.validate", "check a scenario file (and --set overrides) without running it"),
    "run": ("qrate._cli.run", "run a scenario's sweep and write the results to HDF5"),
    "show": ("qrate._cli.show", "print the per-point estimates stored in a results file"),
    "combine": ("qrate._cli.combine", "merge results files of the same scenario (refuses duplicated batches)"),
    "plot": ("qrate._cli.plot", "plot any estimate versus ground distance or any sweep axis, with 1-sigma error bars"),
    "reproduce": ("qrate._cli.reproduce", "regenerate the reference figures into results/ (the main job)"),
    "bench": ("qrate._cli.bench", "run the built-in benchmark suite and write machine-readable JSON"),
    "provision": ("qrate._cli.provision", "two-stage stochastic QKD service provisioning on USNET"),
    "require": ("qrate._cli.require", "the value of a field at which an estimate reaches a target, with its confidence interval"),
}


def _usage() -> str:
    width = max(len(v) for v in VERBS)
    lines = ["usage: qrate VERB [options]   (qrate VERB --help for details)", "", "verbs:"]
    lines += [f"  {verb:<{width}}  {desc}" for verb, (_, desc) in VERBS.items()]
    return "\n".join(lines)


#: library parameter -> the command-line option that sets it (library errors name parameters)
OPTIONS: dict[str, str] = {
    "out": "--out",
    "seed": "--seed",
    "resume": "--resume",
    "overwrite": "--overwrite",
    "max_pulses": "--max-pulses",
    "workers": "--workers",
    "scheduler": "--scheduler",
    "scheduler_file": "--scheduler-file",
    "labels": "--label",
    "y": "--y",
}


def _message(exc: QrateError) -> str:
    """What went wrong: an :class:`InputError` names the option (``--out``) for the parameter (``out``)."""
    return f"{OPTIONS.get(exc.field, exc.field)}: {exc.message}" if isinstance(exc, InputError) else str(exc)


def error(verb: str, text: str) -> None:
    """The CLI's one error printer: ``qrate VERB: error: TEXT`` on one line of stderr, with every
    control character of ``TEXT`` (file names, scenario text, library messages) escaped."""
    print(f"qrate {verb}: error: {printable(text)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb and return its exit code (0 ok, 1 error, 2 bad input, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        from qrate import __version__

        print(f"qrate {__version__}")
        return 0
    verb, rest = args[0], args[1:]
    if verb not in VERBS:
        print(f"qrate: error: unknown verb '{printable(verb)}'; expected one of {', '.join(VERBS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(VERBS[verb][0])
    try:
        with sigterm_as_interrupt():
            return int(module.main(rest) or 0)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    except QrateError as exc:
        error(verb, _message(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
        if not isinstance(exc, Interrupted):  # else the verb has said what was saved and how to resume
            print(f"qrate {verb}: interrupted", file=sys.stderr)
        return 130


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM does what Ctrl-C does: whatever handles SIGINT now (a results writer holding it back
    during a write, or Python's KeyboardInterrupt) handles it."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored or default (e.g. started in the background by a shell): still stop
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, a batch system's time limit) raises KeyboardInterrupt like
    Ctrl-C, so that a run saves its batches, prints the resume command and exits 130 instead of
    dying silently with 143. Only in the main thread; the previous handler is restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main_entry() -> None:
    """Console-script wrapper around :func:`main`; a reader that closes the pipe early
    (``qrate show f.h5 | head``) ends the output quietly, without a traceback."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main_entry()
