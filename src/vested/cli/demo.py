"""The ``demo`` command: the help-desk story told end to end in the terminal (or as JSON).

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vested.cli import JsonOption, console, emit_json, fail_with, workspace

if TYPE_CHECKING:
    from vested.render.demo import DemoRecord


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the generated data, the project and report.html.")]
    = Path("vested-demo"),
    as_json: JsonOption = False,
    serve: Annotated[bool, typer.Option("--serve", help="Then open the demo's record in the web dashboard, with a "
                                        "password for each of its users (printed).")] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="With --serve: the port on 127.0.0.1.")] = 8000,
) -> None:
    """Tell the help-desk story end to end: check, generate data, ingest, settle, sign off, verify, report.

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
    if serve and view.record is not None:
        _serve(view.record, port)


def _serve(record: DemoRecord, port: int) -> None:
    """A fresh password for each demo user (printed), then the dashboard on the demo's record."""
    import secrets

    from vested.cli.serve import serve as serve_dashboard
    from vested.services.accounts import set_password

    root = Path(record.store).parent
    for user, name, role, party, _ in record.users:
        password = secrets.token_urlsafe(12)
        done = set_password(workspace(root, user), user, password)
        if not done.ok:
            fail_with(done.diagnostics, False)
        console.print(f"log in as [bold]{user}[/bold] ({role} of {party}, {name}): password [bold]{password}[/bold]")
    serve_dashboard(project=root, store_url=None, host="127.0.0.1", port=port)
