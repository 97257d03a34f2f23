"""``qrate plot FILE.h5 ... --out FIG.png [--overwrite] [--y ...] [--log] [--label A B ...]``: rate vs ground distance;
``qrate plot FILE.h5 --x AXIS [--hue AXIS] [--facet AXIS] ...``: any sweep axis of one file on x."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qrate._cli.args import ArgumentParser, float_in
from qrate.plot.files import PlotData, curves_from_files
from qrate.text import printable

__all__ = ["PlotData", "curves_from_files", "main"]  # curves_from_files lives in qrate.plot.files

if TYPE_CHECKING:
    from qrate.protocols.estimator import Quantity

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
        description="Plot an estimate (default: the protocol's main rate, 1σ error bars across batches) versus ground"
        " distance, one curve per results file; or one file's points versus any of its sweep axes (--x, --hue, --facet).",
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
    parser.add_argument(
        "--x",
        default=None,
        metavar="AXIS",
        help="sweep axis on x (one file; default ground_distance_km), e.g. links.leo.aperture_radius_m",
    )
    parser.add_argument("--hue", default=None, metavar="AXIS", help="sweep axis drawn as one curve per value (with --x)")
    parser.add_argument("--facet", default=None, metavar="AXIS", help="sweep axis drawn as one panel per value (with --x)")
    parser.add_argument("--logx", action="store_true", help="logarithmic x axis")
    parser.add_argument(
        "--heatmap",
        nargs=2,
        default=None,
        metavar=("X", "Y"),
        help="heat map of the estimate over two sweep axes of one file (beside its relative error)",
    )
    args = parser.parse_args(argv)

    from qrate.errors import InputError, QrateError
    from qrate.outputs import check_output
    from qrate.plot import plot_curves

    files, labels = _split_labels(list(args.files), args.label)
    if not files:
        raise InputError("FILE.h5", "expected at least one results file")
    out = check_output(args.out, overwrite=args.overwrite, suffixes=SUFFIXES, field="out")
    if args.log and args.y_min is not None and args.y_min <= 0:
        raise InputError("--y-min", f"expected a positive value with --log, got {args.y_min:g}")
    if len(files) == 1 and _is_frontier(files[0]):
        return _plot_frontier(args, files[0], out)
    if args.heatmap:
        return _plot_heatmap(args, files, out)
    if args.x or args.hue or args.facet or (len(files) == 1 and _field_axes(files[0])):
        return _plot_axes(args, files, out)
    data = curves_from_files(files, args.y, labels)
    if args.ratio and len(data.curves) < 2:
        raise InputError("--ratio", "needs at least two files")
    with _drawn(out, args.overwrite) as tmp:
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
    print(f"wrote {printable(out)} ({len(data.curves)} curve{'s' if len(data.curves) != 1 else ''})", file=sys.stderr)
    return 0


def _plot_axes(args: Any, files: list[str], out: Path) -> int:
    """One file's points against any of its sweep axes (``--x``, ``--hue``, ``--facet``)."""
    from qrate.errors import InputError
    from qrate.plot.grid import plot_axes

    meta, rows, axes = _one_file(files, "--x", "plots one file against its sweep axes")
    if "pass" in axes and args.y != "auto" and ("_per_pass" in args.y or "_per_day" in args.y or "_per_year" in args.y):
        return _plot_pass_totals(args, files[0], out)
    for option, axis in (("--x", args.x), ("--hue", args.hue), ("--facet", args.facet)):
        if axis is not None:
            _check_axis(option, axis, axes, files[0])
    q = _quantity(meta, args.y)
    note = "error bars: ±1σ across batches (95% interval where there is no batch spread)"
    if not meta.get("complete"):
        note += "; INCOMPLETE run: not every batch is in"
        print(
            f"qrate plot: note: {printable(files[0])} is incomplete (interrupted or still running); the figure says so",
            file=sys.stderr,
        )
    with _drawn(out, args.overwrite) as tmp:
        try:
            plot_axes(
                rows,
                q,
                tmp,
                x=args.x or "ground_distance_km",
                hue=args.hue,
                facet=args.facet,
                log=args.log,
                logx=args.logx,
                title=args.title,
                note=note,
            )
        except ValueError as exc:
            raise InputError("--hue", f"{exc}; its axes: {', '.join(axes)}") from None
    print(printable(f"wrote {out} ({q.key} vs {args.x or 'ground_distance_km'})"), file=sys.stderr)
    return 0


def _temp(out: Path) -> Path:
    """A temporary name beside ``out``: the figure is drawn aside, then renamed (never written through a
    link, never half-written)."""
    from qrate.errors import InputError
    from qrate.outputs import remove_stale_temps, temp_path

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out)
        return temp_path(out)
    except OSError as exc:
        raise InputError("out", f"cannot create {out}: {os.strerror(exc.errno) if exc.errno else exc}") from None


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    """Give the drawn figure its name: replace ``out`` with ``overwrite``, else only if it is still free."""
    from qrate.errors import InputError
    from qrate.outputs import replace_atomically

    if overwrite:
        replace_atomically(tmp, out)
        return
    try:
        os.link(tmp, out)  # fails if the name was taken meanwhile
    except FileExistsError:
        raise InputError("out", f"{out} already exists; choose another --out or pass --overwrite") from None
    except OSError:  # no hard links here: the name was checked free above
        os.replace(tmp, out)


