"""``qrate provision`` says only what holds: reproducible figure data, a uniform-x comparison under
the same wavelength constraints as the optimum, help text for every option, plain bad-input lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qrate.cli import main
from qrate.provision.evaluate import constrained_uniform_first_stage, wavelength_violations
from qrate.provision.model import ModelOptions
from qrate.provision.study import ProvisionConfig, build, run_provision

RESULTS = Path(__file__).resolve().parents[2] / "results"


def test_fig4_data_is_byte_identical_on_every_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qrate.provision.figures as figures

    monkeypatch.setattr(figures, "APPS_4B", (50, 100))  # two studies for Fig. 4(b) keep the test short
    texts = []
    for run in ("a", "b"):
        figures.make_figures(tmp_path / run, quick=True, seed=4)
        texts.append((tmp_path / run / "fig4_provision.json").read_bytes())
    assert texts[0] == texts[1]
    assert b"seconds" not in texts[0]  # solve times vary from run to run: not in the data
    committed = RESULTS / "fig4_provision.json"
    if committed.exists():
        assert "seconds" not in committed.read_text()


def test_figures_report_solve_times_on_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import qrate.provision.figures as figures

    monkeypatch.setattr(figures, "APPS_4B", (50,))
    assert main(["provision", "--figures", str(tmp_path), "--quick"]) == 0
    captured = capsys.readouterr()
    assert "solved in" in captured.err and "solved in" not in captured.out


EXACT = ModelOptions(wl_mode="exact", n_wavelengths=16)


def test_uniform_curve_under_exact_wavelengths_never_beats_the_optimum() -> None:
    config = ProvisionConfig(n_apps=12, seed=3, random_draws=2, oos_scenarios=0, uniform_x=tuple(range(11)), model=EXACT)
    r = run_provision(config)
    curve = r["uniform_x_curve"]
    feasible = [c for c in curve if c["total"] is not None]
    assert [c["x"] for c in feasible][:2] == [0, 1] and len(feasible) < len(curve)  # some x do not fit the wavelengths
    # every uniform point shown is a feasible first stage of the same model: the SP optimum is at most its cost
    assert all(c["total"] >= r["sp_total"] * (1 - 1e-6) for c in feasible), (r["sp_total"], curve)
    assert "uniform_x_note" in r and "wavelength" in r["uniform_x_note"]


def test_constrained_uniform_stages_are_feasible() -> None:
    config = ProvisionConfig(n_apps=12, seed=3, random_draws=2, oos_scenarios=0, model=EXACT)
    problem = build(config)[0]
    for x in range(0, 6):
        first = constrained_uniform_first_stage(problem, x, "exact", 16)
        if first is not None:
            assert wavelength_violations(problem, first, 16) == []
            assert (first.reservations == x).all()
    assert constrained_uniform_first_stage(problem, 3, "exact", 2) is None  # x > W: never feasible
    assert constrained_uniform_first_stage(problem, 3, "aggregate", 2) is None
    none = constrained_uniform_first_stage(problem, 7, "none", None)
    assert none is not None and (none.reservations == 7).all()


def test_table_marks_infeasible_uniform_points(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--apps", "12", "--seed", "3", "--wl-mode", "aggregate", "--wavelengths", "3",
                 "--oos-scenarios", "0", "--random-draws", "2", "--uniform-x", "0..3"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("uniform x:"))
    assert "0:" in line and "infeasible" in line
    assert "at most --wavelengths services per link" in out


def test_every_option_has_help_and_the_description_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    from qrate._cli.provision import parser

    p = parser()
    missing = [a.option_strings for a in p._actions if not a.help]
    assert missing == []
    assert "``" not in (p.description or "")
    assert main(["provision", "--help"]) == 0
    assert "``" not in capsys.readouterr().out


@pytest.mark.parametrize(("value", "needle"), [("0", "at least 1 application"), ("-3", "at least 1 application"),
                                               ("many", "number of applications")])
def test_apps_bad_values_say_what_is_expected(value: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--apps", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "--apps" in err
    assert "or 'all-pairs'" not in err.split("got")[-1]  # not "got 0 or 'all-pairs'"


def test_json_uniform_points_keep_their_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "--apps", "12", "--seed", "3", "--wl-mode", "aggregate", "--wavelengths", "3",
                 "--oos-scenarios", "0", "--random-draws", "2", "--uniform-x", "0..2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(set(c) == {"x", "stage1", "stage2", "total"} for c in out["uniform_x_curve"])
