"""``qrate show FILE.h5 [--json | --csv] [--head N] [--where AXIS=VALUE ...]``: one row of estimates per sweep point.

``--csv``, ``--head`` and ``--where`` stream: points are read, estimated and printed one by one
(:func:`qrate.store.stream.iter_points`), so a file of millions of points prints in bounded memory.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qrate._cli.args import ArgumentParser, int_in
from qrate.text import printable

#: heralding columns of every protocol: (header, estimate key, format, scale)
BASE_COLUMNS = (
    ("D_km", "ground_distance_km", "g", 1.0),
    ("elev", "elevation_deg", ".2f", 1.0),
    ("pulses", "pulses", ".3g", 1.0),
    ("succ", "successes", ".4g", 1.0),
    ("p_success", "p_success", ".4g", 1.0),
    ("±se", "p_success_stderr", ".1e", 1.0),
    ("rate_kbps", "rate_bps", ".4g", 1e-3),
    ("±std", "rate_std_bps", ".4g", 1e-3),
)


def _f(value: Any, fmt: str, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, str):
        return printable(value)
    return format(value * scale if scale != 1.0 else value, fmt or "g")


SMALL_COUNT = 1.0
"""Below this many expected successes a point prints its expected values and upper bound, not "0 ± 0"."""


def _cell(row: dict[str, Any], key: str, fmt: str, scale: float) -> str:
    """One table cell; a point expected to herald fewer than one success shows ``E<expected>`` and ``≤<upper>``."""
    expected = row.get("successes_expected")
    if isinstance(expected, int | float) and expected < SMALL_COUNT and not row.get("successes"):
        if key == "successes":
            return f"E{expected:.2g}"
        if key == "p_success" and row.get("p_success_expected") is not None:
            return f"E{row['p_success_expected']:.2g}"
        if key == "p_success_stderr" and row.get("p_success_ci_high") is not None:
            return f"≤{row['p_success_ci_high']:.2g}"
    if key == "noise_herald_fraction":
        value = row.get(key)
        if not isinstance(value, int | float):
            return "-"
        return f"{100 * value:.3g}" + ("!" if row.get("noise_dominated") else "")
    return _f(row.get(key), fmt, scale)


def columns(report: dict[str, Any], axes: Sequence[str] = (), stations: Sequence[str] = ()) -> list[tuple[str, str, str, float]]:
    """``(header, key, format, scale)`` of every column: the field axes, heralding, then the protocol's
    estimates (with ±std); for a pass run (``stations`` named) the step's UTC time and each station's
    elevation, Sun elevation and sky state instead of the distance and one elevation."""
    from qrate.estimates import show_quantities

    cols = [(a.rsplit(".", 1)[-1], a, "", 1.0) for a in axes] + list(BASE_COLUMNS)
    if stations:  # a pass run: each step's UTC time and, per station (named), elevation, Sun and sky
        cols = [(a.rsplit(".", 1)[-1], a, "", 1.0) for a in axes] + [("time_utc", "time_utc", "", 1.0)]
        for gs in stations:  # station names come from the file: printed through the sanitizer
            name = printable(gs)
            cols += [
                (f"{name}:elev", f"{gs}_elevation_deg", ".2f", 1.0),
                (f"{name}:sun", f"{gs}_sun_elevation_deg", ".1f", 1.0),
                (f"{name}:sky", f"{gs}_sky", "", 1.0),
            ]
        cols += [c for c in BASE_COLUMNS if c[1] not in ("ground_distance_km", "elevation_deg")]
    for q in show_quantities(report):
        cols.append((q.column, q.key, q.fmt, q.scale))
        if q.std is not None:
            cols.append(("±std", q.std, q.fmt, q.scale))
    return cols


def legend(report: dict[str, Any]) -> list[str]:
    """One line per protocol column: what it means."""
    from qrate.estimates import show_quantities

    return [f"#   {q.column}: {q.legend}" for q in show_quantities(report)]


def print_table(meta: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    """Print the estimates as a fixed-width table (rates in kbit/s, ± = 1σ across batches, ±se = standard error)."""
    report = meta["report"]
    print(
        f"# {printable(str(meta.get('scenario_name')))} ({printable(str(meta.get('protocol')))}), seed {meta.get('seed')},"
        f" model {meta.get('model_version')}, complete={bool(meta.get('complete'))}"
        + (", EXPECTED VALUES (nothing sampled)" if meta.get("sampling_mode") == "expected" else "")
    )
    axes = list(meta.get("axes", []))
    for a in axes:
        print(f"#   {printable(a.rsplit('.', 1)[-1])}: sweep axis {printable(a)}")
    for line in legend(report):
        print(line)
    stations = list(dict.fromkeys(k[: -len("_sky")] for r in rows for k in r if k.endswith("_sky"))) if "pass" in axes else []
    cols = columns(report, axes, stations)
    if any(r.get("noise_herald_fraction") is not None for r in rows):
        cols.append(("noise%", "noise_herald_fraction", "", 1.0))
        print("#   noise%: heralds expected from noise clicks (dark counts, background), %; ! marks a noise-dominated point")
    if any(_cell(r, "successes", "", 1.0).startswith("E") for r in rows):
        print("#   E: the expected value where fewer than one success is expected; ≤: the upper end of p_success's 95% interval")
    cells = [[_cell(r, key, fmt, scale) for _, key, fmt, scale in cols] for r in rows]
    widths = [max([len(h), 9, *(len(c[j]) for c in cells)]) for j, (h, *_) in enumerate(cols)]
    print(" ".join(f"{h:>{w}}" for (h, *_), w in zip(cols, widths, strict=True)))
    for c in cells:
        print(" ".join(f"{v:>{w}}" for v, w in zip(c, widths, strict=True)))


def print_passes(passes: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Per-pass totals (± standard error) and the long-term summary of a pass run (per grid point of its
    field axes, if it has any): per day and per year always with the days, passes, night passes and
    factors used, marked not representative for a window shorter than a day."""
    if "points" in summary:
        for point in summary["points"]:
            axes = {a: point[a] for a in summary["axes"]}
            print("# " + ", ".join(f"{a} = {v}" for a, v in axes.items()))
            mine = [{k: v for k, v in p.items() if k not in axes} for p in passes if all(p.get(a) == v for a, v in axes.items())]
            print_passes(mine, {k: v for k, v in point.items() if k not in axes})
        return
    totals = [k for k in passes[0] if f"{k}_stderr" in passes[0]]
    night = summary.get("night_passes", 0)
    print(
        f"# {summary['passes']} passes ({night} at night) in a window of {summary['window_days']:.4g} days;"
        " totals per pass ± standard error"
    )
    head = f"{'pass':>5} {'start_utc':>24} {'dur_s':>7} {'sun_max':>7} " + " ".join(f"{printable(k):>24}" for k in totals)
    print(head)
    for p in passes:
        cells = " ".join(f"{_pass_cell(p, k):>24}" for k in totals)
        sun = p.get("max_sun_elevation_deg")
        print(f"{p['pass']:>5} {printable(p['start_utc']):>24} {p['duration_s']:>7.1f} {_f(sun, '.1f'):>7} {cells}")
    basis = (
        f"from {summary.get('counted_passes', summary['passes'])} {'night ' if summary.get('night_only') else ''}passes in"
        f" {summary['window_days']:.4g} days, clear-sky fraction {summary.get('clear_sky_fraction', 1.0):g}"
    )
    if summary.get("long_term_note"):  # a window shorter than a day: the figures carry the warning
        print(f"#   long-term totals {basis}, {summary['long_term_note']}:")
    else:
        print(f"#   long-term totals {basis} ({summary['passes'] / summary['window_days']:.3g} passes per day):")
    for k in totals:
        if f"{k}_per_day" in summary:
            day = _pass_cell({"v": summary[k + "_per_day"], "v_stderr": summary[k + "_per_day_stderr"]}, "v")
            year = _pass_cell({"v": summary[k + "_per_year"], "v_stderr": summary[k + "_per_year_stderr"]}, "v")
            print(f"#   {printable(k)}: {day} per day, {year} per year")


