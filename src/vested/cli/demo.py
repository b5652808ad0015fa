"""The ``demo`` command: the help-desk story told end to end in the terminal (or as JSON).

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vested.cli import JsonOption, console, emit_json


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the generated data, the project and report.html.")]
    = Path("vested-demo"),
    as_json: JsonOption = False,
) -> None:
    """Tell the help-desk story end to end: check, generate data, ingest, settle, score, report.

    Example: vested demo --out vested-demo
    """
    from rich.progress import Progress

    from vested.render.demo import demo_json, demo_sections
    from vested.services.demo import demo_view, run_story

    if as_json:
        view = demo_view(run_story(out))
        emit_json(demo_json(view))
        raise typer.Exit(0 if view.ok else 1)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def tell(step: str, done: int, total: int) -> None:
            progress.update(task, description=step)

        view = demo_view(run_story(out, tell))
    for section in demo_sections(view):
        console.print(section)
    if not view.ok:
        raise typer.Exit(1)
