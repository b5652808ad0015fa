"""The ``vested`` command: a thin face over ``vested.services``; every command has ``--json``.

This module makes the Typer ``app``, the options and helpers the commands share, and ``main``
(the console script). The commands live in modules by job and are registered below, in the
order ``vested --help`` lists them:

* :mod:`~vested.cli.author`: write and check an agreement (check, price, schema, explain, version);
* :mod:`~vested.cli.run`: run it on real data (ingest, measure, scorecard, settle);
* :mod:`~vested.cli.deal`: test the deal before signing (economics, compare, align, simulate, tune);
* :mod:`~vested.cli.demo`: the help-desk story end to end (demo).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from vested.core.diagnostics import Diagnostic
from vested.render.diagnostics import diagnostics_json, format_diagnostics

app = typer.Typer(
    name="vested",
    help="Outcome-based (Vested) agreements as code: write, check, price, test and run them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
ProjectOption = Annotated[Path | None, typer.Option("--project", help="Project folder for batches and statements "
                                                    "(default: .vested in the current folder).")]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def fail_with(problems: Sequence[Diagnostic], as_json: bool) -> NoReturn:
    """The one way a command fails on user data: the diagnostics (on stderr, or as JSON), exit 1."""
    if as_json:
        emit_json({"ok": False, "diagnostics": diagnostics_json(problems)})
    else:
        print(format_diagnostics(problems), file=sys.stderr)
    raise typer.Exit(1)


# The command modules use the helpers above, so they are imported after them.
from vested.cli import author, deal, demo, init, run  # noqa: E402

for command in (init.init, author.check, author.price, run.ingest, run.measure, run.scorecard, run.settle, deal.economics,
                deal.compare, deal.align, deal.simulate, deal.tune, author.schema, author.explain, author.version, demo.demo):
    app.command()(command)


def main() -> None:
    """Run the CLI. User-data problems are diagnostics (exit 1); a bug is reported in one line, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never show users a traceback
        print(f"vested: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in vested, not in your files; please report it with the command you ran.", file=sys.stderr)
        sys.exit(70)
