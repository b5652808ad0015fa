"""The commands of the shared record: users, sign-off, history, verify, reproduce, export, import.

Registered on ``vested.cli.app`` by :mod:`vested.cli`: ``vested user add|list``, ``vested sign``,
``vested dispute``, ``vested resolve``, ``vested history``, ``vested verify``, ``vested reproduce``,
``vested export`` and ``vested store import``. Each acts as ``--as USER`` (default ``VESTED_USER``,
else the operating system's user name) and records in ``--store`` (default: the project's vested.db).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vested.cli import AsOption, Command, Group, JsonOption, ProjectOption, StoreOption, console, finish, workspace
from vested.services.result import Result

if TYPE_CHECKING:
    from vested.services.record import VerifyResult
    from vested.services.signoff import AddedUser, StatementStatus

KeyOption = Annotated[Path, typer.Option("--key", help="Your private key file (written by `vested user add`).")]
PassphraseOption = Annotated[str | None, typer.Option("--passphrase", envvar="VESTED_PASSPHRASE",
                                                      help="The key's passphrase (or VESTED_PASSPHRASE).")]
AgreementArgument = Annotated[Path, typer.Argument(help="The agreement YAML file.")]
PeriodArgument = Annotated[str, typer.Argument(help="The settled month, YYYY-MM.")]

users: typer.Typer = typer.Typer(help="The users of the record: each of a party, in a role (customer, supplier, auditor), with a key.",
                    no_args_is_help=True, cls=Group)
store: typer.Typer = typer.Typer(help="The record itself: bring an old project folder in.", no_args_is_help=True, cls=Group)


@users.command("add", cls=Command)
def user_add(
    agreement: AgreementArgument,
    user_id: Annotated[str, typer.Argument(help="The new user's id, e.g. alice.")],
    party: Annotated[str, typer.Option("--party", help="The party the user belongs to (a party id of the agreement).")],
    role: Annotated[str, typer.Option("--role", help="customer, supplier or auditor (read-only).")],
    key: Annotated[Path, typer.Option("--key", help="Where to write the user's private key (0600; never overwritten).")],
    name: Annotated[str, typer.Option("--name", help="The user's name as people read it.")] = "",
    passphrase: PassphraseOption = None,
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user with a new Ed25519 key pair: the private key to --key, the public key into the record.

    Example: vested user add vested.yaml alice --party acme --role customer --key alice.key
    """
    from vested.render.record import users_json, users_table
    from vested.services.signoff import add_user

    result = add_user(workspace(project, acting, store_url), agreement, user_id, name or user_id, party, role, key, passphrase)
    def show(added: AddedUser) -> None:
        console.print(users_table([added.user]))
        console.print(f"private key: {added.key_file} (keep it; it never enters the record)")

    finish(result, as_json, lambda added: {**users_json([added.user]), "key_file": added.key_file}, show)


