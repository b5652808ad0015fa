"""The commands for testing a deal before anyone signs: economics, compare, align, simulate, tune.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from rich.console import RenderableType

from vested.cli import JsonOption, console, emit_json, fail_with
from vested.core.diagnostics import Diagnostic
from vested.render.diagnostics import diagnostics_json, format_diagnostics

HistoryOption = Annotated[Path | None, typer.Option("--project", help="Project folder whose measured history drivers "
                                                    "with `resample: {metric}` draw from.")]
LeversOption = Annotated[str, typer.Option("--levers", help="Which supplier levers are pulled: best (the supplier's most "
                                                        "profitable choice), none, all, or ids separated by commas.")]


class DealReport(Protocol):
    """What the deal services return: a result when ``ok``, and the diagnostics either way."""

    @property
    def ok(self) -> bool: ...

    @property
    def diagnostics(self) -> Sequence[Diagnostic]: ...


R = TypeVar("R", bound=DealReport)


def report_deal(report: R, table: Callable[[R], RenderableType], as_json: bool, to_json: Callable[[R], dict[str, Any]]) -> None:
    """Print a deal report (a table, or JSON with its warnings); a report with errors fails with them."""
    if not report.ok:
        fail_with(report.diagnostics, as_json)  # no result to render
    if as_json:
        emit_json({"ok": True, **to_json(report), "diagnostics": diagnostics_json(report.diagnostics)})
        raise typer.Exit(0)
    console.print(table(report))
    if report.diagnostics:
        print(format_diagnostics(report.diagnostics), file=sys.stderr)
    raise typer.Exit(0)


def economics(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file (drivers, costs, levers).")],
    levers: LeversOption = "best",
    as_json: JsonOption = False,
) -> None:
    """Each party's economics per period and over the term: payments, costs, margin, NPV, IRR, payback."""
    from vested.deal import economics_files
    from vested.render.deal import economics_json, economics_table

    report_deal(economics_files(agreement, scenario, levers), economics_table, as_json, economics_json)


def compare(
    a: Annotated[Path, typer.Argument(help="The first agreement (usually the task-based one).")],
    b: Annotated[Path, typer.Argument(help="The second agreement (usually the Vested one).")],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario both are tested on.")],
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement (default: the "
                                                    "scenario's status_quo, else A), run with no levers.")] = None,
    levers: LeversOption = "best",
    as_json: JsonOption = False,
) -> None:
    """Two agreements side by side on one scenario, against the status quo, with a win-win verdict."""
    from vested.deal import compare_files
    from vested.render.deal import compare_json, compare_table

    report_deal(compare_files(a, b, scenario, status_quo, levers), compare_table, as_json, compare_json)


def align(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with the supplier's levers.")],
    as_json: JsonOption = False,
) -> None:
    """Incentive alignment: the supplier's most profitable levers under this agreement, and what they do to the customer."""
    from vested.deal import align_files
    from vested.render.deal import align_json, align_table

    report_deal(align_files(agreement, scenario), align_table, as_json, align_json)



def write_charts(report: Any, folder: Path | None, write: Any, as_json: bool) -> None:
    """Write a report's charts when asked (and the report is sound); say where, unless printing JSON."""
    if not report.ok or folder is None:
        return
    written = write(report, folder)
    if not as_json:
        console.print(f"[dim]charts: {', '.join(str(p) for p in written)}[/dim]")

def simulate(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file, with uncertain drivers and correlations.")],
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many scenarios to draw.")] = 10000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.")] = 1,
    levers: LeversOption = "best",
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement (default: the "
                                                    "scenario's status_quo, else this agreement), with no levers.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Write the histograms and fan chart (SVG and PNG) "
                                                "to this folder.")] = None,
    project: HistoryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Risk simulation: each party's distribution, the chance each (and both) beat the status quo, how often caps bind."""
    from vested.render.simulate import simulate_json, simulate_table, write_simulate_charts
    from vested.simulate_service import simulate_files

    report = simulate_files(agreement, scenario, runs, seed, levers, status_quo, project)
    write_charts(report, charts, write_simulate_charts, as_json)
    report_deal(report, simulate_table, as_json, simulate_json)


def tune(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with a `tune:` section.")],
    runs: Annotated[int | None, typer.Option("--runs", min=1, help="Scenarios drawn per candidate (default: the "
                                             "scenario's tune.runs).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same search.")] = 1,
    levers: LeversOption = "best",
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement, with no levers.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Write the Pareto frontier chart to this folder.")] = None,
    project: HistoryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the deal: terms that maximise the expected joint result while both beat the status quo often enough."""
    from vested.render.simulate import tune_json, tune_table, write_tune_charts
    from vested.simulate_service import tune_files

    report = tune_files(agreement, scenario, runs, seed, levers, status_quo, project)
    write_charts(report, charts, write_tune_charts, as_json)
    report_deal(report, tune_table, as_json, tune_json)
