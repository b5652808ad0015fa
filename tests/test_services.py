"""The services the faces call: each returns a frozen report (the result, or None, and located diagnostics).

The help desk of tests/test_settle.py: fixed first time is 50% in January and February (one ticket of
two each), 100% in March.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import agreement as load
from tests.helpers import ws
from tests.test_settle import AGREEMENT, TICKETS
from vested.core.scorecard import TREND_PERIODS
from vested.ingest import ingest_file
from vested.services import running
from vested.services.running import score_history
from vested.storage.folder import open_project


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(AGREEMENT)
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS))
    assert ingest_file(load(AGREEMENT), open_project(tmp_path / "project"), "tickets", data, who="t",
                       now=datetime(2025, 4, 1, tzinfo=UTC)).ok
    return path


def test_ingest_path_says_why_nothing_was_read_or_gives_the_ingest_report(tmp_path: Path, desk: Path) -> None:
    late = tmp_path / "late.csv"
    late.write_text("ticket_id,opened_at,fixed\n9,2025-04-02T10:00:00Z,true\n")
    options = running.ingest(ws(tmp_path / "project", "t"), desk, "tickets", str(late), table="tickets")
    assert options.value is None and not options.ok
    assert [d.code for d in options.diagnostics] == ["options"]

    broken = tmp_path / "broken.yaml"
    broken.write_text("vested: 1\nid: [unclosed\n")
    refused = running.ingest(ws(tmp_path / "project", "t"), broken, "tickets", str(late))
    assert refused.value is None and refused.diagnostics[0].location is not None

    done = running.ingest(ws(tmp_path / "project", "t"), desk, "tickets", str(late))
    assert done.ok and done.value is not None and done.value.rows_ingested == 1 and done.diagnostics == ()


def test_the_score_history_holds_the_months_scored_and_the_trend_months_before_them(tmp_path: Path, desk: Path) -> None:
    project = open_project(tmp_path / "project")
    history = score_history(ws(project), load(AGREEMENT), ["2025-03"])
    assert TREND_PERIODS == 3
    assert list(history.rows) == ["2024-12", "2025-01", "2025-02", "2025-03"]
    assert [history.rows[m].get("fixed_first_time") for m in history.rows] == [None, 50, 50, 100]


def test_measure_files_gives_the_rows_or_the_located_reason_there_are_none(tmp_path: Path, desk: Path) -> None:
    report = running.measure(ws(open_project(tmp_path / "project")), desk, ["2025-01", "2025-02"])
    assert report.value is not None and report.value.agreement.id == "desk"
    assert report.value.rows == {"2025-01": {"fixed_first_time": Decimal(50)}, "2025-02": {"fixed_first_time": Decimal(50)}}
    missing = tmp_path / "absent.yaml"
    failed = running.measure(ws(open_project(tmp_path / "project")), missing, ["2025-01"])
    assert failed.value is None and not failed.ok and failed.diagnostics[0].code == "file"
