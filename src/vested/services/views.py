"""What the web app shows, read from the record; and the sign-off actions by agreement id.

    workspaces(project, store, clock=None) -> (actor -> Workspace)   one record, shared by the requests
    record_problem(project, store) -> Diagnostic | None             why there is nothing to serve
    portfolio(ws) -> Result[Portfolio]
    statement_page(ws, agreement_id, period, revision=None) -> Result[StatementPage]
    agreement_history(ws, agreement_id) -> Result[History]
    ledger_page(ws, after=0, limit=50, verify=True) -> Result[LedgerPage]
    sign_with_key(ws, agreement_id, period, key_pem, passphrase) / dispute_line / resolve_dispute

The CLI names an agreement by its file; the web app by its id in the record. ``agreement_file``
bridges the two: the registered text of a version, written once into the project folder under its
hash (``web-agreements/<sha256>.yaml``), is what the sign-off services are given, so they load,
authorise and record exactly as they do for the CLI.

Every view is authorised here: the viewer must be a user of the record whose party and role agree
with the agreement (``authorise(..., "read")``); an auditor reads everything and changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from vested.adapters.load import load_agreement_text
from vested.core.diagnostics import Diagnostic, error
from vested.core.model import Agreement
from vested.core.money import show_money
from vested.core.periods import parse_month
from vested.core.roles import Member, authorise
from vested.core.signoff import Disputed, Parties, Resolved, SignoffState, statement_status
from vested.render.web_views import (
    AgreementCard,
    DisputeView,
    EntryRow,
    LedgerPage,
    LineView,
    PeriodRow,
    Portfolio,
    SignatureView,
    StatementPage,
    VerifyView,
    Viewer,
)
from vested.services import record as record_services
from vested.services import signoff
from vested.services.result import Refused, Result
from vested.services.signoff import StatementStatus, acting, parties_of, recording
from vested.services.workspace import FOLDER, Workspace, open_workspace, record_url

DOCUMENT = "request"
MAX_KEY_BYTES = 16 * 1024
MAX_COMMENT = 4000
PAGE_LIMIT = 500


def not_found(message: str, hint: str = "") -> Refused:
    return Refused([error("not-found", message, hint, (), DOCUMENT)])


def bad_input(field: str, message: str, hint: str = "") -> Refused:
    """A value of a form field or query parameter that cannot be used; ``field`` names it."""
    return Refused([error("input", f"{field}: {message}", hint, (field,), DOCUMENT)])


# -- the workspaces of a server -----------------------------------------------------------------------

def workspaces(project: str | Path | None, store: str | None, clock: Callable[[], datetime] | None = None
               ) -> Callable[[str], Workspace]:
    """A workspace per request, acting as its user, all over one record opened (and migrated) once."""
    base = open_workspace(project, "vested web", clock, store=store)
    base.record  # noqa: B018  # open it now: a bad --store fails at start, not at the first request

    def make(actor: str) -> Workspace:
        return dataclasses.replace(base, actor=actor, _store=None)

    return make


def record_problem(project: str | Path | None, store: str | None) -> Diagnostic | None:
    """Why ``vested serve`` has nothing to serve (None when the record is there and holds an agreement)."""
    if store == FOLDER:
        return error("no-record", "the web app needs the shared record; a project kept as files has none",
                     "bring it in first: vested store import FOLDER --agreement FILE", (), "project")
    ws = open_workspace(project, "vested web", store=store)
    url = record_url(ws.root, store)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return error("no-record", f"there is no record at {url.removeprefix('sqlite:///')}",
                     "give the project folder with --project (e.g. the one `vested demo --out DIR` made: DIR/helpdesk-vested), "
                     "or make one: vested ingest, then vested settle", (), "project")
    from vested.storage import StorageError

    try:
        if ws.record.head() is None:
            return error("no-record", f"the record at {url} is empty", "ingest and settle first: vested ingest, vested settle",
                         (), "project")
    except StorageError as exc:
        return error("no-record", exc.message, exc.hint, (), "project")
    finally:
        ws.close()
    return None


# -- agreements in the record ----------------------------------------------------------------------------

_agreements_lock = threading.Lock()
_agreements_seen: dict[str, tuple[int, dict[str, list[str]]]] = {}
_parsed: dict[str, Agreement] = {}


def registered_agreements(ws: Workspace) -> dict[str, list[str]]:
    """Each agreement id in the record, with its versions' hashes (oldest first).

    Read from the ``agreement-registered`` entries of the ledger; the ledger is append-only, so each
    call reads only the entries after the last one it saw.
    """
    key = record_url(ws.root, ws.store_url)
    with _agreements_lock:
        seen, known = _agreements_seen.get(key, (0, {}))
        known = {k: list(v) for k, v in known.items()}
        for entry in ws.record.entries(seen):
            if entry.kind == "agreement-registered":
                versions = known.setdefault(str(entry.payload["agreement_id"]), [])
                if entry.payload["version_hash"] not in versions:
                    versions.append(str(entry.payload["version_hash"]))
            seen = entry.seq
        _agreements_seen[key] = (seen, known)
        return known


def agreement_version(ws: Workspace, agreement_id: str, version_hash: str | None = None) -> tuple[Agreement, str]:
    """An agreement of the record (a version, else its last) and that version's hash."""
    versions = registered_agreements(ws).get(agreement_id)
    if not versions:
        raise not_found(f"the record has no agreement {agreement_id!r}", "see the portfolio for the agreements it has")
    chosen = version_hash or versions[-1]
    if chosen not in _parsed:
        text = ws.record.agreement_text(chosen)
        if text is None:
            raise not_found(f"the record has no version {chosen[:12]} of {agreement_id}")
        loaded = load_agreement_text(text, f"{agreement_id}@{chosen[:12]}", lint=False)
        if loaded.agreement is None:
            raise Refused(loaded.diagnostics)
        _parsed[chosen] = loaded.agreement  # a version is named by its text's hash: it never changes
    return _parsed[chosen], chosen


