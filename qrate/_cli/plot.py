"""``qrate plot FILE.h5 ... --out FIG.png [--overwrite] [--y ...] [--log] [--label A B ...]``: rate vs ground distance."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from qrate._cli.args import ArgumentParser, float_in
from qrate.plot.files import PlotData, curves_from_files

__all__ = ["PlotData", "curves_from_files", "main"]  # curves_from_files lives in qrate.plot.files

SUFFIXES = (".png", ".pdf", ".svg")


def _split_labels(files: list[str], labels: list[str] | None) -> tuple[list[str], list[str] | None]:
    """Results files swallowed by ``--label A B`` (``--label A FILE.h5``) go back to the files."""
    if not labels:
        return files, labels
    n = len(labels)
    while n > 0 and Path(labels[n - 1]).suffix.lower() in (".h5", ".hdf5"):
        n -= 1
    return [*files, *labels[n:]], labels[:n] or None


def main(argv: list[str]) -> int:
    """Plot rate (or QBER) versus ground distance, one curve per results file, into ``--out``."""
    parser = ArgumentParser(
        prog="qrate plot",
        description="Plot rate versus ground distance (kbit/s, 1σ error bars across batches), one curve per results file.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE.h5", help="results files written by qrate run")
    parser.add_argument("--out", required=True, metavar="FIG.png", help="figure to write (.png, .pdf or .svg)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--y",
        default="auto",
        metavar="QUANTITY",
        help="quantity to plot, e.g. key_rate, rate, broadcast_rate, qber, fidelity, p_success"
        " (default: the protocol's main rate)",
    )
    parser.add_argument("--log", action="store_true", help="logarithmic y axis")
    parser.add_argument(
        "--label",
        action="extend",
        nargs="+",
        default=None,
        metavar="TEXT",
        help="legend labels, one per file in order: --label A B or --label A --label B (default: the differing scenario field)",
    )
    parser.add_argument("--title", default=None, help="figure title")
    parser.add_argument(
        "--y-min",
        type=float_in("--y-min"),
        default=None,
        metavar="Y",
        help="lower limit of the y axis in display units (e.g. 0; default: automatic)",
    )
    parser.add_argument("--ratio", action="store_true", help="add a panel with each curve divided by the first (±1 s.e.m.)")
    args = parser.parse_args(argv)

    from qrate.errors import InputError, QrateError
    from qrate.outputs import check_output, remove_stale_temps, replace_atomically, temp_path
    from qrate.plot import plot_curves

    files, labels = _split_labels(list(args.files), args.label)
    if not files:
        raise InputError("FILE.h5", "expected at least one results file")
    out = check_output(args.out, overwrite=args.overwrite, suffixes=SUFFIXES, field="out")
    if args.log and args.y_min is not None and args.y_min <= 0:
        raise InputError("--y-min", f"expected a positive value with --log, got {args.y_min:g}")
    data = curves_from_files(files, args.y, labels)
    if args.ratio and len(data.curves) < 2:
        raise InputError("--ratio", "needs at least two files")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out)
        tmp = temp_path(out)  # drawn aside, then renamed: never written through a link, never half-written
    except OSError as exc:
        raise InputError("out", f"cannot create {out}: {os.strerror(exc.errno) if exc.errno else exc}") from None
    try:
        try:
            plot_curves(
                data.curves,
                tmp,
                y_label=data.y_label,
                log=args.log,
                title=args.title,
                legend_title=data.legend_title,
                note=data.note + ("; ratio panel: ±1 s.e.m." if args.ratio else ""),
                ratio=args.ratio,
                ratio_label="ratio to first file",
                y_min=args.y_min,
            )
        except ValueError as exc:  # e.g. ratio of curves with different distances
            raise InputError("--ratio" if args.ratio else "FILE.h5", str(exc)) from None
        except OSError as exc:  # disk full, I/O error
            raise QrateError(f"{out}: cannot write the figure ({os.strerror(exc.errno) if exc.errno else exc})") from None
        if args.overwrite:
            replace_atomically(tmp, out)
        else:
            try:
                os.link(tmp, out)  # fails if the name was taken meanwhile
            except FileExistsError:
                raise InputError("out", f"{out} already exists; choose another --out or pass --overwrite") from None
            except OSError:  # no hard links here: the name was checked free above
                os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {out} ({len(data.curves)} curve{'s' if len(data.curves) != 1 else ''})", file=sys.stderr)
    return 0
