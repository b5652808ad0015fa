"""The store's reads: rows of its tables as the records of ``vested.storage.record.records``.

Each ``_name(connection, ...)`` read runs inside a caller's transaction (the write path's checks);
the public method of the same name opens its own connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, select

from vested.core.ledger import Entry
from vested.storage.record import schema
from vested.storage.record.records import AgreementVersion, Amendment, BatchRecord, SignatureRecord, StatementRecord, User


def entry_of(row: Mapping[Any, Any]) -> Entry:
    return Entry(int(row["seq"]), row["prev_hash"], row["kind"], json.loads(row["payload"]), row["actor"], row["at"], row["hash"])


def _statement_of(row: Mapping[Any, Any]) -> StatementRecord:
    return StatementRecord(row["agreement_id"], row["period"], row["revision"], row["text"], row["statement_hash"],
                           row["agreement_hash"], row["inputs_hash"], row["party"], row["reason"], int(row["seq"]))


_HEAD = select(schema.ledger).order_by(schema.ledger.c.seq.desc()).limit(1)


class Reads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _head(self, connection: Connection) -> Entry | None:
        row = connection.execute(_HEAD).mappings().first()
        return entry_of(row) if row is not None else None

    def _agreement_version(self, connection: Connection, agreement_id: str, version_hash: str) -> AgreementVersion | None:
        t = schema.agreements
        row = connection.execute(select(t.c.seq).where(t.c.agreement_id == agreement_id, t.c.version_hash == version_hash)).first()
        return AgreementVersion(agreement_id, version_hash, int(row[0])) if row is not None else None

    def _user(self, connection: Connection, user_id: str) -> User | None:
        row = connection.execute(select(schema.users).where(schema.users.c.user_id == user_id)).mappings().first()
        return User(**{**row, "seq": int(row["seq"])}) if row is not None else None

    def _batch(self, connection: Connection, dataset: str, batch_id: str) -> BatchRecord | None:
        found = self._batches(connection, dataset, batch_id)
        return found[0] if found else None

    def _batches(self, connection: Connection, dataset: str | None, batch_id: str | None = None) -> list[BatchRecord]:
        b, s = schema.batches, schema.supersessions
        query = (select(b, s.c.superseded_by, s.c.reason)
                 .join(s, (s.c.dataset == b.c.dataset) & (s.c.batch_id == b.c.batch_id), isouter=True).order_by(b.c.seq))
        if dataset is not None:
            query = query.where(b.c.dataset == dataset)
        if batch_id is not None:
            query = query.where(b.c.batch_id == batch_id)
        return [BatchRecord(row["dataset"], row["batch_id"], json.loads(row["manifest"]), row["sha256"], row["file"],
                            int(row["seq"]), row["superseded_by"], row["reason"])
                for row in connection.execute(query).mappings()]

    def _statement(self, connection: Connection, agreement_id: str, period: str, revision: int | None) -> StatementRecord | None:
        t = schema.statements
        query = select(t).where(t.c.agreement_id == agreement_id, t.c.period == period)
        query = query.where(t.c.revision == revision) if revision is not None else query.order_by(t.c.revision.desc()).limit(1)
        row = connection.execute(query).mappings().first()
        return _statement_of(row) if row is not None else None

    def _signatures(self, connection: Connection, agreement_id: str, period: str, revision: int | None) -> list[SignatureRecord]:
        t = schema.signatures
        query = select(t).where(t.c.agreement_id == agreement_id, t.c.period == period).order_by(t.c.seq)
        if revision is not None:
            query = query.where(t.c.revision == revision)
        return [SignatureRecord(row["agreement_id"], row["period"], row["revision"], row["signer"], row["party"],
                                row["payload_hash"], row["signature"], int(row["seq"]))
                for row in connection.execute(query).mappings()]

    def _amendment(self, connection: Connection, seq: int) -> Amendment | None:
        row = connection.execute(select(schema.amendments).where(schema.amendments.c.seq == seq)).mappings().first()
        if row is None:
            return None
        approved = connection.execute(select(schema.approvals.c.party).where(schema.approvals.c.amendment == seq)).scalars()
        return Amendment(int(row["seq"]), row["agreement_id"], row["base_hash"], row["version_hash"], row["text"],
                         row["party"], row["reason"], frozenset(approved))

    # -- public reads -------------------------------------------------------------------------------

    def agreement_text(self, version_hash: str) -> str | None:
        """The YAML text of an agreement version, by its hash."""
        t = schema.agreements
        with self.engine.connect() as connection:
            row = connection.execute(select(t.c.text).where(t.c.version_hash == version_hash).limit(1)).first()
        return str(row[0]) if row is not None else None

    def agreement_versions(self, agreement_id: str) -> list[AgreementVersion]:
        """An agreement's versions, oldest first."""
        t = schema.agreements
        with self.engine.connect() as connection:
            rows = connection.execute(select(t.c.version_hash, t.c.seq).where(t.c.agreement_id == agreement_id).order_by(t.c.seq))
            return [AgreementVersion(agreement_id, version, int(seq)) for version, seq in rows]

    def users(self) -> list[User]:
        with self.engine.connect() as connection:
            return [User(**{**row, "seq": int(row["seq"])})
                    for row in connection.execute(select(schema.users).order_by(schema.users.c.seq)).mappings()]

    def user(self, user_id: str) -> User | None:
        with self.engine.connect() as connection:
            return self._user(connection, user_id)

    def batches(self, dataset: str | None = None, *, current_only: bool = False) -> list[BatchRecord]:
        """The recorded batches (of one dataset), oldest first; ``current_only`` leaves out superseded ones."""
        with self.engine.connect() as connection:
            found = self._batches(connection, dataset)
        return [b for b in found if b.superseded_by is None] if current_only else found

    def statement(self, agreement_id: str, period: str, revision: int | None = None) -> StatementRecord | None:
        """One revision of a period's statement (the current one when ``revision`` is None)."""
        with self.engine.connect() as connection:
            return self._statement(connection, agreement_id, period, revision)

    def statements(self, agreement_id: str) -> list[StatementRecord]:
        """Every revision of every period's statement of an agreement, by period then revision."""
        t = schema.statements
        with self.engine.connect() as connection:
            rows = connection.execute(select(t).where(t.c.agreement_id == agreement_id).order_by(t.c.period, t.c.revision))
            return [_statement_of(row) for row in rows.mappings()]

    def signatures(self, agreement_id: str, period: str, revision: int | None = None) -> list[SignatureRecord]:
        with self.engine.connect() as connection:
            return self._signatures(connection, agreement_id, period, revision)

    def amendment(self, seq: int) -> Amendment | None:
        with self.engine.connect() as connection:
            return self._amendment(connection, seq)
