"""The commands for testing a deal before anyone signs: economics, compare, align, simulate, tune.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from vested.cli import JsonOption, console, workspace
from vested.cli.export import CsvOption, XlsxOption, finish_tables
from vested.cli.progress import progress_bar
from vested.services.result import Result

T = TypeVar("T")

HistoryOption = Annotated[Path | None, typer.Option("--project", help="Project folder whose measured history drivers "
                                                    "with `resample: {metric}` draw from.")]
LeversOption = Annotated[str, typer.Option("--levers", help="Which supplier levers are pulled: best (the supplier's most "
                                                        "profitable choice), none, all, or ids separated by commas.")]


def economics(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file (drivers, costs, levers).")],
    levers: LeversOption = "best",
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each party's economics per period and over the term: payments, costs, margin, NPV, IRR, payback.

    Example: vested economics examples/helpdesk/vested.yaml examples/helpdesk/scenario.yaml --xlsx economics.xlsx
    """
    from vested.render.deal import economics_json, economics_table
    from vested.render.sheets import economics_sheets
    from vested.services.deal import economics as evaluate

    finish_tables(evaluate(workspace(), agreement, scenario, levers), as_json,
                  lambda run: economics_json(run.economics, run.lever_choice, run.against_status_quo),
                  lambda run: console.print(economics_table(run.economics, run.lever_choice, run.against_status_quo)),
                  lambda run: economics_sheets(run.economics), csv, xlsx)


def compare(
    a: Annotated[Path, typer.Argument(help="The first agreement (usually the task-based one).")],
    b: Annotated[Path, typer.Argument(help="The second agreement (usually the Vested one).")],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario both are tested on.")],
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement (default: the "
                                                    "scenario's status_quo, else A), run with no levers.")] = None,
    levers: LeversOption = "best",
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Two agreements side by side on one scenario, against the status quo, with a win-win verdict.

    Example: vested compare examples/helpdesk/task-based.yaml examples/helpdesk/vested.yaml --scenario examples/helpdesk/scenario.yaml
    """
    from vested.render.deal import compare_json, compare_table
    from vested.render.sheets import compare_sheets
    from vested.services.deal import compare as compare_agreements

    finish_tables(compare_agreements(workspace(), a, b, scenario, status_quo, levers), as_json, compare_json,
                  lambda comparison: console.print(compare_table(comparison)),
                  compare_sheets, csv, xlsx)


def align(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with the supplier's levers.")],
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Incentive alignment: the supplier's most profitable levers under this agreement, and what they do to the customer.

    Example: vested align examples/helpdesk/vested.yaml examples/helpdesk/scenario.yaml
    """
    from vested.render.deal import align_json, align_table
    from vested.render.sheets import align_sheets
    from vested.services.deal import align as find_alignment

    finish_tables(find_alignment(workspace(), agreement, scenario), as_json, align_json,
                  lambda alignment: console.print(align_table(alignment)),
                  align_sheets, csv, xlsx)



def write_charts(result: Result[T], folder: Path | None, write: Callable[[T, Path], list[Path]], as_json: bool) -> None:
    """Write a result's charts when asked (and the result is sound); say where, unless printing JSON."""
    if not result.ok or result.value is None or folder is None:
        return
    written = write(result.value, folder)
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
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Risk simulation: each party's distribution, the chance each (and both) beat the status quo, how often caps bind.

    Example: vested simulate examples/helpdesk/vested.yaml examples/helpdesk/scenario.yaml --runs 2000
    """
    from vested.render.sheets import simulate_sheets
    from vested.render.simulate import simulate_json, simulate_table
    from vested.services.charts import write_simulate_charts
    from vested.services.risk import simulate as simulate_deal

    with progress_bar(as_json, f"simulating {runs:,} runs"):  # one step: the bar shows it is working
        result = simulate_deal(workspace(project), agreement, scenario, runs, seed, levers, status_quo)
    write_charts(result, charts, write_simulate_charts, as_json)
    finish_tables(result, as_json, simulate_json, lambda simulation: console.print(simulate_table(simulation)),
                  simulate_sheets, csv, xlsx)


def tune(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with a `tune:` section.")],
    runs: Annotated[int | None, typer.Option("--runs", min=1, help="Scenarios drawn per candidate (default: the "
                                             "scenario's tune.runs).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same search.")] = 1,
    levers: LeversOption = "best",
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement, with no levers.")] = None,
    min_share: Annotated[str | None, typer.Option("--min-share", metavar="SHARE", help="Each party must get at least "
                                                  "this share of the value created, e.g. 40% (default: the scenario's "
                                                  "tune.split, else any split).")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Write the Pareto frontier chart to this folder.")] = None,
    project: HistoryOption = None,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the deal: terms that maximise the expected joint result while both beat the status quo often enough.

    Example: vested tune examples/helpdesk/vested.yaml examples/helpdesk/scenario.yaml --min-share 40%
    """
    from vested.render.sheets import tune_sheets
    from vested.render.simulate import tune_json, tune_table
    from vested.services.charts import write_tune_charts
    from vested.services.risk import tune as tune_deal

    with progress_bar(as_json, "evaluating the terms as written") as tell:
        result = tune_deal(workspace(project), agreement, scenario, runs, seed, levers, status_quo, min_share, tell)
    write_charts(result, charts, write_tune_charts, as_json)
    finish_tables(result, as_json, tune_json, lambda tuned: console.print(tune_table(tuned)),
                  tune_sheets, csv, xlsx)
