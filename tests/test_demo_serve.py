"""`vested demo --serve` opens the demo's record in the dashboard with a printed password for each user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import ws
from vested.cli import app
from vested.services.accounts import check_password


def test_demo_serve_prints_a_password_that_logs_each_user_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Path] = []
    monkeypatch.setattr("vested.cli.serve.serve", lambda project, store_url, host, port: served.append(project))
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    found = dict(re.findall(r"log in as (\w+) \(.*?\): password (\S+)", text))
    assert set(found) == {"ana", "sam", "audrey"}
    assert served == [tmp_path / "demo" / "helpdesk-vested"]
    for user, password in found.items():
        assert check_password(ws(served[0], user), user, password).ok
        assert not check_password(ws(served[0], user), user, password + "x").ok