@contextmanager
def _drawn(out: Path, overwrite: bool) -> Iterator[Path]:
    """The temporary name to draw the figure under; published as ``out`` when the block ends without an
    error (:func:`_publish`), removed in any case."""
    tmp = _temp(out)
    try:
        yield tmp
        _publish(tmp, out, overwrite)
    finally:
        tmp.unlink(missing_ok=True)


def _one_file(files: list[str], option: str, what: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """``(metadata, estimates per point, axes)`` of the one results file ``option`` draws (InputError
    naming ``option`` for several files, ``FILE.h5`` for a file with nothing stored yet)."""
    from qrate.errors import InputError
    from qrate.store.load import read_estimates

    if len(files) != 1:
        raise InputError(option, f"{what}; got {len(files)} files")
    meta, rows = read_estimates(files[0])
    if not rows:
        raise InputError("FILE.h5", f"{files[0]}: no batches stored yet; nothing to plot")
    return meta, rows, [*meta.get("axes", []), "ground_distance_km"]


def _check_axis(option: str, axis: str, axes: list[str], path: str) -> None:
    """InputError naming ``option`` unless ``axis`` is one of the file's ``axes``."""
    from qrate.errors import InputError

    if axis not in axes:
        raise InputError(option, f"{axis!r} is not an axis of {path}; its axes: {', '.join(axes)}")


def _quantity(meta: dict[str, Any], y: str) -> Quantity:
    """The estimate ``--y`` names (``auto``: the protocol's default), InputError naming ``--y`` if unknown."""
    from qrate.errors import InputError
    from qrate.estimates import quantity

    try:
        return quantity(meta["report"], str(meta["report"]["default_y"]) if y == "auto" else y)
    except ValueError as exc:
        raise InputError("--y", str(exc)) from None


def _field_axes(path: str) -> list[str]:
    """The field axes of a results file (none for a plain distance sweep)."""
    from qrate.store.load import read_estimates

    return list(read_estimates(path)[0].get("axes", []))


def _is_frontier(path: str) -> bool:
    from qrate.store.frontier import is_frontier

    return is_frontier(path)


def _plot_frontier(args: Any, path: str, out: Path) -> int:
    """A frontier file (``qrate require --over --out``): the threshold versus the second field, with its band."""
    from qrate.plot.frontier import plot_frontier
    from qrate.store.frontier import read

    meta, rows = read(path)
    with _drawn(out, args.overwrite) as tmp:
        plot_frontier(meta, rows, tmp, logx=args.logx, log=args.log, title=args.title)
    print(f"wrote {out} (threshold of {meta['vary']} vs {meta['over']})", file=sys.stderr)
    return 0


def _plot_heatmap(args: Any, files: list[str], out: Path) -> int:
    """``--heatmap X Y``: the estimate over two sweep axes of one file."""
    from qrate.errors import InputError
    from qrate.plot.grid import plot_heatmap

    meta, rows, axes = _one_file(files, "--heatmap", "draws one file")
    x, y = args.heatmap
    for axis in (x, y):
        _check_axis("--heatmap", axis, axes, files[0])
    if x == y:
        raise InputError("--heatmap", "expected two different axes")
    others = [a for a in axes if a not in (x, y) and len({r.get(a) for r in rows}) > 1]
    if others:
        raise InputError("--heatmap", f"the file also varies {others[0]}; a heat map shows two axes")
    q = _quantity(meta, args.y)
    with _drawn(out, args.overwrite) as tmp:
        plot_heatmap(rows, q, tmp, x=x, y=y, log=True, title=args.title)
    print(f"wrote {out} ({q.key} over {x} and {y})", file=sys.stderr)
    return 0


def _plot_pass_totals(args: Any, path: str, out: Path) -> int:
    """A pass run with field axes: a per-pass / per-day / per-year total (``--y key_bits_per_day``)
    versus a field axis, one point per grid point, ± its standard error."""
    from qrate.errors import InputError
    from qrate.plot.grid import plot_axes
    from qrate.protocols.estimator import Quantity
    from qrate.store.load import read_passes
    from qrate.units import field_label

    _, summary = read_passes(path)
    points = summary.get("points") or ([summary] if summary else [])
    names = list(summary.get("axes") or [])
    if not points or args.y not in points[0]:
        have = sorted(k for k in (points[0] if points else {}) if k.endswith(("_per_pass", "_per_day", "_per_year")))
        raise InputError("--y", f"{args.y} is not a pass total of {path}; choose one of {', '.join(have)}")
    x = args.x or (names[0] if names else None)
    if x is None or x not in names:
        raise InputError("--x", f"a pass total is drawn against a field axis of the run; its axes: {', '.join(names) or 'none'}")
    se = args.y + "_stderr" if args.y + "_stderr" in points[0] else None
    if se is None and args.y.endswith("_per_pass"):
        day = args.y[: -len("_per_pass")] + "_per_day_stderr"
        for p in points:
            if p.get(day) is not None and p.get("passes"):
                p[args.y + "_stderr"] = p[day] * p["window_days"] / p["passes"]
        se = args.y + "_stderr"
    q = Quantity(args.y, args.y, args.y, field_label(args.y), sem=se, std=se)
    with _drawn(out, args.overwrite) as tmp:
        plot_axes(points, q, tmp, x=x, hue=args.hue, facet=args.facet, log=args.log, logx=args.logx, title=args.title,
                  note="error bars: ±1 standard error of the pass totals")  # fmt: skip
    print(f"wrote {out} ({args.y} vs {x})", file=sys.stderr)
    return 0
