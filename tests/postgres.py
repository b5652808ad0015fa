"""The PostgreSQL server the tests use (127.0.0.1:5432, user postgres, database test, trust auth).

Tests that need it take the ``server`` fixture (``tests/conftest.py``): without a server they skip with
the reason, except under ``CI=true``, where the PostgreSQL tests must run and fail instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def unreachable(reason: str) -> NoReturn:
    """Skip because the server does not answer, or fail when running in CI (CI=true)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(reason)