def _pass_cell(p: dict[str, Any], key: str) -> str:
    """A pass total ± its standard error; with fewer than one expected herald, the expected count and its upper bound."""
    expected, upper = p.get(key + "_expected"), p.get(key + "_upper")
    if isinstance(expected, int | float) and expected < SMALL_COUNT and not p.get(key):
        return f"E{expected:.2g} (≤{upper:.2g})" if isinstance(upper, int | float) else f"E{expected:.2g}"
    if p.get(key) == 0 and not p.get(key + "_stderr"):
        return "0"
    return _pm(p[key], p[key + "_stderr"])


def _pm(value: Any, se: Any) -> str:
    return f"{_f(value, '.4g')} ± {_f(se, '.2g')}"


def print_csv(meta: dict[str, Any], rows: Iterable[dict[str, Any]], lead: Sequence[str] | None = None) -> None:
    """One CSV row per point: the axes (or the ``lead`` columns), then every scalar estimate (rates in bit/s),
    as ``qrate.load`` gives them.

    Rows are written as they come (the columns are those of the first row).
    """
    import csv
    import sys

    axes = list(lead) if lead is not None else [*meta.get("axes", []), "ground_distance_km"]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    keys: list[str] | None = None
    for r in rows:
        if keys is None:
            keys = axes + [k for k in r if k not in axes and not isinstance(r.get(k), dict | list)]
            writer.writerow(keys)
        writer.writerow(["" if r.get(k) is None else r[k] for k in keys])


