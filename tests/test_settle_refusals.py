"""Settlement refuses what it cannot do honestly: months outside the term, a broken chain, a damaged
record, a full disk. Each is a located or named error, and nothing is written."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import ws
from tests.test_settle import AGREEMENT, setup  # noqa: F401 - the fixture
from vested.core.periods import add_months
from vested.services import running
from vested.services.settling import settle_months


def settled_files(project: object) -> list[str]:
    folder = Path(project.root) / "statements"  # type: ignore[attr-defined]
    return sorted(p.name for p in folder.rglob("*.json")) if folder.is_dir() else []


@settings(max_examples=25, deadline=None)
@given(offset=st.one_of(st.integers(-240, -1), st.integers(12, 240)), length=st.integers(1, 3))
def test_months_outside_the_term_are_refused_at_the_calendar(offset: int, length: int) -> None:
    """The term is 2025-01 for 12 months: any range reaching outside it is refused, wherever it lies."""
    from tests.helpers import agreement as load

    agreement = load(AGREEMENT)
    first = add_months("2025-01", offset)
    months = [add_months(first, i) for i in range(length)]
    from vested.core.settlement import outside_term

    problem = outside_term(agreement, months)
    assert problem is not None and problem.code == "settle-term" and problem.path == ("calendar",)
    assert "2025-01 to 2025-12" in problem.message and months[0] in problem.message


def test_the_service_refuses_the_month_before_the_term_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(AGREEMENT, encoding="utf-8")
    result = running.settle(ws(tmp_path / "project"), path, ["2024-12"])
    assert not result.ok
    [problem] = result.errors
    assert problem.code == "settle-term" and problem.location is not None
    assert "calendar:" in AGREEMENT.splitlines()[problem.location.line - 1]
    assert not (tmp_path / "project" / "statements").exists()


def test_the_months_inside_the_term_still_settle(setup: tuple) -> None:  # noqa: F811
    agreement, text, project = setup
    assert settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03"]).ok


def test_a_broken_chain_is_refused_before_anything_more_is_settled(setup: tuple) -> None:  # noqa: F811
    """As a killed `settle --replace` leaves it: February rewritten from another state, March not."""
    agreement, text, project = setup
    assert settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03"]).ok
    march = project.statement_path("desk", "2025-03")
    record = json.loads(march.read_text(encoding="utf-8"))
    record["inputs"]["state_in"] = {"credits": {"history": ["999"]}}
    march.write_text(json.dumps(record), encoding="utf-8")
    before = settled_files(project)
    result = settle_months(ws(project), agreement, text, ["2025-04"])
    assert not result.ok and [d.code for d in result.diagnostics] == ["chain"]
    assert "2025-03 does not carry on from the state 2025-02 carried out" in result.diagnostics[0].message
    assert "--from 2025-03" in result.diagnostics[0].hint
    assert settled_files(project) == before


@pytest.mark.parametrize("damage", [b"{\"inputs\": ", b"\xff\xfe\x00", b"[1, 2]"])
def test_a_damaged_statement_file_is_named_with_the_way_back(setup: tuple, tmp_path: Path, damage: bytes) -> None:  # noqa: F811
    agreement, text, project = setup
    assert settle_months(ws(project), agreement, text, ["2025-01"]).ok
    project.statement_path("desk", "2025-01").write_bytes(damage)
    path = tmp_path / "desk.yaml"
    path.write_text(text, encoding="utf-8")
    result = running.settle(ws(project), path, ["2025-02"])
    [problem] = result.errors
    assert problem.code == "store" and "2025-01.json" in problem.message and "damaged" in problem.message
    assert "settle the month again" in problem.hint
    assert not project.statement_path("desk", "2025-02").exists()


def test_a_damaged_batch_manifest_is_named_with_the_way_back(setup: tuple, tmp_path: Path) -> None:  # noqa: F811
    _agreement, text, project = setup
    [batch] = project.batches("tickets")
    manifest = batch.data_file.with_suffix(".json")
    manifest.write_text("{not json", encoding="utf-8")
    path = tmp_path / "desk.yaml"
    path.write_text(text, encoding="utf-8")
    for result in (running.settle(ws(project), path, ["2025-01"]), running.measure(ws(project), path, ["2025-01"])):
        [problem] = result.errors
        assert problem.code == "store" and manifest.name in problem.message and "ingest the source again" in problem.hint
    assert settled_files(project) == []


def test_a_full_disk_while_recording_is_a_clear_error(setup: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _agreement, text, project = setup
    path = tmp_path / "desk.yaml"
    path.write_text(text, encoding="utf-8")

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(project.statement_path("desk", "2025-01")))

    monkeypatch.setattr("vested.storage.folder.atomic_write_bytes", full)
    result = running.settle(ws(project), path, ["2025-01"])
    [problem] = result.errors
    assert problem.code == "store" and "No space left on device" in problem.message and "2025-01.json" in problem.message
    assert settled_files(project) == []
