"""The same run of an agreement on both stores: SQLite (the default) and PostgreSQL (for teams).

Ingest, settle, both parties sign, a dispute is raised and resolved, a month reproduces from the
store alone and the record verifies, through the services and through the CLI; and a store that
cannot be used (a server that does not answer, a URL that is not one) is a clear error, exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import ws
from tests.test_settle import AGREEMENT, TICKETS
from tests.test_store import drop_schema, postgres_schema_url
from vested.cli import app
from vested.services import record, running, signoff

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the project's SQLite file), or the URL of a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        yield None
        return
    engine = request.getfixturevalue("server")
    name, url = postgres_schema_url(engine)
    try:
        yield url
    finally:
        drop_schema(engine, name)


def test_the_whole_record_on_each_backend(tmp_path: Path, store: str | None) -> None:
    agreement, project = tmp_path / "desk.yaml", tmp_path / "project"
    agreement.write_text(AGREEMENT, encoding="utf-8")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")

    def as_user(user: str) -> running.Workspace:
        return ws(project, user, store=store)

    assert running.ingest(as_user("setup"), agreement, "tickets", str(data)).ok
    assert running.settle(as_user("setup"), agreement, ["2025-01", "2025-02", "2025-03"]).ok
    for user, party, role in (("cust", "c", "customer"), ("supp", "s", "supplier")):
        assert signoff.add_user(as_user("setup"), agreement, user, user, party, role, tmp_path / f"{user}.key").ok
    disputed = signoff.dispute(as_user("supp"), agreement, "2025-02", "1", "the fee is wrong")
    assert disputed.value is not None
    [opened] = disputed.value.state.open_disputes
    for user in ("supp", "cust"):
        assert signoff.resolve(as_user(user), agreement, "2025-02", opened.id, "it is right").ok
    for month in ("2025-01", "2025-02", "2025-03"):
        for user in ("cust", "supp"):
            assert signoff.sign(as_user(user), agreement, month, tmp_path / f"{user}.key").ok
    seen = record.history(as_user("cust"), agreement).value
    assert seen is not None and [p.state.status for p in seen.periods] == ["final"] * 3
    assert record.reproduce(as_user("cust"), "desk", "2025-03").value.same  # type: ignore[union-attr]
    verified = record.verify(as_user("cust"))
    assert verified.ok and verified.value is not None and verified.value.signatures == 6


def test_the_cli_signs_and_verifies_on_each_backend(tmp_path: Path, store: str | None) -> None:
    agreement, project = tmp_path / "desk.yaml", tmp_path / "project"
    agreement.write_text(AGREEMENT, encoding="utf-8")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")
    common = ["--project", str(project), *(["--store", store] if store else [])]

    def vested(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*args, *common, "--json"])
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.stdout)
        return data

    vested("ingest", str(agreement), "tickets", str(data))
    vested("settle", str(agreement), "--period", "2025-01")
    vested("user", "add", str(agreement), "cust", "--party", "c", "--role", "customer", "--key", str(tmp_path / "c.key"))
    vested("user", "add", str(agreement), "supp", "--party", "s", "--role", "supplier", "--key", str(tmp_path / "s.key"))
    assert vested("sign", str(agreement), "2025-01", "--as", "cust", "--key", str(tmp_path / "c.key"))["status"] == "partly-signed"
    assert vested("sign", str(agreement), "2025-01", "--as", "supp", "--key", str(tmp_path / "s.key"))["status"] == "final"
    refused = runner.invoke(app, ["sign", str(agreement), "2025-01", "--as", "supp", "--key", str(tmp_path / "s.key"),
                                  *common, "--json"])
    assert refused.exit_code == 1
    assert "is final" in json.loads(refused.stdout)["diagnostics"][0]["message"]
    assert vested("verify")["ok"] is True
    bundle = tmp_path / "bundle.json"
    vested("export", str(bundle))
    assert runner.invoke(app, ["verify", "--bundle", str(bundle), "--project", str(tmp_path / "elsewhere")]).exit_code == 0


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql+psycopg://postgres@127.0.0.1:1/test", "does not answer"),
    ("notaurl", "is not a database URL"),
    ("mysql://root@127.0.0.1/test", "SQLite or PostgreSQL"),
])
def test_a_store_that_cannot_be_used_is_a_clear_error(tmp_path: Path, url: str, says: str) -> None:
    (tmp_path / "desk.yaml").write_text(AGREEMENT, encoding="utf-8")
    result = runner.invoke(app, ["settle", str(tmp_path / "desk.yaml"), "--period", "2025-01", "--store", url,
                                 "--project", str(tmp_path / "p")])
    assert result.exit_code == 1, result.output
    assert says in result.output and "Traceback" not in result.output and "internal error" not in result.output
