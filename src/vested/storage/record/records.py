"""What the store returns, and how each table's row is recorded in its ledger entry's payload.

The payload of an entry is computed from the row it writes by :func:`payload_of`, and the verifier
computes it again from the row it reads: the two agree unless a byte of the row changed. A text
(an agreement's YAML, a statement, a manifest, a decision) is recorded by its hash, so the ledger
stays small while still pinning every byte of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from vested.core.canonical import text_hash
from vested.storage.record import schema


class StoreError(Exception):
    """A store that cannot be opened or a write it refuses, with a message for the user (never a traceback)."""


@dataclass(frozen=True)
class Recorded:
    """How the rows of one table appear in their entries' payloads."""

    table: Table
    kinds: tuple[str, ...]
    fields: tuple[str, ...]
    """Columns copied into the payload as they are."""
    texts: tuple[tuple[str, str], ...] = ()
    """(text column, hash column): the payload holds the text's hash under the hash column's name."""


RECORDED = (
    Recorded(schema.agreements, ("agreement-registered",), ("agreement_id",), (("text", "version_hash"),)),
    Recorded(schema.users, ("user-added",), ("user_id", "name", "party", "role", "public_key")),
    Recorded(schema.batches, ("batch-ingested",), ("dataset", "batch_id", "sha256", "file"), (("manifest", "manifest_hash"),)),
    Recorded(schema.supersessions, ("batch-superseded",), ("dataset", "batch_id", "superseded_by", "reason")),
    Recorded(schema.statements, ("statement-proposed", "statement-revised"),
             ("agreement_id", "period", "revision", "agreement_hash", "inputs_hash", "party", "reason"),
             (("text", "statement_hash"),)),
    Recorded(schema.signatures, ("statement-signed",),
             ("agreement_id", "period", "revision", "signer", "party", "payload_hash", "signature")),
    Recorded(schema.disputes, ("statement-disputed",),
             ("agreement_id", "period", "revision", "user_id", "party", "line_index", "line_label", "comment")),
    Recorded(schema.resolutions, ("dispute-resolved",), ("dispute", "user_id", "party", "comment")),
    Recorded(schema.amendments, ("amendment-proposed",), ("agreement_id", "base_hash", "party", "reason"),
             (("text", "version_hash"),)),
    Recorded(schema.approvals, ("amendment-approved",), ("amendment", "user_id", "party")),
    Recorded(schema.decisions, ("decision-recorded",), ("agreement_id",), (("decision", "decision_hash"),)),
)
RECORDED_BY_KIND = {kind: recorded for recorded in RECORDED for kind in recorded.kinds}


def payload_of(recorded: Recorded, row: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of the entry that writes ``row`` (without its ``seq``)."""
    payload = {name: row[name] for name in recorded.fields}
    payload.update({hashed: text_hash(row[text]) for text, hashed in recorded.texts})
    return payload


@dataclass(frozen=True)
class AgreementVersion:
    agreement_id: str
    version_hash: str
    seq: int


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    party: str
    role: str
    public_key: str
    seq: int
    password_hash: str | None = None


@dataclass(frozen=True)
class BatchRecord:
    dataset: str
    batch_id: str
    manifest: Mapping[str, Any]
    sha256: str
    file: str
    """The Parquet file, relative to the store's files folder."""
    seq: int
    superseded_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StatementRecord:
    agreement_id: str
    period: str
    revision: int
    text: str
    statement_hash: str
    agreement_hash: str
    inputs_hash: str
    party: str
    reason: str | None
    seq: int


@dataclass(frozen=True)
class SignatureRecord:
    agreement_id: str
    period: str
    revision: int
    signer: str
    party: str
    payload_hash: str
    signature: str
    seq: int


@dataclass(frozen=True)
class Amendment:
    seq: int
    agreement_id: str
    base_hash: str
    version_hash: str
    text: str
    party: str
    reason: str
    approved_by: frozenset[str]
