"""The store: an agreement's shared record in one database, every write an entry of its ledger.

    open_store(url, files=None) -> Store

Each write method checks what it is asked against the record (a signature against the signer's
key, a revision against the current one), then inserts its row and appends its ledger entry in
ONE transaction. The append is a compare-and-append: the entry's ``seq`` and ``prev_hash`` come
from the head read at the start of the transaction, and the ledger's unique constraints on both
let only one of two concurrent writers commit them; the other's transaction is rolled back and
retried from a fresh read (with its checks run again, so a second signature of a party that has
just signed is refused rather than duplicated). Nothing is updated or deleted.

Batch rows are not in the database: they stay in Parquet files in the store's files folder
(``files/`` next to the SQLite file), named by their content's SHA-256 and referenced by it.
DuckDB reads Parquet directly and fast, a batch can be gigabytes that a database row should not
carry, and a file named by its hash is written once, never changed, and checked by hashing it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy
from sqlalchemy import Connection, Engine, func, select

from vested.core.canonical import canonical_text, text_hash
from vested.core.ledger import Entry, next_entry
from vested.core.roles import ROLES
from vested.core.signoff import Disputed, Event, Proposed, Resolved, Signed, signing_payload
from vested.keys import KeyFileError, load_public_key, verify_signature
from vested.storage.record import schema
from vested.storage.record.db import WRITE, create_engine, migrate, parse_url
from vested.storage.record.files import store_file
from vested.storage.record.reads import Reads, entry_of
from vested.storage.record.records import (
    RECORDED,
    AgreementVersion,
    BatchRecord,
    StatementRecord,
    StoreError,
    User,
    payload_of,
)

T = TypeVar("T")
ATTEMPTS = 500
"""Compare-and-append attempts before a write gives up (each lost race costs one)."""
PAGE = 5000

_INSERT_LEDGER = schema.ledger.insert()
_RECORDED_BY_TABLE = {recorded.table.name: recorded for recorded in RECORDED}


@dataclass(frozen=True)
class Plan(Generic[T]):
    """One write: the row to insert into ``table`` under the entry of ``kind``, and what to return."""

    kind: str
    table: sqlalchemy.Table
    row: dict[str, Any]
    result: Callable[[Entry], T]


@dataclass(frozen=True)
class Done(Generic[T]):
    """Nothing to write: the record already holds it (an idempotent write)."""

    result: T


class Store(Reads):
    """A store. Open with :func:`open_store`; ``files`` is the folder of the batches' Parquet files."""

    def __init__(self, engine: Engine, files: Path | None, revision: str) -> None:
        super().__init__(engine)
        self.files = files
        self.schema_revision = revision

    # -- the write path ---------------------------------------------------------------------------

    def _write(self, actor: str, at: datetime | str, build: Callable[[Connection], Plan[T] | Done[T]]) -> T:
        for attempt in range(ATTEMPTS):
            try:
                with self.engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
                    head = self._head(connection)  # first: every check below sees at least this much
                    plan = build(connection)
                    if isinstance(plan, Done):
                        return plan.result
                    entry = next_entry(head, plan.kind, payload_of(_RECORDED_BY_TABLE[plan.table.name], plan.row), actor, at)
                    # statements with parameters (not .values(...)): compiled once and cached, for a fast append
                    connection.execute(_INSERT_LEDGER, {
                        "seq": entry.seq, "prev_hash": entry.prev_hash, "kind": entry.kind, "payload": canonical_text(entry.payload),
                        "actor": entry.actor, "at": entry.at, "hash": entry.hash})
                    connection.execute(plan.table.insert(), {"seq": entry.seq, **plan.row})
                return plan.result(entry)
            except sqlalchemy.exc.IntegrityError:
                pass  # another writer appended first: read the new head and check again
            except sqlalchemy.exc.OperationalError as problem:
                if "locked" not in str(problem.orig) and "deadlock" not in str(problem.orig):
                    raise StoreError(f"the store's database failed: {str(problem.orig).strip()}") from None
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))
        raise StoreError(f"could not append to the ledger after {ATTEMPTS} attempts (too many concurrent writers)")

    # -- agreements -------------------------------------------------------------------------------

    def register_agreement(self, text: str, agreement_id: str, actor: str, at: datetime | str) -> AgreementVersion:
        """Record a version of an agreement's YAML text; the same text again returns the version already recorded."""
        version = text_hash(text)

        def build(connection: Connection) -> Plan[AgreementVersion] | Done[AgreementVersion]:
            found = self._agreement_version(connection, agreement_id, version)
            if found is not None:
                return Done(found)
            return Plan("agreement-registered", schema.agreements,
                        {"agreement_id": agreement_id, "version_hash": version, "text": text},
                        lambda entry: AgreementVersion(agreement_id, version, entry.seq))

        return self._write(actor, at, build)

    def propose_amendment(self, agreement_id: str, base_hash: str, text: str, reason: str, actor: str,
                          at: datetime | str) -> int:
        """Propose ``text`` as the next version of an agreement (of version ``base_hash``); the amendment's id."""

        def build(connection: Connection) -> Plan[int]:
            if self._agreement_version(connection, agreement_id, base_hash) is None:
                raise StoreError(f"agreement {agreement_id} has no version {base_hash[:12]} to amend")
            if not reason.strip():
                raise StoreError("an amendment needs a reason")
            party = self._party_of(connection, actor, required=True)
            return Plan("amendment-proposed", schema.amendments,
                        {"agreement_id": agreement_id, "base_hash": base_hash, "version_hash": text_hash(text), "text": text,
                         "party": party, "reason": reason}, lambda entry: entry.seq)

        return self._write(actor, at, build)

    def approve_amendment(self, amendment: int, user_id: str, at: datetime | str) -> frozenset[str]:
        """One party's approval of an amendment; the parties that have now approved it.

        When both have, the caller registers the amended text (``register_agreement``) as the new version.
        """

        def build(connection: Connection) -> Plan[frozenset[str]]:
            found = self._amendment(connection, amendment)
            if found is None:
                raise StoreError(f"no amendment {amendment}")
            party = self._party_of(connection, user_id, required=True)
            if party in found.approved_by:
                raise StoreError(f"{party} has already approved amendment {amendment}")
            return Plan("amendment-approved", schema.approvals, {"amendment": amendment, "user_id": user_id, "party": party},
                        lambda _entry: found.approved_by | {party})

        return self._write(user_id, at, build)

    def record_decision(self, agreement_id: str, decision: Mapping[str, Any], actor: str, at: datetime | str) -> int:
        """Record a governance decision (canonical data); its seq."""
        text = canonical_text(decision)
        return self._write(actor, at, lambda _c: Plan("decision-recorded", schema.decisions,
                                                     {"agreement_id": agreement_id, "decision": text, "decision_hash": text_hash(text)},
                                                     lambda entry: entry.seq))

    # -- users --------------------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, party: str, role: str, public_key: str, actor: str, at: datetime | str,
                 password_hash: str | None = None) -> User:
        """Add a user of ``party`` in ``role`` with their Ed25519 public key (PEM)."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; a user is one of {', '.join(ROLES)}")
        try:
            load_public_key(public_key)
        except KeyFileError as problem:
            raise StoreError(f"user {user_id}: {problem}") from None

        def build(connection: Connection) -> Plan[User]:
            if self._user(connection, user_id) is not None:
                raise StoreError(f"a user {user_id} already exists")
            row: dict[str, Any] = {"user_id": user_id, "name": name, "party": party, "role": role, "public_key": public_key,
                   "password_hash": password_hash}
            return Plan("user-added", schema.users, row, lambda entry: User(seq=entry.seq, **row))

        return self._write(actor, at, build)

    def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        """Set (or clear) a user's web log-in password hash: the one column changed in place.

        A credential, not a fact of the agreement: it is not in the ledger (``users`` rows are verified
        on the fields their ``user-added`` entry recorded, which exclude it), so a password can be
        changed without a new entry, and a leaked ledger or bundle never carries one.
        """
        t = schema.users
        with self.engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
            changed = connection.execute(t.update().where(t.c.user_id == user_id).values(password_hash=password_hash)).rowcount
        if not changed:
            raise StoreError(f"no user {user_id}")

    # -- batches ------------------------------------------------------------------------------------

    def register_batch(self, dataset: str, batch_id: str, manifest: Mapping[str, Any], data_file: str | Path, actor: str,
                       at: datetime | str) -> BatchRecord:
        """Record an ingested batch: its Parquet file is copied into the files folder under its SHA-256."""
        if self.files is None:
            raise StoreError("this store has no files folder for batches (open it with files=...)")
        sha256, relative = store_file(Path(data_file), self.files)
        text = canonical_text(manifest)

        def build(connection: Connection) -> Plan[BatchRecord] | Done[BatchRecord]:
            found = self._batch(connection, dataset, batch_id)
            if found is not None:
                if found.sha256 == sha256 and canonical_text(found.manifest) == text:
                    return Done(found)
                raise StoreError(f"batch {dataset}/{batch_id} is already recorded with other content; "
                                 "a correction is a new batch superseding it")
            row = {"dataset": dataset, "batch_id": batch_id, "manifest": text, "manifest_hash": text_hash(text),
                   "sha256": sha256, "file": relative}
            return Plan("batch-ingested", schema.batches, row,
                        lambda entry: BatchRecord(dataset, batch_id, dict(manifest), sha256, relative, entry.seq))

        return self._write(actor, at, build)

    def supersede_batch(self, dataset: str, batch_id: str, superseded_by: str, reason: str, actor: str,
                        at: datetime | str) -> int:
        """Record that batch ``superseded_by`` replaces ``batch_id`` (both of ``dataset``); the entry's seq."""

        def build(connection: Connection) -> Plan[int]:
            old, new = self._batch(connection, dataset, batch_id), self._batch(connection, dataset, superseded_by)
            if old is None or new is None:
                raise StoreError(f"no batch {dataset}/{batch_id if old is None else superseded_by}")
            if batch_id == superseded_by:
                raise StoreError("a batch cannot supersede itself")
            if old.superseded_by is not None:
                raise StoreError(f"batch {dataset}/{batch_id} is already superseded by {old.superseded_by}")
            if not reason.strip():
                raise StoreError("a supersession needs a reason")
            return Plan("batch-superseded", schema.supersessions,
                        {"dataset": dataset, "batch_id": batch_id, "superseded_by": superseded_by, "reason": reason},
                        lambda entry: entry.seq)

        return self._write(actor, at, build)

    # -- statements and sign-off --------------------------------------------------------------------

    def propose_statement(self, agreement_id: str, period: str, text: str, statement_hash: str, agreement_hash: str,
                          inputs_hash: str, actor: str, at: datetime | str, reason: str | None = None) -> StatementRecord:
        """Record a statement as the period's next revision; the same text as the current revision returns it.

        ``statement_hash`` must be ``text_hash(text)``; a revision after the first needs a ``reason``
        and supersedes the one before (whose signatures then no longer count).
        """
        if statement_hash != text_hash(text):
            raise StoreError(f"statement hash {statement_hash[:12]} is not the hash of its text ({text_hash(text)[:12]})")

        def build(connection: Connection) -> Plan[StatementRecord] | Done[StatementRecord]:
            if self._agreement_version(connection, agreement_id, agreement_hash) is None:
                raise StoreError(f"agreement {agreement_id} has no registered version {agreement_hash[:12]}")
            current = self._statement(connection, agreement_id, period, None)
            if current is not None and current.statement_hash == statement_hash:
                return Done(current)
            revision = current.revision + 1 if current is not None else 1
            if revision > 1 and not (reason or "").strip():
                raise StoreError(f"{agreement_id} {period}: revision {revision} supersedes revision {revision - 1}: give a reason")
            row: dict[str, Any] = {"agreement_id": agreement_id, "period": period, "revision": revision, "text": text,
                   "statement_hash": statement_hash, "agreement_hash": agreement_hash, "inputs_hash": inputs_hash,
                   "party": self._party_of(connection, actor, required=False), "reason": reason}
            return Plan("statement-proposed" if revision == 1 else "statement-revised", schema.statements, row,
                        lambda entry: StatementRecord(seq=entry.seq, **row))

        return self._write(actor, at, build)

    def add_signature(self, agreement_id: str, period: str, revision: int, signer: str, signature: str,
                      at: datetime | str) -> int:
        """Record ``signer``'s signature (base64) of the revision's :func:`signing_payload`; the entry's seq.

        Refused: a revision that is not the current one, a signature the signer's key does not verify,
        a second signature of the same party on the same revision.
        """

        def build(connection: Connection) -> Plan[int]:
            user = self._user(connection, signer)
            if user is None:
                raise StoreError(f"no user {signer}")
            current = self._current(connection, agreement_id, period, revision)
            payload = signing_payload(agreement_id, period, revision, current.statement_hash, current.agreement_hash,
                                      current.inputs_hash, signer)
            if not verify_signature(user.public_key, signature, payload):
                raise StoreError(f"the signature is not {signer}'s signature of {agreement_id} {period} revision {revision}")
            if any(s.party == user.party for s in self._signatures(connection, agreement_id, period, revision)):
                raise StoreError(f"{user.party} has already signed {agreement_id} {period} revision {revision}")
            return Plan("statement-signed", schema.signatures,
                        {"agreement_id": agreement_id, "period": period, "revision": revision, "signer": signer,
                         "party": user.party, "payload_hash": text_hash(payload.decode("utf-8")), "signature": signature},
                        lambda entry: entry.seq)

        return self._write(signer, at, build)

    def add_dispute(self, agreement_id: str, period: str, revision: int, user_id: str, line: int | str, comment: str,
                    at: datetime | str) -> int:
        """Dispute one line (index or label) of the current revision; the dispute's id (its entry's seq)."""

        def build(connection: Connection) -> Plan[int]:
            self._current(connection, agreement_id, period, revision)
            party = self._party_of(connection, user_id, required=True)
            index, label = (line, None) if isinstance(line, int) else (None, line)
            return Plan("statement-disputed", schema.disputes,
                        {"agreement_id": agreement_id, "period": period, "revision": revision, "user_id": user_id,
                         "party": party, "line_index": index, "line_label": label, "comment": comment},
                        lambda entry: entry.seq)

        return self._write(user_id, at, build)

    def add_resolution(self, dispute: int, user_id: str, comment: str, at: datetime | str) -> int:
        """One party's signature of a dispute's resolution (each party once); the entry's seq."""

        def build(connection: Connection) -> Plan[int]:
            if connection.execute(select(schema.disputes.c.seq).where(schema.disputes.c.seq == dispute)).first() is None:
                raise StoreError(f"no dispute {dispute}")
            party = self._party_of(connection, user_id, required=True)
            done = connection.execute(select(schema.resolutions.c.seq).where(
                schema.resolutions.c.dispute == dispute, schema.resolutions.c.party == party)).first()
            if done is not None:
                raise StoreError(f"{party} has already resolved dispute {dispute}")
            return Plan("dispute-resolved", schema.resolutions,
                        {"dispute": dispute, "user_id": user_id, "party": party, "comment": comment}, lambda entry: entry.seq)

        return self._write(user_id, at, build)

    def statement_events(self, agreement_id: str, period: str) -> list[Event]:
        """The sign-off events of a period's statement, in ledger order (for ``core.signoff.statement_status``)."""
        s, g, d, r = schema.statements, schema.signatures, schema.disputes, schema.resolutions
        with self.engine.connect() as connection:
            found: list[tuple[int, Event]] = []
            for row in connection.execute(select(s).where(s.c.agreement_id == agreement_id, s.c.period == period)).mappings():
                found.append((row["seq"], Proposed(row["revision"], row["statement_hash"], row["party"], row["reason"])))
            for row in connection.execute(select(g).where(g.c.agreement_id == agreement_id, g.c.period == period)).mappings():
                found.append((row["seq"], Signed(row["revision"], row["party"], row["signer"])))
            own = select(d).where(d.c.agreement_id == agreement_id, d.c.period == period)
            for row in connection.execute(own).mappings():
                line = row["line_index"] if row["line_index"] is not None else row["line_label"]
                found.append((row["seq"], Disputed(row["seq"], row["revision"], row["party"], row["user_id"], line, row["comment"])))
            for row in connection.execute(select(r).where(r.c.dispute.in_(own.with_only_columns(d.c.seq)))).mappings():
                found.append((row["seq"], Resolved(row["dispute"], row["party"], row["user_id"], row["comment"])))
        return [event for _, event in sorted(found, key=lambda pair: pair[0])]

    # -- helpers of the checks ------------------------------------------------------------------------

    def _party_of(self, connection: Connection, user_id: str, *, required: bool) -> str:
        user = self._user(connection, user_id)
        if user is None and required:
            raise StoreError(f"no user {user_id}")
        return user.party if user is not None else ""

    def _current(self, connection: Connection, agreement_id: str, period: str, revision: int) -> StatementRecord:
        current = self._statement(connection, agreement_id, period, None)
        if current is None:
            raise StoreError(f"no statement of {agreement_id} {period} is proposed")
        if current.revision != revision:
            raise StoreError(f"{agreement_id} {period}: revision {revision} is not the current one ({current.revision})")
        return current

    def last_seq(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.coalesce(func.max(schema.ledger.c.seq), 0))).scalar_one())

    def entries(self, after_seq: int = 0) -> Iterator[Entry]:
        """The ledger's entries after ``after_seq``, in order, read a page at a time (memory stays flat)."""
        last = after_seq
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(select(schema.ledger).where(schema.ledger.c.seq > last)
                                          .order_by(schema.ledger.c.seq).limit(PAGE)).mappings().all()
            if not rows:
                return
            for row in rows:
                yield entry_of(row)
            last = rows[-1]["seq"]

    def head(self) -> Entry | None:
        """The last entry of the ledger (None while it is empty)."""
        with self.engine.connect() as connection:
            return self._head(connection)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_store(url: str, files: str | Path | None = None) -> Store:
    """Open (and create or migrate) the store at ``url``; :class:`StoreError` when it cannot be.

    ``files``: the folder of the batches' Parquet files; by default ``files/`` next to a SQLite
    file (a PostgreSQL store has none unless one is given).
    """
    parsed = parse_url(url)
    engine = create_engine(parsed)
    try:
        revision = migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    folder = Path(files) if files is not None else (
        Path(str(parsed.database)).parent / "files" if parsed.get_backend_name() == "sqlite" else None)
    return Store(engine, folder, revision)
