"""Fixtures shared by the test modules: the PostgreSQL server (see ``tests/postgres.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy

from tests.postgres import SERVER, unreachable


@pytest.fixture(scope="session")
def server() -> Iterator[sqlalchemy.Engine]:
    engine = sqlalchemy.create_engine(SERVER, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sqlalchemy.exc.OperationalError as problem:
        engine.dispose()
        unreachable(f"no PostgreSQL server answers at 127.0.0.1:5432 (user postgres, database test): {problem.orig}")
    yield engine
    engine.dispose()