SUMMARY_POINTS = 200
"""Above this many points ``qrate run`` ends with a summary (:func:`print_summary`) instead of every row."""


def print_summary(summary: Any) -> None:
    """A few lines describing a large sweep (:class:`qrate.store.stream.Summary`) and how to read it."""
    meta, path = summary.meta, printable(str(summary.path))
    print(
        f"# {printable(str(meta.get('scenario_name')))} ({printable(str(meta.get('protocol')))}), seed {meta.get('seed')},"
        f" model {meta.get('model_version')}, complete={bool(meta.get('complete'))}"
    )
    print(
        f"points: {summary.points_with_batches} of {summary.points} hold batches; {summary.batches} batches,"
        f" {summary.pulses:.4g} pulses, {summary.successes:.4g} heralded successes"
    )
    lo, hi = summary.p_success
    print(f"p_success per point: {lo:.5g} .. {hi:.5g}")
    if summary.rate_bps is not None:
        print(f"rate per point: {summary.rate_bps[0] / 1e3:.4g} .. {summary.rate_bps[1] / 1e3:.4g} kbit/s")
    print(f"file: {path} ({summary.file_bytes / 2**20:.1f} MiB)")
    print(f"every estimate: qrate show {path} --head 20 | --where AXIS=VALUE | --csv  (or qrate.load in Python)")


def _where(items: Sequence[str]) -> dict[str, str]:
    from qrate.errors import InputError

    out = {}
    for item in items:
        axis, eq, value = item.partition("=")
        if not eq or not axis.strip() or not value.strip():
            raise InputError("--where", f"expected AXIS=VALUE (e.g. ground_distance_km=500), got {item!r}")
        out[axis.strip()] = value.strip()
    return out


def _streamed(path: str, where: dict[str, str], head: int | None) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """``(meta, estimates of each point)`` read point by point (see :func:`qrate.store.stream.iter_points`)."""
    from itertools import islice

    from qrate.store.load import point_estimates
    from qrate.store.reader import Results
    from qrate.store.stream import iter_points

    if where:
        from qrate.errors import InputError
        from qrate.scenario import load_scenario_text
        from qrate.store.stream import read_meta_only

        sweep = load_scenario_text(read_meta_only(path)["scenario_toml"]).sweep
        known = [*sweep.axes(), "ground_distance_km"]
        for axis in where:
            if axis not in known:
                raise InputError("--where", f"{axis!r} is not a sweep axis of {path}; its axes: {', '.join(known)}")
    points = iter_points(path, where=where)
    first = next(points, None)
    if first is None:
        from qrate.store.stream import read_meta_only

        return read_meta_only(path), iter(())
    meta = {**first[0], "axes": list(first[1].params.get("axes") or {})}
    results = Results(Path(path), first[0], ())

    def estimates() -> Iterator[dict[str, Any]]:
        for _, rec in islice(itertools.chain([first], points), head):
            yield point_estimates(results, rec)

    return meta, estimates()