def agreement_file(ws: Workspace, version_hash: str) -> Path:
    """The registered text of an agreement version as a file (written once, named by its hash)."""
    path = ws.root / "web-agreements" / f"{version_hash}.yaml"
    if not path.is_file():
        text = ws.record.agreement_text(version_hash)
        if text is None:
            raise not_found(f"the record has no agreement version {version_hash[:12]}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    return path


def viewer_of(ws: Workspace, parties: Parties | None = None) -> tuple[Viewer, Member]:
    """The acting user; refused when they may not read an agreement of ``parties``."""
    member = acting(ws)
    if parties is not None:
        refused = authorise(member, "read", parties)
        if refused is not None:
            raise signoff.refusal(refused.message)
    user = ws.record.user(member.id)
    return Viewer(member.id, user.name if user else member.id, member.party, member.role), member


# -- the portfolio ---------------------------------------------------------------------------------------

def line_text(line: int | str, labels: list[str]) -> str:
    if isinstance(line, int):
        return f"{line + 1} ({labels[line]})" if 0 <= line < len(labels) else str(line + 1)
    number = labels.index(line) + 1 if line in labels else None
    return f"{number} ({line})" if number else line


def disputes_of(ws: Workspace, agreement_id: str, period: str, revision: int, parties: Parties, labels: list[str]
                ) -> tuple[DisputeView, ...]:
    """Every dispute of one revision, open or closed, with who has signed its resolution."""
    found: dict[int, Disputed] = {}
    resolved: dict[int, set[str]] = {}
    for event in ws.record.statement_events(agreement_id, period):
        if isinstance(event, Disputed) and event.revision == revision:
            found[event.dispute] = event
        elif isinstance(event, Resolved) and event.party in parties:
            resolved.setdefault(event.dispute, set()).add(event.party)
    both = {parties.customer, parties.supplier}
    return tuple(DisputeView(d.dispute, d.revision, d.party, d.user, line_text(d.line, labels), d.comment,
                             tuple(sorted(resolved.get(d.dispute, set()))), not both <= resolved.get(d.dispute, set()), period)
                 for d in found.values())


def portfolio(ws: Workspace) -> Result[Portfolio]:
    """The agreements in the record the viewer may read: their periods, last settled and final, what awaits them."""

    def step() -> Result[Portfolio]:
        viewer, member = viewer_of(ws)
        cards = []
        for agreement_id, versions in sorted(registered_agreements(ws).items()):
            agreement, _ = agreement_version(ws, agreement_id)
            parties = parties_of(agreement)
            if authorise(member, "read", parties) is not None:
                continue  # not one of the viewer's agreements
            rows: list[PeriodRow] = []
            awaiting: list[str] = []
            disputes: list[DisputeView] = []
            periods = sorted({r.period for r in ws.record.statements(agreement_id)}, key=parse_month)
            for period in periods:
                state = statement_status(ws.record.statement_events(agreement_id, period), parties)
                if state is None:
                    continue
                rows.append(PeriodRow(period, state.revision, state.status, tuple(sorted(state.signed_by)),
                                      state.awaiting(parties), len(state.open_disputes)))
                if authorise(member, "sign", parties, state) is None or (
                        member.role != "auditor" and member.party not in state.signed_by and state.status == "disputed"):
                    awaiting.append(period)
                if state.open_disputes:
                    record = ws.record.statement(agreement_id, period)
                    labels = _labels(record.text) if record else []
                    disputes.extend(d for d in disputes_of(ws, agreement_id, period, state.revision, parties, labels) if d.open)
            names = {p.id: p.name for p in agreement.parties}
            finals = [r.period for r in rows if r.status == "final"]
            cards.append(AgreementCard(agreement_id, agreement.title, names[parties.customer], names[parties.supplier],
                                       tuple(versions), tuple(rows), rows[-1].period if rows else None,
                                       finals[-1] if finals else None, tuple(awaiting), tuple(disputes)))
        return Result(Portfolio(viewer, tuple(cards)))

    return recording(ws, step)


def _labels(text: str) -> list[str]:
    return [str(line.get("label", "")) for line in json.loads(text)["statement"]["lines"]]


# -- one statement -----------------------------------------------------------------------------------------

def statement_page(ws: Workspace, agreement_id: str, period: str, revision: int | None = None) -> Result[StatementPage]:
    """One revision (default: the current one) of a period's statement, every line explained, its sign-off."""

    def step() -> Result[StatementPage]:
        try:
            parse_month(period)
        except ValueError:
            raise bad_input("period", f"{period!r} is not a month", "YYYY-MM, e.g. 2025-06") from None
        agreement, _ = agreement_version(ws, agreement_id)
        current = ws.record.statement(agreement_id, period)
        if current is None:
            raise not_found(f"{agreement_id} {period} is not settled", "see the settled periods in the portfolio")
        record = current if revision is None else ws.record.statement(agreement_id, period, revision)
        if record is None:
            raise not_found(f"{agreement_id} {period} has no revision {revision} (revisions 1 to {current.revision})")
        agreement, _ = agreement_version(ws, agreement_id, record.agreement_hash)
        parties = parties_of(agreement)
        viewer, member = viewer_of(ws, parties)
        state = statement_status(ws.record.statement_events(agreement_id, period), parties)
        assert state is not None  # a period with a revision was proposed
        data = json.loads(record.text)["statement"]
        names = {p.id: p.name for p in agreement.parties}
        step_ = agreement.policy.rounding.step
        lines = tuple(LineView(n, str(line.get("term_id", "")), str(line.get("label", "")),
                               names.get(line["payer"], line["payer"]), names.get(line["payee"], line["payee"]),
                               str(line["amount"]), show_money(_decimal(line["amount"]), step_), str(line.get("formula", "")),
                               str(line.get("calculation", "")), tuple(line.get("notes", ())),
                               tuple((str(a), str(b)) for a, b in line.get("inputs", ())))
                      for n, line in enumerate(data["lines"], start=1))
        net = tuple(f"{names.get(n['payer'], n['payer'])} owes {names.get(n['payee'], n['payee'])} "
                    f"{show_money(_decimal(n['amount']), step_)} {data.get('currency', '')}" for n in data.get("net", ())) \
            or ("nothing is owed",)
        is_current = record.revision == state.revision
        labels = [line.label for line in lines]
        may, refusals = _may(member, parties, state) if is_current else ({}, {})
        disputes = disputes_of(ws, agreement_id, period, record.revision, parties, labels)
        resolvable = tuple(d.id for d in disputes if d.open and member.party not in d.resolved_by) if may.get("resolve") else ()
        if may.get("resolve") and not resolvable:
            may["resolve"], refusals["resolve"] = False, f"{member.party} has signed the resolution of every open dispute"
        signatures = tuple(SignatureView(s.revision, s.signer, s.party, s.seq)
                           for s in ws.record.signatures(agreement_id, period, record.revision))
        return Result(StatementPage(
            viewer, agreement_id, agreement.title, period, record.revision, state.revision,
            tuple(range(1, state.revision + 1)), str(data.get("currency", "")), names, lines, net, str(data.get("rounding", "")),
            state.status if is_current else "superseded", tuple(sorted({s.party for s in signatures})),
            state.awaiting(parties) if is_current else (), disputes, signatures, record.statement_hash, record.agreement_hash,
            record.inputs_hash, record.party, record.reason, may, refusals, resolvable, data))

    return recording(ws, step)


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value))


