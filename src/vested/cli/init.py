"""The ``init`` command: start a project folder from a template (``vested init DIR --template NAME``).

Registered on ``vested.cli.app`` by :mod:`vested.cli`; the work is ``vested.services.init``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vested.cli import JsonOption, console, emit_json, fail_with, finish, workspace


def init(
    folder: Annotated[Path | None, typer.Argument(help="The folder to create (new or empty).")] = None,
    template: Annotated[str | None, typer.Option("--template", help="The template to start from (see --list).")] = None,
    list_them: Annotated[bool, typer.Option("--list", help="List the templates, one line each, and write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty (the template's files "
                                        "are overwritten, other files kept).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start a project from a template: both agreements, the scenario, generated data and a README with the next commands."""
    from vested.core.diagnostics import error
    from vested.services.init import Initialised, list_templates
    from vested.services.init import init as init_folder

    if list_them:
        templates = list_templates()
        if as_json:
            emit_json([{"name": t.name, "title": t.title, "story": t.story} for t in templates])
        else:
            width = max(len(t.name) for t in templates)
            for t in templates:
                print(f"{t.name:<{width}}  {t.story}")
        return
    if folder is None or template is None:
        fail_with([error("options", "say which folder and which template: vested init DIR --template NAME",
                         "`vested init --list` shows the templates", (), "command")], as_json)
    def show(done: Initialised) -> None:
        console.print(f"wrote the {template} template in {folder}:")
        for name in done.files:
            console.print(f"  {name}")
        print(f"next: cd {folder}, then follow README.md (vested check vested.yaml, vested compare ...)")

    finish(init_folder(workspace(), folder, template, force), as_json,
           lambda done: {"folder": done.folder, "template": done.template, "files": list(done.files)}, show)
