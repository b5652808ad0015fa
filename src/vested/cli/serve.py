"""``vested serve``: the web app over a project's record; and ``vested user password``, its log-in.

Registered on ``vested.cli.app`` (and the ``user`` group) by :mod:`vested.cli`.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from vested.cli import AsOption, JsonOption, ProjectOption, StoreOption, console, fail_with, finish, workspace

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    project: ProjectOption = None,
    store_url: StoreOption = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port to listen on.")] = 8000,
) -> None:
    """Serve the shared dashboard: portfolio, statements (sign, dispute, resolve), history, audit.

    Users log in with the password `vested user password USER` set. Off this machine (--host other
    than 127.0.0.1), cookies are Secure: serve it behind HTTPS (a reverse proxy).

    Example: vested serve --project vested-demo/helpdesk-vested
    """
    import uvicorn

    from vested.services.views import record_problem, workspaces
    from vested.web.app import create_app
    from vested.web.security import SecretFileError, load_secret

    problem = record_problem(project, store_url)
    if problem is not None:
        fail_with([problem], False)
    factory = workspaces(project, store_url)
    root = factory("vested web").root
    try:
        secret = load_secret(root)
    except (SecretFileError, OSError) as exc:
        console.print(f"[red]cannot keep the web secret in {root}: {exc}[/red]")
        raise typer.Exit(1) from None
    app = create_app(factory, secret, secure_cookies=host not in LOOPBACK)
    console.print(f"vested: serving {root} on http://{host}:{port} (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def user_password(
    user_id: Annotated[str, typer.Argument(help="The user whose web password is set.")],
    password_file: Annotated[Path | None, typer.Option("--password-file", help="Read the password from this file's "
                                                       "first line instead of asking twice.")] = None,
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password for the web app (asked twice, or read from --password-file); stored hashed (Argon2).

    Example: vested user password ana --as ana
    """
    from vested.core.diagnostics import error
    from vested.services.accounts import set_password

    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail_with([error("password", f"{password_file}: cannot read it ({exc})", "", (), "password")], as_json)
        password = lines[0] if lines else ""
    else:
        password = getpass.getpass(f"New password for {user_id}: ")
        if getpass.getpass("Again: ") != password:
            fail_with([error("password", "the two passwords differ", "type the same one twice", (), "password")], as_json)
    result = set_password(workspace(project, acting, store_url), user_id, password)
    finish(result, as_json, lambda user: {"user_id": user.user_id, "password": "set"},
           lambda user: console.print(f"{user.user_id}'s web password is set"))