def _may(member: Member, parties: Parties, state: SignoffState) -> tuple[dict[str, bool], dict[str, str]]:
    may, refusals = {}, {}
    for action in ("sign", "dispute", "resolve"):
        refused = authorise(member, action, parties, state)
        may[action] = refused is None
        if refused is not None:
            refusals[action] = refused.message
    return may, refusals


# -- history and the ledger --------------------------------------------------------------------------------

def agreement_history(ws: Workspace, agreement_id: str) -> Result[record_services.History]:
    """``vested history`` of an agreement of the record (the same service, the same result)."""

    def step() -> Result[record_services.History]:
        agreement, version = agreement_version(ws, agreement_id)
        viewer_of(ws, parties_of(agreement))
        return record_services.history(ws, agreement_file(ws, version))

    return recording(ws, step)


def ledger_page(ws: Workspace, after: int = 0, limit: int = 50, verify: bool = True) -> Result[LedgerPage]:
    """The ledger's entries after ``after`` (at most ``limit``), and the result of verifying the whole record."""

    def step() -> Result[LedgerPage]:
        if after < 0:
            raise bad_input("after", "is a ledger seq, 0 or more")
        if not 1 <= limit <= PAGE_LIMIT:
            raise bad_input("limit", f"is from 1 to {PAGE_LIMIT}")
        viewer, _ = viewer_of(ws)
        rows: list[EntryRow] = []
        for entry in ws.record.entries(after):
            if len(rows) == limit:
                break
            rows.append(EntryRow(entry.seq, entry.kind, entry.actor, entry.at, entry.hash, entry.prev_hash, dict(entry.payload)))
        total = ws.record.last_seq()
        last = rows[-1].seq if rows else after
        verified = None
        problems: tuple[Diagnostic, ...] = ()
        if verify:
            result = record_services.verify(ws)
            problems = result.diagnostics
            if result.value is not None:
                v = result.value
                verified = VerifyView(v.ok, v.entries, v.head, v.files, v.signatures,
                                      v.first_break.message if v.first_break else None)
        return Result(LedgerPage(viewer, tuple(rows), after, limit, total, last if last < total else None,
                                 max(after - limit, 0) if after > 0 else None, verified), problems)

    return recording(ws, step)


