"""Opening a store's database: the URL, the engine's settings, and the migrations applied on open.

SQLite (``sqlite:///path/vested.db``, created on first use) runs in WAL mode, so readers never
block the writer, with ``synchronous=NORMAL``: a killed process never loses or tears a committed
transaction (a power cut may lose the last few, never the chain's consistency). Every write
transaction starts with ``BEGIN IMMEDIATE``, which makes SQLite's writers take turns instead of
failing when two upgrade a read lock at once. PostgreSQL (``postgresql+psycopg://...``) runs at
READ COMMITTED; the ledger's unique constraints make concurrent appends safe there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from vested.storage.record.records import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE = "vested_write"
"""The execution option that makes a SQLite transaction ``BEGIN IMMEDIATE`` (a write)."""


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as problem:
        raise StoreError(f"{url!r} is not a database URL ({problem}); use sqlite:///path/vested.db "
                         "or postgresql+psycopg://user@host:port/database") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"{url!r}: a store is SQLite or PostgreSQL, not {parsed.get_backend_name()}")
    if parsed.get_backend_name() == "sqlite" and not parsed.database:
        raise StoreError(f"{url!r}: give the SQLite file, like sqlite:///path/vested.db (an in-memory store keeps nothing)")
    return parsed


def create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as problem:
            raise StoreError(f"{path.parent}: cannot create the store's folder: {problem.strerror}") from None
        engine = sqlalchemy.create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    return sqlalchemy.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver's own BEGIN is replaced by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: sqlalchemy.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN")


def alembic_config(connection: sqlalchemy.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> str:
    """Apply the migrations this vested knows (once, under a lock); the revision the store is at.

    A store recorded at a revision not among them was written by a newer vested: refused, untouched.
    """
    try:
        with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
            if engine.dialect.name == "postgresql":
                # one migrator at a time, for processes opening a new store together
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7414902)")
            config = alembic_config(connection)
            script = ScriptDirectory.from_config(config)
            known = {rev.revision for rev in script.walk_revisions()}
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in known:
                raise StoreError(f"the store's schema is at revision {current!r}, which this vested does not know "
                                 f"(it knows {', '.join(sorted(known))}): it was written by a newer vested; upgrade vested")
            head = script.get_current_head()
            if current != head:
                command.upgrade(config, "head")
            return str(head)
    except sqlalchemy.exc.OperationalError as problem:
        raise StoreError(f"the database at {engine.url.render_as_string(hide_password=True)} does not answer: "
                         f"{str(problem.orig).strip()}") from None