@users.command("list", cls=Command)
def user_list(project: ProjectOption = None, store_url: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the users of the record with their party and role.

    Example: vested user list
    """
    from vested.render.record import users_json, users_table
    from vested.services.signoff import list_users

    finish(list_users(workspace(project, None, store_url)), as_json, users_json, lambda found: console.print(users_table(found)))


def _show_status(as_json: bool, result: Result[StatementStatus]) -> None:
    from vested.render.record import signoff_json, signoff_text

    finish(result, as_json, lambda s: signoff_json(s.agreement_id, s.period, s.state, s.parties),
           lambda s: console.print(signoff_text(s.agreement_id, s.period, s.state, s.parties)))


def sign(
    agreement: AgreementArgument,
    period: PeriodArgument,
    key: KeyOption,
    passphrase: PassphraseOption = None,
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a settled month's statement for your party; final once both parties have signed.

    Example: vested sign vested.yaml 2025-06 --as alice --key alice.key
    """
    from vested.services.signoff import sign as sign_statement

    _show_status(as_json, sign_statement(workspace(project, acting, store_url), agreement, period, key, passphrase))


def dispute(
    agreement: AgreementArgument,
    period: PeriodArgument,
    line: Annotated[str, typer.Option("--line", help="The disputed line: its number (from 1) or its label.")],
    comment: Annotated[str, typer.Option("--comment", help="Why the line is disputed.")],
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dispute one line of a settled month's statement; it stays open until both parties sign a resolution.

    Example: vested dispute vested.yaml 2025-06 --line 3 --comment "the outage on the 12th was planned" --as bob
    """
    from vested.services.signoff import dispute as dispute_line

    _show_status(as_json, dispute_line(workspace(project, acting, store_url), agreement, period, line, comment))


def resolve(
    agreement: AgreementArgument,
    period: PeriodArgument,
    dispute_id: Annotated[int, typer.Option("--dispute", help="The dispute's number (see vested history).")],
    comment: Annotated[str, typer.Option("--comment", help="How it was resolved.")] = "",
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign the resolution of a dispute for your party; it is closed once both parties have.

    Example: vested resolve vested.yaml 2025-06 --dispute 41 --comment "agreed: planned work" --as alice
    """
    from vested.services.signoff import resolve as resolve_dispute

    _show_status(as_json, resolve_dispute(workspace(project, acting, store_url), agreement, period, dispute_id, comment))


def history(agreement: AgreementArgument, project: ProjectOption = None, store_url: StoreOption = None,
            as_json: JsonOption = False) -> None:
    """Every settled month of an agreement: its revisions (and why), signatures, disputes and status.

    Example: vested history vested.yaml
    """
    from vested.render.record import history_json, history_view
    from vested.services.record import history as history_of

    finish(history_of(workspace(project, None, store_url), agreement), as_json,
           lambda h: history_json(h.agreement_id, h.periods, h.entries, h.head),
           lambda h: console.print(history_view(h.agreement_id, h.periods, h.entries, h.head)))


def verify(
    bundle: Annotated[Path | None, typer.Option("--bundle", help="Verify an exported bundle offline instead of the store.")] = None,
    head: Annotated[str | None, typer.Option("--head", help="The ledger head you recorded earlier: proves nothing "
                                             "before it was rewritten.")] = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the whole ledger and every artefact it references: batch files, agreement texts, statements, signatures.

    Example: vested verify    (or: vested verify --bundle record.json)
    """
    from vested.render.serialize import to_jsonable
    from vested.services.record import verify as verify_record

    def show(r: VerifyResult) -> None:
        console.print(f"{r.entries} ledger entries, {r.files} batch files, {r.signatures} signatures checked; head {r.head}"
                      + ("" if r.ok else "; NOT VERIFIED"))

    finish(verify_record(workspace(project, None, store_url), bundle, head), as_json, lambda r: to_jsonable(r), show)


def reproduce(
    agreement_id: Annotated[str, typer.Argument(help="The agreement's id (as in its file's `id:`).")],
    period: PeriodArgument,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-price a settled month from the store alone and compare it byte for byte with the statement recorded.

    Example: vested reproduce helpdesk-vested 2025-06
    """
    from vested.render.serialize import to_jsonable
    from vested.services.record import reproduce as reproduce_month

    finish(reproduce_month(workspace(project, None, store_url), agreement_id, period), as_json, to_jsonable,
           lambda r: console.print(f"{r.agreement_id} {r.period} revision {r.revision}: "
                                   + ("reproduced byte for byte" if r.same else f"differs: {r.difference}")
                                   + f" (sha256 {r.recorded_hash[:16]})"))


def export(
    bundle: Annotated[Path, typer.Argument(help="The bundle file to write (JSON).")],
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a self-contained bundle (agreement versions, statements, ledger, public keys) an auditor verifies offline.

    Example: vested export record.json
    """
    from vested.render.serialize import to_jsonable
    from vested.services.record import export as export_record

    finish(export_record(workspace(project, None, store_url), bundle), as_json, lambda r: {"bundle": str(bundle), **to_jsonable(r)},
           lambda r: console.print(f"wrote {bundle}: {r.entries} ledger entries, head {r.head}"))


@store.command("import", cls=Command)
def store_import(
    folder: Annotated[Path, typer.Argument(help="The old project folder (batches/ and statements/ as files).")],
    agreements: Annotated[list[Path], typer.Option("--agreement", help="An agreement file its statements were settled "
                                                   "from (repeat for each).")],
    acting: AsOption = None,
    project: ProjectOption = None,
    store_url: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring a project folder kept as files into the record, without loss: every batch, then every statement.

    Example: vested store import old-project --agreement vested.yaml
    """
    from vested.services.record import import_folder

    finish(import_folder(workspace(project, acting, store_url), folder, list(agreements)), as_json,
           lambda i: {"batches": i.batches, "statements": i.statements},
           lambda i: console.print(f"imported {i.batches} batches and {i.statements} statements"))
