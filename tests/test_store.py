"""The store on SQLite and on PostgreSQL: every write a row and a ledger entry, refusals, and opening errors.

The PostgreSQL cases need the server at 127.0.0.1:5432 (user postgres, database test, trust auth);
each test gets a schema of its own, dropped afterwards. Without a server they are skipped with the
reason, except under CI=true, where a missing server is a failure.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy

from tests.postgres import SERVER
from vested.core.canonical import canonical_text, text_hash
from vested.core.ledger import verify_chain
from vested.core.signoff import Parties, signing_payload, statement_status
from vested.keys import create_key_pair, load_private_key, sign
from vested.storage.record import Store, StoreError, open_store
from vested.storage.record.db import MIGRATIONS

AT = datetime(2025, 7, 1, 9, 30, tzinfo=UTC)
AGREEMENT = "vested: 1\nid: helpdesk\nparties:\n  - {id: buyer, role: customer}\n  - {id: seller, role: supplier}\n"
PARTIES = Parties("buyer", "seller")


def postgres_schema_url(engine: sqlalchemy.Engine) -> tuple[str, str]:
    """A new schema, and the URL of a store in it (its tables and migration record stay inside the schema)."""
    name = f"vested_store_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    return name, f"{SERVER}?options=-csearch_path%3D{name}"


def drop_schema(engine: sqlalchemy.Engine, name: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store of this test's own, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'vested.db'}"
        return
    engine = request.getfixturevalue("server")
    name, url = postgres_schema_url(engine)
    try:
        yield url
    finally:
        drop_schema(engine, name)


@dataclass
class World:
    """A store with the agreement registered and one user of each party (and an auditor), with their keys."""

    store: Store
    files: Path
    keys: dict[str, Path]
    version: str

    def sign(self, user: str, period: str = "2025-06", revision: int | None = None) -> int:
        record = self.store.statement("helpdesk", period, revision)
        assert record is not None
        payload = signing_payload("helpdesk", period, record.revision, record.statement_hash, record.agreement_hash,
                                  record.inputs_hash, user)
        return self.store.add_signature("helpdesk", period, record.revision, user, sign(load_private_key(self.keys[user]), payload), AT)

    def propose(self, text: str, period: str = "2025-06", reason: str | None = None, actor: str = "sam") -> int:
        return self.store.propose_statement("helpdesk", period, text, text_hash(text), self.version, "1" * 64, actor, AT,
                                            reason).revision


def make_world(url: str, folder: Path) -> World:
    files = folder / "files"
    store = open_store(url, files=files)
    keys = {}
    version = store.register_agreement(AGREEMENT, "helpdesk", "setup", AT).version_hash
    for user, party, role in [("ann", "buyer", "customer"), ("sam", "seller", "supplier"), ("aud", "audit-co", "auditor"),
                              ("abe", "buyer", "customer")]:
        keys[user] = folder / f"{user}.key"
        store.add_user(user, user.title(), party, role, create_key_pair(keys[user]), "setup", AT)
    return World(store, files, keys, version)


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    made = make_world(store_url, tmp_path)
    yield made
    made.store.close()


def status(world: World, period: str = "2025-06") -> str:
    state = statement_status(world.store.statement_events("helpdesk", period), PARTIES)
    return state.status if state is not None else "none"


def test_every_write_appends_one_entry_and_the_chain_holds(world: World, tmp_path: Path) -> None:
    store = world.store
    batch = tmp_path / "b.parquet"
    batch.write_bytes(b"PAR1 rows PAR1")
    store.register_batch("tickets", "b1", {"rows": 2}, batch, "sam", AT)
    world.propose('{"net": "10.00"}\n')
    world.sign("sam")
    kinds = [entry.kind for entry in store.entries()]
    assert kinds == ["agreement-registered", *["user-added"] * 4, "batch-ingested", "statement-proposed", "statement-signed"]
    assert verify_chain(store.entries()) is None
    head = store.head()
    assert head is not None and head.seq == 8 and store.last_seq() == 8
    assert [e.seq for e in store.entries(after_seq=6)] == [7, 8]
    assert store.entries(after_seq=6).__next__().payload["statement_hash"] == text_hash('{"net": "10.00"}\n')


def test_agreements_are_registered_once_per_text(world: World) -> None:
    store = world.store
    again = store.register_agreement(AGREEMENT, "helpdesk", "ann", AT + timedelta(days=1))
    assert again.seq == 1 and store.last_seq() == 5
    v2 = store.register_agreement(AGREEMENT + "title: Help\n", "helpdesk", "ann", AT)
    assert [v.version_hash for v in store.agreement_versions("helpdesk")] == [text_hash(AGREEMENT), v2.version_hash]
    assert store.agreement_text(v2.version_hash) == AGREEMENT + "title: Help\n"
    assert store.agreement_text("f" * 64) is None


def test_users(world: World) -> None:
    store = world.store
    assert [u.user_id for u in store.users()] == ["ann", "sam", "aud", "abe"]
    ann = store.user("ann")
    assert ann is not None and (ann.party, ann.role, ann.password_hash) == ("buyer", "customer", None)
    assert store.user("nobody") is None
    with pytest.raises(StoreError, match="a user ann already exists"):
        store.add_user("ann", "Ann", "buyer", "customer", ann.public_key, "setup", AT)
    with pytest.raises(StoreError, match="unknown role 'admin'"):
        store.add_user("root", "Root", "buyer", "admin", ann.public_key, "setup", AT)
    with pytest.raises(StoreError, match="not a PEM public key"):
        store.add_user("zed", "Zed", "buyer", "customer", "hello", "setup", AT)
    assert store.last_seq() == 5


def test_batches_live_in_files_named_by_their_hash_and_are_superseded_not_changed(world: World, tmp_path: Path) -> None:
    store = world.store
    first, second = tmp_path / "first.parquet", tmp_path / "second.parquet"
    first.write_bytes(b"first rows")
    second.write_bytes(b"second rows")
    one = store.register_batch("tickets", "b1", {"rows": 1}, first, "sam", AT)
    digest = hashlib.sha256(b"first rows").hexdigest()
    assert (one.sha256, one.file) == (digest, f"{digest[:2]}/{digest}.parquet")
    assert (world.files / one.file).read_bytes() == b"first rows"
    assert store.register_batch("tickets", "b1", {"rows": 1}, first, "sam", AT).seq == one.seq  # the same batch again
    with pytest.raises(StoreError, match="already recorded with other content"):
        store.register_batch("tickets", "b1", {"rows": 1}, second, "sam", AT)
    store.register_batch("tickets", "b2", {"rows": 1}, second, "sam", AT)
    store.supersede_batch("tickets", "b1", "b2", "duplicated tickets removed", "sam", AT)
    listed = store.batches("tickets")
    assert [(b.batch_id, b.superseded_by, b.reason) for b in listed] == [("b1", "b2", "duplicated tickets removed"),
                                                                       ("b2", None, None)]
    assert [b.batch_id for b in store.batches(current_only=True)] == ["b2"]
    assert store.batches("outages") == []
    with pytest.raises(StoreError, match="already superseded by b2"):
        store.supersede_batch("tickets", "b1", "b2", "again", "sam", AT)
    with pytest.raises(StoreError, match="no batch tickets/b9"):
        store.supersede_batch("tickets", "b2", "b9", "x", "sam", AT)
    with pytest.raises(StoreError, match="cannot supersede itself"):
        store.supersede_batch("tickets", "b2", "b2", "x", "sam", AT)
    with pytest.raises(StoreError, match="cannot read the batch file"):
        store.register_batch("tickets", "b3", {}, tmp_path / "missing.parquet", "sam", AT)


def test_the_lifecycle_of_a_statement(world: World) -> None:
    store = world.store
    assert status(world) == "none"
    assert world.propose("r1\n") == 1
    assert world.propose("r1\n") == 1  # the same text again is the same revision
    assert status(world) == "proposed"
    world.sign("sam")
    assert status(world) == "partly-signed"
    with pytest.raises(StoreError, match="seller has already signed helpdesk 2025-06 revision 1"):
        world.sign("sam")
    dispute = store.add_dispute("helpdesk", "2025-06", 1, "ann", "availability credit", "planned outage", AT)
    assert status(world) == "disputed"
    store.add_resolution(dispute, "ann", "agreed", AT)
    with pytest.raises(StoreError, match="buyer has already resolved dispute"):
        store.add_resolution(dispute, "abe", "agreed again", AT)
    assert status(world) == "disputed"
    store.add_resolution(dispute, "sam", "agreed", AT)
    assert status(world) == "partly-signed"
    world.sign("ann")
    assert status(world) == "final"
    assert [(s.signer, s.party) for s in store.signatures("helpdesk", "2025-06")] == [("sam", "seller"), ("ann", "buyer")]
    # a correction after final is a new revision with a reason; the old one stays, signed
    with pytest.raises(StoreError, match="revision 2 supersedes revision 1: give a reason"):
        world.propose("r2\n")
    assert world.propose("r2\n", reason="late tickets re-settled") == 2
    assert status(world) == "proposed"
    old = store.statement("helpdesk", "2025-06", 1)
    assert old is not None and old.text == "r1\n"
    assert [(s.revision, s.reason) for s in store.statements("helpdesk")] == [(1, None), (2, "late tickets re-settled")]
    with pytest.raises(StoreError, match="revision 1 is not the current one"):
        store.add_dispute("helpdesk", "2025-06", 1, "ann", 0, "late", AT)
    kinds = [e.kind for e in store.entries(after_seq=5)]
    assert kinds == ["statement-proposed", "statement-signed", "statement-disputed", "dispute-resolved", "dispute-resolved",
                     "statement-signed", "statement-revised"]


def test_a_signature_must_verify_with_the_signers_key(world: World) -> None:
    world.propose("r1\n")
    record = world.store.statement("helpdesk", "2025-06")
    assert record is not None
    by_ann = sign(load_private_key(world.keys["ann"]), signing_payload("helpdesk", "2025-06", 1, record.statement_hash,
                                                                       record.agreement_hash, record.inputs_hash, "ann"))
    with pytest.raises(StoreError, match="is not sam's signature"):
        world.store.add_signature("helpdesk", "2025-06", 1, "sam", by_ann, AT)  # ann's key, claimed as sam's
    wrong_revision = sign(load_private_key(world.keys["ann"]), signing_payload("helpdesk", "2025-06", 2, record.statement_hash,
                                                                               record.agreement_hash, record.inputs_hash, "ann"))
    with pytest.raises(StoreError, match="is not ann's signature"):
        world.store.add_signature("helpdesk", "2025-06", 1, "ann", wrong_revision, AT)
    with pytest.raises(StoreError, match="no user zed"):
        world.store.add_signature("helpdesk", "2025-06", 1, "zed", by_ann, AT)
    with pytest.raises(StoreError, match="no statement of helpdesk 2025-07"):
        world.store.add_signature("helpdesk", "2025-07", 1, "ann", by_ann, AT)
    assert world.store.signatures("helpdesk", "2025-06") == []


def test_statement_refusals(world: World) -> None:
    with pytest.raises(StoreError, match="not the hash of its text"):
        world.store.propose_statement("helpdesk", "2025-06", "x", "0" * 64, world.version, "1" * 64, "sam", AT)
    with pytest.raises(StoreError, match="no registered version"):
        world.store.propose_statement("helpdesk", "2025-06", "x", text_hash("x"), "e" * 64, "1" * 64, "sam", AT)
    assert world.store.statement("helpdesk", "2025-06") is None


def test_amendments_and_decisions(world: World) -> None:
    store = world.store
    amended = AGREEMENT + "title: Amended\n"
    amendment = store.propose_amendment("helpdesk", world.version, amended, "new baseline", "sam", AT)
    assert store.approve_amendment(amendment, "sam", AT) == frozenset({"seller"})
    with pytest.raises(StoreError, match="seller has already approved"):
        store.approve_amendment(amendment, "sam", AT)
    assert store.approve_amendment(amendment, "ann", AT) == frozenset({"seller", "buyer"})
    found = store.amendment(amendment)
    assert found is not None and (found.text, found.version_hash, found.party) == (amended, text_hash(amended), "seller")
    with pytest.raises(StoreError, match="no version"):
        store.propose_amendment("helpdesk", "d" * 64, amended, "why", "sam", AT)
    with pytest.raises(StoreError, match="no amendment 999"):
        store.approve_amendment(999, "ann", AT)
    seq = store.record_decision("helpdesk", {"decision": "raise the target", "votes": ["buyer", "seller"]}, "ann", AT)
    entry = next(iter(store.entries(after_seq=seq - 1)))
    assert entry.kind == "decision-recorded"
    assert entry.payload == {"agreement_id": "helpdesk",
                             "decision_hash": text_hash(canonical_text({"decision": "raise the target", "votes": ["buyer", "seller"]}))}


def test_the_store_reopens_with_its_record(store_url: str, tmp_path: Path) -> None:
    made = make_world(store_url, tmp_path)
    head = made.store.head()
    made.store.close()
    with open_store(store_url, files=tmp_path / "files") as again:
        assert again.head() == head and again.schema_revision == "0001_initial"


@pytest.mark.parametrize("url, message", [
    ("not a url", "is not a database URL"),
    ("mysql://user@host/db", "a store is SQLite or PostgreSQL, not mysql"),
    ("sqlite://", "give the SQLite file"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/test", "does not answer"),
])
def test_unopenable_stores_are_refused_with_a_message(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_a_store_of_a_newer_vested_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "vested.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_future'")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"revision '0099_future', which this vested does not know.*newer vested"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_new_sqlite_store_is_created_with_its_folder(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'vested.db'}") as store:
        assert store.head() is None and list(store.entries()) == []
        assert store.files == tmp_path / "deep" / "er" / "files"
    assert (tmp_path / "deep" / "er" / "vested.db").is_file()


def test_the_tables_match_the_migrations(store_url: str) -> None:
    """schema.py (what the code queries) and the migrations (what creates the database) do not drift apart."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from vested.storage.record import schema

    store = open_store(store_url)
    try:
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    finally:
        store.close()
    assert differences == []


def test_the_migrations_are_shipped_with_the_package() -> None:
    """pyproject's package data includes the migrations, so an installed vested can open a store."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["vested"]
    shipped = {p.relative_to(MIGRATIONS.parents[2]).as_posix() for p in MIGRATIONS.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped, "no migrations found"
    for name in shipped:
        assert any(Path(name).match(pattern) for pattern in patterns), f"{name} is not in package-data"
