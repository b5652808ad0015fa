"""Two-party sign-off on the shared record: users, signatures, disputes and their resolution.

    add_user(ws, agreement, user_id, name, party, role, key_file, passphrase=None) -> Result[AddedUser]
    list_users(ws) -> Result[tuple[User, ...]]
    sign(ws, agreement, period, key_file, passphrase=None) -> Result[StatementStatus]
    dispute(ws, agreement, period, line, comment) -> Result[StatementStatus]
    resolve(ws, agreement, period, dispute_id, comment) -> Result[StatementStatus]

Every action is authorised here, in the service, by the acting user's party and role
(``vested.core.roles.authorise``) before the store is asked; the store checks again what only it
can see (a signature against the signer's public key, a second signature of a party). Nobody acts
for the other party. The first user of a party is added by whoever runs the command (there is no
one yet to authorise it); every later one by a user of that party (or, for an auditor, of either).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vested.core.diagnostics import Diagnostic, error
from vested.core.model import Agreement
from vested.core.roles import Member, authorise
from vested.core.signoff import Parties, SignoffState, signing_payload, statement_status
from vested.services.agreements import AgreementRef, load_for_run
from vested.services.result import Refused, Result
from vested.services.workspace import FOLDER, Workspace
from vested.storage import StorageError
from vested.storage.record import StatementRecord, StoreError, User

T = TypeVar("T")
DOCUMENT = "command"


@dataclass(frozen=True)
class AddedUser:
    user: User
    key_file: str
    """Where the private key was written (0600; it never enters the store)."""


@dataclass(frozen=True)
class StatementStatus:
    """A period's statement as both parties see it: its current revision and where its sign-off is."""

    agreement_id: str
    period: str
    statement: StatementRecord
    state: SignoffState
    parties: Parties

    @property
    def awaiting(self) -> tuple[str, ...]:
        return self.state.awaiting(self.parties)


def refusal(message: str, hint: str = "") -> Refused:
    return Refused([error("refused", message, hint, (), DOCUMENT)])


def recording(ws: Workspace, step: Callable[[], Result[T]]) -> Result[T]:
    """Run a step on the record; what the record refuses, or cannot do, becomes a diagnostic."""
    from vested.keys import KeyFileError

    try:
        return step()
    except Refused as refused:
        return Result(None, refused.diagnostics)
    except KeyFileError as exc:
        return Result(None, (error("key", str(exc), "give the private key file `vested user add` wrote (--key)", (), DOCUMENT),))
    except StoreError as exc:
        return Result(None, (error("refused", str(exc), "", (), DOCUMENT),))
    except StorageError as exc:
        return Result(None, (error("store", exc.message, exc.hint, (), DOCUMENT),))


def parties_of(agreement: Agreement) -> Parties:
    customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
    if customer is None or supplier is None:
        raise refusal(f"agreement {agreement.id!r} needs a customer and a supplier party to be signed off")
    return Parties(customer.id, supplier.id)


def loaded(agreement: AgreementRef) -> tuple[Agreement, str]:
    run = load_for_run(agreement)
    if run.agreement is None:
        raise Refused(run.diagnostics)
    return run.agreement, run.text


def acting(ws: Workspace) -> Member:
    """The acting user as the rules see them; refused when the record has no such user."""
    user = ws.record.user(ws.actor)
    if user is None:
        known = ", ".join(u.user_id for u in ws.record.users()) or "none yet"
        raise refusal(f"{ws.actor!r} is not a user of this record (users: {known})",
                      "act as a user with --as USER (or VESTED_USER), or add one: vested user add")
    return Member(user.user_id, user.party, user.role)


def may_record(ws: Workspace, agreement: Agreement, action: str) -> tuple[Diagnostic, ...]:
    """Nothing when the acting user may ``action`` (ingest, propose) on the agreement's record; else why not.

    A record with no users yet is a single user's (anyone may); once it has users, only they act, each
    for their own party and role. A project kept as files has no users: anyone may.
    """
    if ws.store_url == FOLDER or not ws.record.users():
        return ()
    try:
        refused = authorise(acting(ws), action, parties_of(agreement))
    except Refused as exc:
        return exc.diagnostics
    return (error("refused", refused.message, "", (), DOCUMENT),) if refused is not None else ()


def status_of(ws: Workspace, agreement: Agreement, period: str) -> StatementStatus:
    parties = parties_of(agreement)
    record = ws.record.statement(agreement.id, period)
    state = statement_status(ws.record.statement_events(agreement.id, period), parties)
    if record is None or state is None:
        raise refusal(f"{agreement.id} {period} is not settled, so there is nothing to sign off",
                      f"settle it first: vested settle AGREEMENT --period {period}")
    return StatementStatus(agreement.id, period, record, state, parties)


def check_allowed(user: Member, action: str, status: StatementStatus) -> None:
    refused = authorise(user, action, status.parties, status.state)
    if refused is not None:
        raise refusal(refused.message)


# -- users ------------------------------------------------------------------------------------------

