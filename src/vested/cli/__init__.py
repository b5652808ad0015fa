"""The ``vested`` command: a thin face over ``vested.services``; every command has ``--json``.

This module makes the Typer ``app``, the options and helpers the commands share, and ``main``
(the console script). The commands live in modules by job and are registered below, in the
order ``vested --help`` lists them:

* :mod:`~vested.cli.author`: write and check an agreement (check, price, schema, explain, version);
* :mod:`~vested.cli.init`: start a project from a template (init);
* :mod:`~vested.cli.run`: run it on real data (ingest, measure, scorecard, settle);
* :mod:`~vested.cli.record`: the shared record (user add|list, sign, dispute, resolve, history, verify,
  reproduce, export, store import);
* :mod:`~vested.cli.report`: the board pack of an agreement, HTML or PDF (report);
* :mod:`~vested.cli.deal`: test the deal before signing (economics, compare, align, simulate, tune);
* :mod:`~vested.cli.demo`: the help-desk story end to end (demo);
* :mod:`~vested.cli.serve`: the web app (serve) and its log-in (user password).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from vested import __version__
from vested.core.diagnostics import Diagnostic
from vested.render.diagnostics import format_diagnostics
from vested.services.result import Result, result_json
from vested.services.workspace import Workspace, open_workspace

T = TypeVar("T")


def _flags_without_type(params: list[Any]) -> list[Any]:
    """A flag takes no value, so --help shows it without a type (Typer would write ``<bool>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A ``vested`` command: its flags are listed without a ``<bool>`` type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))


class Group(TyperGroup):
    """The ``vested`` command group: its flags (``--version``, ``--help``) are listed without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))


app = typer.Typer(
    name="vested",
    cls=Group,
    help="Outcome-based (Vested) agreements as code: write, check, price, test and run them.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion (README: shell completion)
    pretty_exceptions_enable=False,
)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _print_version(asked: bool) -> None:
    if asked:
        print(__version__)
        raise typer.Exit(0)


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                                   help="Print the version and exit.")] = False) -> None:
    # The options of `vested` itself; the commands' help is on each command.
    return None

ProjectOption = Annotated[Path | None, typer.Option("--project", help="Project folder: the record (vested.db), the "
                                                    "batch files (default: .vested in the current folder).")]
AsOption = Annotated[str | None, typer.Option("--as", "--who", help="The user who acts, recorded with what they do "
                                               "(default: VESTED_USER, else your login name).")]
StoreOption = Annotated[str | None, typer.Option("--store", help="The record's database URL, e.g. "
                                                 "postgresql+psycopg://user@host/db (default: VESTED_STORE, else "
                                                 "vested.db in the project folder; `folder`: the files of an old project).")]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def fail_with(problems: Sequence[Diagnostic], as_json: bool) -> NoReturn:
    """The one way a command fails on user data: the diagnostics (on stderr, or as JSON), exit 1."""
    if as_json:
        emit_json(result_json(Result(None, tuple(problems))))
    else:
        print(format_diagnostics(problems), file=sys.stderr)
    raise typer.Exit(1)


def finish(result: Result[T], as_json: bool, body: Callable[[T], Mapping[str, Any]], show: Callable[[T], None]) -> NoReturn:
    """The one way a command ends with a service's result.

    No value: :func:`fail_with` its diagnostics. Else JSON (``result_json``: ``ok``, the value's
    fields from ``body``, the diagnostics), or the value shown by ``show`` and the diagnostics on
    stderr. Exit 0 when the result is ok, else 1.
    """
    if result.value is None:
        fail_with(result.diagnostics, as_json)
    if as_json:
        emit_json(result_json(result, body(result.value)))
    else:
        show(result.value)
        if result.diagnostics:
            print(format_diagnostics(result.diagnostics), file=sys.stderr)
    raise typer.Exit(0 if result.ok else 1)


def workspace(project: Path | None = None, who: str | None = None, store: str | None = None) -> Workspace:
    """The workspace a command runs in: the project folder given (or ``.vested``), acting as ``who``, recording in ``store``."""
    return open_workspace(project, who, store=store)


# The command modules use the helpers above, so they are imported after them.
from vested.cli import author, deal, demo, init, record, report, run, serve  # noqa: E402

for command in (init.init, author.check, author.price, run.ingest, run.measure, run.scorecard, run.settle, record.sign,
                record.dispute, record.resolve, record.history, record.verify, record.reproduce, record.export,
                report.report, deal.economics, deal.compare, deal.align, deal.simulate, deal.tune, author.schema, author.explain,
                author.version, demo.demo, serve.serve):
    app.command(cls=Command)(command)
record.users.command("password", cls=Command)(serve.user_password)
app.add_typer(record.users, name="user")
app.add_typer(record.store, name="store")


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
