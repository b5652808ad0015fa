"""Schemathesis over the web app's OpenAPI document: generated requests to every documented operation,
logged in with the session's CSRF token, never get a server error (5xx).

The record is the web tests' project in a temporary folder (removed at the end), so what the generated
requests manage to write (a dispute with a made-up comment) is thrown away. The app is made when this
module is collected: schemathesis reads the schema then (its ``from_fixture`` does not work with this
pytest).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install schemathesis)")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.test_web import build_project, csrf_of, login  # noqa: E402
from vested.services import views  # noqa: E402
from vested.web.app import create_app  # noqa: E402
from vested.web.respond import SESSION_COOKIE  # noqa: E402

LOGGED_IN: dict[str, Any] = {}
STATUSES: list[int] = []


def make_app() -> Any:
    from fastapi.testclient import TestClient

    folder = build_project(Path(tempfile.mkdtemp(prefix="vested-schema-")))
    app = create_app(views.workspaces(folder / "project", None), b"t" * 32, secure_cookies=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client, "cust").status_code == 303
        LOGGED_IN.update(folder=folder, session=client.cookies[SESSION_COOKIE], csrf=csrf_of(client))
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", make_app())


@pytest.fixture(scope="module", autouse=True)
def remove_the_project() -> Iterator[None]:
    yield
    shutil.rmtree(LOGGED_IN["folder"], ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_is_a_server_error(case: Any) -> None:
    response = case.call(headers={"x-csrf-token": LOGGED_IN["csrf"]}, cookies={SESSION_COOKIE: LOGGED_IN["session"]})
    STATUSES.append(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])


def test_the_generated_requests_were_answered_logged_in() -> None:
    """Not vacuous: the requests above reached the pages and actions, not only the log-in wall."""
    if not STATUSES:
        pytest.skip("runs after the schemathesis test above")
    assert 200 in STATUSES and any(status not in (401, 403) for status in STATUSES)
