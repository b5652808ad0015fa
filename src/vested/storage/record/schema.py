"""The store's tables (SQLAlchemy Core), as the migrations create them.

Every table but ``ledger`` holds the rows one kind of ledger entry wrote, and its ``seq`` column is
that entry's seq (also the row's id: a dispute is referred to by the seq that recorded it). Rows
are only ever inserted: a change is a new row and a new entry (a superseding batch, a new revision
of a statement), never an UPDATE or a DELETE. ``tests/test_store.py`` checks that these tables and
the migrated database agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

HASH = String(64)

ledger = Table(
    "ledger", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    # the compare-and-append: two writers that read the same head both try the same seq and prev_hash,
    # and these constraints let exactly one of them commit (the other retries from a fresh read)
    Column("prev_hash", HASH, nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON text
    Column("actor", String(200), nullable=False),
    Column("at", String(32), nullable=False),
    Column("hash", HASH, nullable=False, unique=True),
)


def _seq() -> Column[int]:
    return Column("seq", BigInteger, ForeignKey("ledger.seq"), primary_key=True, autoincrement=False)


agreements = Table(
    "agreement_versions", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("version_hash", HASH, nullable=False),
    Column("text", Text, nullable=False),
    UniqueConstraint("agreement_id", "version_hash"),
)

users = Table(
    "users", metadata, _seq(),
    Column("user_id", String(200), nullable=False, unique=True),
    Column("name", String(400), nullable=False),
    Column("party", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("password_hash", Text, nullable=True),  # for the web app; not part of the ledger
)

batches = Table(
    "batches", metadata, _seq(),
    Column("dataset", String(200), nullable=False),
    Column("batch_id", String(200), nullable=False),
    Column("manifest", Text, nullable=False),  # canonical JSON text
    Column("manifest_hash", HASH, nullable=False),
    Column("sha256", HASH, nullable=False),  # of the Parquet file
    Column("file", String(400), nullable=False),  # relative to the store's files folder
    UniqueConstraint("dataset", "batch_id"),
)

supersessions = Table(
    "batch_supersessions", metadata, _seq(),
    Column("dataset", String(200), nullable=False),
    Column("batch_id", String(200), nullable=False),
    Column("superseded_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("dataset", "batch_id"),
)

statements = Table(
    "statements", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("statement_hash", HASH, nullable=False),
    Column("agreement_hash", HASH, nullable=False),
    Column("inputs_hash", HASH, nullable=False),
    Column("party", String(200), nullable=False),
    Column("reason", Text, nullable=True),  # why a revision > 1 supersedes the one before
    UniqueConstraint("agreement_id", "period", "revision"),
)

signatures = Table(
    "signatures", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("signer", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    Column("payload_hash", HASH, nullable=False),
    Column("signature", Text, nullable=False),
    UniqueConstraint("agreement_id", "period", "revision", "party"),
)

disputes = Table(
    "disputes", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("period", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    Column("line_index", Integer, nullable=True),
    Column("line_label", Text, nullable=True),
    Column("comment", Text, nullable=False),
)

resolutions = Table(
    "resolutions", metadata, _seq(),
    Column("dispute", BigInteger, ForeignKey("disputes.seq"), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    UniqueConstraint("dispute", "party"),
)

amendments = Table(
    "amendments", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("base_hash", HASH, nullable=False),
    Column("version_hash", HASH, nullable=False),
    Column("text", Text, nullable=False),
    Column("party", String(200), nullable=False),
    Column("reason", Text, nullable=False),
)

approvals = Table(
    "amendment_approvals", metadata, _seq(),
    Column("amendment", BigInteger, ForeignKey("amendments.seq"), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    UniqueConstraint("amendment", "party"),
)

decisions = Table(
    "decisions", metadata, _seq(),
    Column("agreement_id", String(200), nullable=False),
    Column("decision", Text, nullable=False),  # canonical JSON text
    Column("decision_hash", HASH, nullable=False),
)