def add_user(ws: Workspace, agreement: AgreementRef, user_id: str, name: str, party: str, role: str, key_file: str | Path,
             passphrase: str | None = None) -> Result[AddedUser]:
    """Add a user of one of the agreement's parties, in a role, with a new Ed25519 key pair (the private
    key written to ``key_file``, 0600; the public key into the store)."""

    def step() -> Result[AddedUser]:
        from vested.keys import create_key_pair

        found, _ = loaded(agreement)
        parties = parties_of(found)
        target = Member(user_id, party, role)
        if ws.record.user(user_id) is not None:
            raise refusal(f"a user {user_id!r} already exists", "choose another user id")
        problem = authorise(target, "read", parties)  # the user's own party and role must agree with the agreement
        if problem is not None:
            raise refusal(problem.message.replace(" may not read", " cannot be added"),
                          f"a customer belongs to {parties.customer}, a supplier to {parties.supplier}; an auditor to either")
        same_party = [u for u in ws.record.users() if u.party == party]
        if same_party or (role == "auditor" and ws.record.users()):
            refused = authorise(acting(ws), "add-user", parties, target=target)
            if refused is not None:
                raise refusal(refused.message)
        public = create_key_pair(key_file, passphrase)
        try:
            user = ws.record.add_user(user_id, name, party, role, public, ws.actor, ws.now())
        except BaseException:
            Path(key_file).unlink(missing_ok=True)  # nothing is half-written: no key without its user
            raise
        return Result(AddedUser(user, str(key_file)))

    return recording(ws, step)


def list_users(ws: Workspace) -> Result[tuple[User, ...]]:
    return recording(ws, lambda: Result(tuple(ws.record.users())))


# -- sign-off ---------------------------------------------------------------------------------------

def sign(ws: Workspace, agreement: AgreementRef, period: str, key_file: str | Path,
         passphrase: str | None = None) -> Result[StatementStatus]:
    """Sign the current revision of a period's statement as the acting user, with their private key."""

    def step() -> Result[StatementStatus]:
        from vested.keys import load_private_key
        from vested.keys import sign as sign_bytes

        found, _ = loaded(agreement)
        user = acting(ws)
        status = status_of(ws, found, period)
        check_allowed(user, "sign", status)
        record = status.statement
        payload = signing_payload(found.id, period, record.revision, record.statement_hash, record.agreement_hash,
                                  record.inputs_hash, user.id)
        signature = sign_bytes(load_private_key(key_file, passphrase), payload)
        ws.record.add_signature(found.id, period, record.revision, user.id, signature, ws.now())
        return Result(status_of(ws, found, period))

    return recording(ws, step)


def dispute(ws: Workspace, agreement: AgreementRef, period: str, line: str, comment: str) -> Result[StatementStatus]:
    """Dispute one line of the current revision (its number, from 1, or its label), with a comment."""

    def step() -> Result[StatementStatus]:
        found, _ = loaded(agreement)
        user = acting(ws)
        status = status_of(ws, found, period)
        check_allowed(user, "dispute", status)
        if not comment.strip():
            raise refusal("say why the line is disputed", "--comment 'the credit should be 5%, not 10%'")
        lines = status_lines(status)
        chosen: int | str
        if line.isdigit():
            if not 1 <= int(line) <= len(lines):
                raise refusal(f"the statement has lines 1 to {len(lines)}; there is no line {line}")
            chosen = int(line) - 1
        elif line in lines:
            chosen = line
        else:
            raise refusal(f"the statement has no line {line!r}", "give its number or its label: " + "; ".join(lines))
        ws.record.add_dispute(found.id, period, status.statement.revision, user.id, chosen, comment, ws.now())
        return Result(status_of(ws, found, period))

    return recording(ws, step)


def resolve(ws: Workspace, agreement: AgreementRef, period: str, dispute_id: int, comment: str) -> Result[StatementStatus]:
    """Sign the resolution of an open dispute as the acting user's party (closed once both parties have)."""

    def step() -> Result[StatementStatus]:
        found, _ = loaded(agreement)
        user = acting(ws)
        status = status_of(ws, found, period)
        check_allowed(user, "resolve", status)
        if dispute_id not in {d.id for d in status.state.open_disputes}:
            open_ids = ", ".join(str(d.id) for d in status.state.open_disputes)
            raise refusal(f"{found.id} {period} has no open dispute {dispute_id} (open: {open_ids})")
        ws.record.add_resolution(dispute_id, user.id, comment, ws.now())
        return Result(status_of(ws, found, period))

    return recording(ws, step)


def status(ws: Workspace, agreement: AgreementRef, period: str) -> Result[StatementStatus]:
    """Where a period's statement stands."""
    return recording(ws, lambda: Result(status_of(ws, loaded(agreement)[0], period)))


def status_lines(status: StatementStatus) -> list[str]:
    """The labels of the statement's lines, in order."""
    import json

    return [str(line.get("label", "")) for line in json.loads(status.statement.text)["statement"]["lines"]]