def main(argv: list[str]) -> int:
    """Print the per-point estimates of a results file as a table, or as JSON / CSV."""
    from qrate.store.load import read_estimates, read_passes

    parser = ArgumentParser(prog="qrate show", description="Print the per-point estimates stored in a results file.")
    parser.add_argument("file", metavar="FILE.h5")
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of objects, one per sweep point"
        " (for a pass run: an object with the steps, the per-pass totals and the per-day summary)",
    )
    form.add_argument("--csv", action="store_true", help="print CSV: one row per point, the sweep axes first, rates in bit/s")
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"print every point's row even for a file of more than {SUMMARY_POINTS} points (read into memory;"
        " otherwise such a file prints a summary: use --csv, --head or --where to stream its rows)",
    )
    parser.add_argument("--head", type=int_in("--head", 1), default=None, metavar="N", help="print the first N points only")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="AXIS=VALUE",
        help="only points whose sweep axis (dotted path, or ground_distance_km) has this value (repeatable)",
    )
    args = parser.parse_args(argv)
    from qrate.store import expected, frontier

    if frontier.is_frontier(args.file):  # qrate require --over --out: a threshold versus a second field
        meta, rows = frontier.read(args.file)
        return _show_frontier(meta, rows, args.json, args.csv)
    if expected.is_expected(args.file) and (args.csv or args.head is not None or args.where):
        meta, rows = expected.read(args.file)  # estimates without batch rows: selected in memory
        rows = _selected(rows, _where(args.where), [*meta.get("axes", []), "ground_distance_km"])[: args.head]
        if args.json:
            from qrate.errors import InputError

            raise InputError("--json", "--json prints the whole file; use --csv with --head / --where")
        (print_csv if args.csv else print_table)(meta, rows)
        return 0
    if args.csv or args.head is not None or args.where:
        if args.json:
            from qrate.errors import InputError

            raise InputError("--json", "--json prints the whole file; use --csv to stream with --head / --where")
        meta, stream = _streamed(args.file, _where(args.where), args.head)
        if args.csv:
            print_csv(meta, stream)
        else:
            print_table(meta, list(stream))  # --head / --where: the selected points (the columns depend on them all)
        return 0
    if not args.json and not args.all and not expected.is_expected(args.file) and _large(args.file):
        from qrate.store.stream import summarize

        print_summary(summarize(args.file))  # every row checked, in bounded memory
        return 0
    meta, rows = read_estimates(args.file)
    passes, summary = read_passes(args.file) if "pass" in meta.get("axes", []) else ([], {})
    if args.json:
        print(json.dumps({"steps": rows, "passes": passes, "summary": summary} if passes else rows, indent=2))
    elif args.csv:
        print_csv(meta, rows)
    else:
        print_table(meta, rows)
        if passes:
            print_passes(passes, summary)
    return 0


def _large(path: str) -> bool:
    """Whether a results file holds more than :data:`SUMMARY_POINTS` points and is no pass run (whose
    per-pass totals ``qrate show`` prints whole): plain ``qrate show`` then prints a summary."""
    from qrate.scenario.load import parse_toml
    from qrate.store.scan import opened

    with opened(path) as o:
        if o.points.shape[0] <= SUMMARY_POINTS:
            return False
        return "passes" not in parse_toml(o.meta["scenario_toml"])


def _selected(rows: list[dict[str, Any]], where: dict[str, str], axes: Sequence[str]) -> list[dict[str, Any]]:
    """The rows whose axis values equal ``where``'s (numbers compared as numbers)."""
    from qrate.errors import InputError

    for axis in where:
        if axis not in axes:
            raise InputError("--where", f"{axis!r} is not a sweep axis; its axes: {', '.join(axes)}")

    def same(value: Any, text: str) -> bool:
        try:
            return isinstance(value, int | float) and float(text) == float(value)
        except ValueError:
            return str(value) == text

    return [r for r in rows if all(same(r.get(a), v) for a, v in where.items())]


def _show_frontier(meta: dict[str, Any], rows: list[dict[str, Any]], as_json: bool, as_csv: bool) -> int:
    """A frontier file (``qrate require --over --out``): one row per value of its second field."""
    if as_json:
        print(json.dumps(rows, indent=2))
    elif as_csv:
        print_csv({**meta, "axes": []}, [{k: v for k, v in r.items()} for r in rows], lead=[meta["over"]])
    else:
        print(
            printable(
                f"# {meta.get('scenario_name')}: threshold of {meta.get('vary')} for {meta.get('target')}, model {meta.get('model_version')}"
            )
        )
        keys = list(rows[0]) if rows else []
        widths = [max(len(k.rsplit(".", 1)[-1]), 12) for k in keys]
        print(" ".join(f"{k.rsplit('.', 1)[-1]:>{w}}" for k, w in zip(keys, widths, strict=True)))
        for r in rows:
            print(" ".join(f"{_f(r.get(k), '.6g'):>{w}}" for k, w in zip(keys, widths, strict=True)))
    return 0
