"""The ``report`` command: the board pack of an agreement, as HTML or PDF.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vested.cli import JsonOption, ProjectOption, StoreOption, console, emit_json, fail_with, workspace
from vested.cli.deal import LeversOption
from vested.cli.run import FromOption, PeriodOption, ToOption
from vested.services.result import result_json


class Format(StrEnum):
    html = "html"
    pdf = "pdf"


def report(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: PeriodOption = None,
    first: FromOption = None,
    last: ToOption = None,
    scenario: Annotated[Path | None, typer.Option("--scenario", help="A scenario: the supplier's cost to serve (so its "
                                                  "margin) and, when it names a status_quo, what that contract would "
                                                  "have cost.")] = None,
    against: Annotated[Path | None, typer.Option("--against", help="Another agreement (the task-based one) settled in "
                                                 "its own project, to compare with month for month.")] = None,
    against_project: Annotated[Path | None, typer.Option("--against-project", help="The project folder where --against "
                                                         "is settled.")] = None,
    against_store: Annotated[str | None, typer.Option("--against-store", help="The record's URL where --against is "
                                                      "settled (default: vested.db in --against-project).")] = None,
    levers: LeversOption = "best",
    output: Annotated[Format, typer.Option("--format", help="html (one self-contained file) or pdf.")] = Format.html,
    out: Annotated[Path | None, typer.Option("--out", help="The file to write (default: AGREEMENT-ID-pack.html or .pdf "
                                             "in the current folder).")] = None,
    project: ProjectOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """The board pack a governance meeting reads: each party's result, the scorecard, caps that bind,
    statements, disputes, decisions and sign-off (every settled month unless --period or --from/--to).

    Example: vested report vested.yaml --scenario scenario.yaml --format pdf --out pack.pdf
    """
    from vested.render.pack_html import render_pack_html
    from vested.render.serialize import to_jsonable
    from vested.services.report import Against, board_pack
    from vested.services.running import month_range

    months = None
    if period or first or last:
        months, problem = month_range(period, first, last)
        if problem is not None:
            fail_with([problem], as_json)
    other = Against(against, workspace(against_project, None, against_store)) if against is not None else None
    result = board_pack(workspace(project, None, store), agreement, months, scenario, other, levers)
    view = result.value
    if view is None:
        fail_with(result.diagnostics, as_json)
    if output is Format.pdf:
        from vested.render.pack_pdf import render_pack_pdf

        data = render_pack_pdf(view)
    else:
        data = render_pack_html(view).encode("utf-8")
    path = out or Path(f"{view.agreement_id}-pack.{output.value}")
    path.write_bytes(data)
    if as_json:
        emit_json(result_json(result, {"file": str(path), "format": output.value, "agreement_id": view.agreement_id,
                                       "version_hash": view.version_hash, "made": view.made,
                                       "months": [m.period for m in view.months], "summary": to_jsonable(view.summary),
                                       "bindings": to_jsonable(view.bindings)}))
    else:
        console.print(f"board pack of {view.agreement_id}, {view.period_text}: {path}", highlight=False)
        for note in result.diagnostics:
            console.print(f"[yellow]{note.severity}:[/] {note.message}", highlight=False)
    raise typer.Exit(0 if result.ok else 1)