# -- sign-off actions, by agreement id ------------------------------------------------------------------

def _current_file(ws: Workspace, agreement_id: str, period: str) -> Path:
    try:
        parse_month(period)
    except ValueError:
        raise bad_input("period", f"{period!r} is not a month", "YYYY-MM, e.g. 2025-06") from None
    agreement_version(ws, agreement_id)  # not found: 404, before anything else
    current = ws.record.statement(agreement_id, period)
    if current is None:
        raise not_found(f"{agreement_id} {period} is not settled, so there is nothing to sign off")
    return agreement_file(ws, current.agreement_hash)


def sign_with_key(ws: Workspace, agreement_id: str, period: str, key_pem: bytes, passphrase: str | None
                  ) -> Result[StatementStatus]:
    """Sign with a private key given as its file's bytes (uploaded): used once, from a private temporary
    file that is removed before this returns; it is never kept."""

    def step() -> Result[StatementStatus]:
        path = _current_file(ws, agreement_id, period)
        if not key_pem:
            raise bad_input("key", "choose your private key file (the one `vested user add` wrote)")
        if len(key_pem) > MAX_KEY_BYTES:
            raise bad_input("key", f"a private key file is a few hundred bytes, not {len(key_pem)}")
        with tempfile.TemporaryDirectory(prefix="vested-key-") as folder:  # 0700, removed with the key in it
            key = Path(folder) / "key.pem"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key_pem)
            signed = signoff.sign(ws, path, period, key, passphrase or None)
        # a key problem names the temporary file: say "the uploaded key" instead
        return Result(signed.value, tuple(dataclasses.replace(d, message=d.message.replace(str(key), "the uploaded key"),
                                                              path=("key",) if d.code == "key" else d.path)
                                          for d in signed.diagnostics))

    return recording(ws, step)


def dispute_line(ws: Workspace, agreement_id: str, period: str, line: str, comment: str) -> Result[StatementStatus]:
    def step() -> Result[StatementStatus]:
        path = _current_file(ws, agreement_id, period)
        if not line.strip():
            raise bad_input("line", "choose the disputed line")
        if not comment.strip():
            raise bad_input("comment", "say why the line is disputed")
        if len(comment) > MAX_COMMENT:
            raise bad_input("comment", f"at most {MAX_COMMENT} characters")
        current = ws.record.statement(agreement_id, period)
        labels = _labels(current.text) if current else []
        chosen = line.strip()
        if not (chosen.isdigit() and 1 <= int(chosen) <= len(labels)) and chosen not in labels:
            raise bad_input("line", f"the statement has lines 1 to {len(labels)}; there is no line {chosen!r}",
                            "give its number or its label")
        return signoff.dispute(ws, path, period, chosen, comment.strip())

    return recording(ws, step)


def resolve_dispute(ws: Workspace, agreement_id: str, period: str, dispute_id: int, comment: str) -> Result[StatementStatus]:
    def step() -> Result[StatementStatus]:
        path = _current_file(ws, agreement_id, period)
        if len(comment) > MAX_COMMENT:
            raise bad_input("comment", f"at most {MAX_COMMENT} characters")
        return signoff.resolve(ws, path, period, dispute_id, comment.strip())

    return recording(ws, step)
