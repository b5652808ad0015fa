"""Ingest: every row is checked against its dataset; problems come with file, row, line and column, all at once;
on any error nothing is written, unless bad rows go to a quarantine file. Each batch keeps its provenance."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.helpers import PARTIES, agreement
from vested.core.model import Agreement
from vested.ingest import PROBLEM_LIMIT, IngestReport, batch_id_for, ingest_file, ingest_sql
from vested.render.diagnostics import format_diagnostics
from vested.storage.folder import Project, open_project

NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)

HELPDESK = agreement("vested: 1\nid: helpdesk\ntitle: Help desk\n" + PARTIES + """\
calendar: {start: 2025-01, time_zone: Europe/London}
datasets:
  - id: tickets
    time: opened_at
    key: [ticket_id]
    owner: seller
    columns:
      - {name: ticket_id, required: true}
      - {name: store, type: integer, minimum: 1, maximum: 500}
      - {name: channel, allowed: [phone, remote, on-site]}
      - {name: opened_at, type: timestamp}
      - {name: resolved_at, type: timestamp}
      - {name: first_contact, type: boolean}
      - {name: satisfaction, type: number, minimum: 1, maximum: 5}
      - {name: day, type: date}
      - {name: note}
metrics:
  - {id: ticket_count, measure: {dataset: tickets, aggregate: count}}
  - {id: survey_score, reported_by: buyer, minimum: 0, maximum: 100}
  - {id: audit_score, reported_by: seller}
""")

HEADER = "ticket_id,store,channel,opened_at,resolved_at,first_contact,satisfaction,day,note"
COLUMNS = HEADER.split(",")
GOOD = {
    "ticket_id": "T1", "store": "12", "channel": "phone", "opened_at": "2025-06-01T08:00:00Z",
    "resolved_at": "2025-06-01T09:30:00+01:00", "first_contact": "yes", "satisfaction": "4.5", "day": "2025-06-01", "note": "",
}


def row(**changes: str) -> str:
    values = {**GOOD, **changes}
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values[c] for c in COLUMNS])  # quotes values with line breaks
    return out.getvalue().removesuffix("\n")


def write(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def project_in(tmp_path: Path) -> Project:
    return open_project(tmp_path / ".vested")


def ingest(project: Project, path: Path, dataset: str = "tickets", *, a: Agreement = HELPDESK, **options: object) -> IngestReport:
    return ingest_file(a, project, dataset, path, who="alice", now=NOW, **options)  # type: ignore[arg-type]


def stored_files(project: Project) -> list[str]:
    """Every file under batches/ except the lock: 'nothing written' means this is empty."""
    if not project.batches_dir.exists():
        return []
    return sorted(p.name for p in project.batches_dir.rglob("*") if p.is_file() and p.name != ".lock")


def problems(report: IngestReport) -> list[tuple[int | None, int | None, str | None, str]]:
    """(row, line, column, code) of each error (warnings such as a missing optional column are left out)."""
    return [(p.row, p.line, p.column, p.code) for p in report.problems if p.is_error]


def parquet_rows(path: Path) -> list[tuple[object, ...]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()


# -- a clean file --------------------------------------------------------------------------------------


def test_a_clean_csv_becomes_a_typed_batch_with_its_provenance(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    path = write(tmp_path, "tickets-2025-06.csv", HEADER,
                 row(),
                 row(ticket_id="T2", store="7", channel="on-site", opened_at="2025-06-02T09:30:00+02:00", first_contact="0",
                     satisfaction="3", note="store closed"),
                 row(ticket_id="T3", resolved_at="", first_contact="", satisfaction="", day="", channel=""))
    report = ingest(project, path)

    assert report.ok and report.problems == (), format_diagnostics(report.diagnostics())
    assert (report.rows_read, report.rows_ingested, report.rows_quarantined) == (3, 3, 0)
    [batch] = project.batches("tickets")
    assert batch.batch_id == report.batch_id == batch_id_for("tickets", hashlib.sha256(path.read_bytes()).hexdigest())
    m = batch.manifest
    assert m["file"] == "tickets-2025-06.csv" and m["format"] == "csv" and m["dataset"] == "tickets"
    assert m["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (m["rows"], m["quarantined"], m["who"]) == (3, 0, "alice")
    assert m["ingested_at"] == "2025-07-01T09:00:00.000000+00:00"
    assert m["data_sha256"] == hashlib.sha256(batch.data_file.read_bytes()).hexdigest()
    # the UTC instants, in one form (microseconds and offset always written); T2: 09:30 at +02:00
    assert m["time_range"] == ["2025-06-01T08:00:00.000000+00:00", "2025-06-02T07:30:00.000000+00:00"]

    with duckdb.connect() as con:
        types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{batch.data_file}'))")
                     .fetchall())
    assert types == {"ticket_id": "VARCHAR", "store": "BIGINT", "channel": "VARCHAR", "opened_at": "TIMESTAMP WITH TIME ZONE",
                     "resolved_at": "TIMESTAMP WITH TIME ZONE", "first_contact": "BOOLEAN", "satisfaction": "DECIMAL(38,9)",
                     "day": "DATE", "note": "VARCHAR"}
    rows = parquet_rows(batch.data_file)
    assert [r[0] for r in rows] == ["T1", "T2", "T3"]  # file order
    t1, t2, t3 = rows
    # 09:30 at +02:00 is 07:30 UTC; 09:30 at +01:00 is 08:30 UTC.
    assert t2[3] == datetime(2025, 6, 2, 7, 30, tzinfo=UTC) and t1[4] == datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
    assert (t1[1], t1[5], t1[6]) == (12, True, Decimal("4.5")) and (t2[5], t2[6], t2[8]) == (False, Decimal(3), "store closed")
    assert t3[2] is None and t3[4] is None and t3[5] is None and t3[6] is None and t3[7] is None  # empty optional values


def test_the_same_content_is_ingested_once(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    path = write(tmp_path, "june.csv", HEADER, row())
    assert ingest(project, path).ok
    copy = write(tmp_path, "june-again.csv", HEADER, row())
    again = ingest(project, copy)
    assert again.refused and problems(again) == [(None, None, None, "already-ingested")]
    assert "june.csv" in again.problems[0].message and "alice" in again.problems[0].message
    assert len(project.batches("tickets")) == 1


def test_an_unknown_dataset_suggests_the_closest(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", HEADER, row()), "tickts")
    assert report.refused and problems(report) == [(None, None, None, "unknown-dataset")]
    assert report.problems[0].hint == "did you mean 'tickets'?"
    assert stored_files(project) == []


def test_a_file_that_is_not_csv_parquet_or_jsonl_is_refused(tmp_path: Path) -> None:
    report = ingest(project_in(tmp_path), write(tmp_path, "t.xlsx", HEADER))
    assert problems(report) == [(None, None, None, "file-format")]
    missing = ingest(project_in(tmp_path), tmp_path / "absent.csv")
    assert problems(missing) == [(None, None, None, "file-missing")]


# -- each check on its own: row 2 of the file (line 3) is bad, and nothing is written ---------------------------


@pytest.mark.parametrize(("column", "value", "code", "says"), [
    ("ticket_id", "", "required", "a value is required"),
    ("store", "12.5", "integer", "'12.5' is not a whole number"),
    ("store", "twelve", "integer", "'twelve' is not a whole number"),
    ("store", "0", "minimum", "0 is below the minimum 1"),
    ("store", "501", "maximum", "501 is above the maximum 500"),
    ("channel", "fax", "allowed", "'fax' is not an allowed value"),
    ("opened_at", "2025-06-01T08:00:00", "naive-timestamp", "'2025-06-01T08:00:00' has no UTC offset"),
    ("opened_at", "2025-06-01", "naive-timestamp", "'2025-06-01' has no UTC offset"),
    ("opened_at", "yesterday", "timestamp", "'yesterday' is not a timestamp"),
    ("opened_at", "2025-02-30T08:00:00Z", "timestamp", "'2025-02-30T08:00:00Z' is not a timestamp"),
    ("opened_at", "", "required", "a value is required"),  # the time column places a row in a period
    ("first_contact", "maybe", "boolean", "'maybe' is not true or false"),
    ("satisfaction", "4,5", "number", "'4,5' is not a number"),
    ("satisfaction", "nan", "number", "'nan' is not a number"),
    ("satisfaction", "5.01", "maximum", "5.01 is above the maximum 5"),
    # DECIMAL(38,9): a value is refused, never rounded or called "not a number" (1e29 has 30 digits before the point)
    ("satisfaction", "1e29", "number-range", "'1e29' is out of range"),
    ("satisfaction", "4.0000000001", "number-places", "'4.0000000001' has more than 9 decimal places"),
    ("satisfaction", "25e-10", "number-places", "'25e-10' has more than 9 decimal places"),  # 0.0000000025: 10 places
    ("day", "2025-06-31", "date", "'2025-06-31' is not a date"),
    ("day", "01/06/2025", "date", "'01/06/2025' is not a date"),
])
def test_a_bad_value_is_reported_at_its_row_line_and_column(tmp_path: Path, column: str, value: str, code: str, says: str) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", HEADER, row(), row(**{"ticket_id": "T2", column: value})))
    assert report.refused
    assert problems(report) == [(2, 3, column, code)]
    [problem] = report.problems
    assert problem.message == says or problem.message.startswith(says)
    assert problem.file == "t.csv" and problem.column_number == COLUMNS.index(column) + 1
    assert stored_files(project) == []


def test_hints_say_what_to_write(tmp_path: Path) -> None:
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER,
                                                row(channel="Phone"), row(ticket_id="T2", opened_at="2025-06-01 08:00:00")))
    channel, opened = report.problems
    assert channel.hint == "did you mean 'phone'? (allowed: phone, remote, on-site)"
    assert "2025-06-01T08:00:00Z" in opened.hint and "2025-06-01T08:00:00+02:00" in opened.hint and "Europe/London" in opened.hint


def test_every_boolean_word_and_offset_form_is_accepted(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    words = ["true", "FALSE", "Yes", "no", "1", "0"]
    offsets = ["2025-06-01T10:00:00Z", "2025-06-01T12:00:00+02:00", "2025-06-01T12:00:00+0200", "2025-06-01 06:00:00-04",
               "2025-06-01T10:00Z", "2025-06-01T10:00:00.000z"]
    lines = [row(ticket_id=f"T{i}", first_contact=w, opened_at=o) for i, (w, o) in enumerate(zip(words, offsets, strict=True))]
    report = ingest(project, write(tmp_path, "t.csv", HEADER, *lines))
    assert report.ok, format_diagnostics(report.diagnostics())
    rows = parquet_rows(project.batches("tickets")[0].data_file)
    assert [r[5] for r in rows] == [True, False, True, False, True, False]
    assert {r[3] for r in rows} == {datetime(2025, 6, 1, 10, 0, tzinfo=UTC)}  # every form names the same moment


# -- all at once, with lines that differ from rows ----------------------------------------------------------


def test_all_problems_are_reported_at_once_with_rows_and_lines(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    path = write(tmp_path, "t.csv", HEADER,
                 row(),                                                        # row 1, line 2
                 "",                                                           # a blank line is not a row
                 row(ticket_id="T2", note="two\nlines"),                      # row 2, lines 4-5
                 row(ticket_id="T3", store="x", channel="fax"),               # row 3, line 6
                 row(ticket_id="T1", satisfaction="9"))                       # row 4, line 7: duplicate key, too high
    report = ingest(project, path)
    assert problems(report) == [
        (3, 6, "store", "integer"), (3, 6, "channel", "allowed"),
        (4, 7, "ticket_id", "duplicate"), (4, 7, "satisfaction", "maximum"),
    ]
    assert report.problems[2].message == "duplicate key ticket_id='T1': the same as row 1"
    assert report.problems_total == 4 and report.more == 0
    assert stored_files(project) == []
    shown = format_diagnostics(report.diagnostics())
    assert "t.csv:6:2: error: row 3, column 'store': 'x' is not a whole number [integer]" in shown


def test_the_list_stops_at_the_limit_and_says_how_many_more(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    bad = PROBLEM_LIMIT + 500
    report = ingest(project, write(tmp_path, "t.csv", HEADER, *(row(ticket_id=f"T{i}", store="-1") for i in range(bad))))
    assert len(report.problems) == PROBLEM_LIMIT and report.problems_total == bad and report.more == 500
    assert report.problems[-1].row == PROBLEM_LIMIT and report.problems[-1].line == PROBLEM_LIMIT + 1
    assert report.summary() == f"nothing ingested: {bad} problems in t.csv (the first {PROBLEM_LIMIT} are listed)"


# -- columns ---------------------------------------------------------------------------------------------


def test_unknown_and_missing_columns_are_reported_with_the_values(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    header = "ticket_id,chanel,store,extra,opened_at"
    report = ingest(project, write(tmp_path, "t.csv", header, "T1,phone,12,x,2025-06-01T08:00:00Z", "T2,phone,0,y,2025-06-01"),
                    quarantine=tmp_path / "bad.csv")
    found = {(p.column, p.code, p.severity.value) for p in report.problems}
    assert found == {
        ("chanel", "unknown-column", "error"), ("extra", "unknown-column", "error"),
        ("channel", "missing-column", "warning"), ("resolved_at", "missing-column", "warning"),
        ("first_contact", "missing-column", "warning"), ("satisfaction", "missing-column", "warning"),
        ("day", "missing-column", "warning"), ("note", "missing-column", "warning"),
        ("store", "minimum", "error"), ("opened_at", "naive-timestamp", "error"),
    }
    chanel = next(p for p in report.problems if p.column == "chanel")
    assert chanel.hint == "did you mean 'channel'?" and chanel.line == 1 and chanel.column_number == 2
    # A column problem cannot be quarantined row by row: nothing is written, not even the quarantine file.
    assert report.refused and stored_files(project) == [] and not (tmp_path / "bad.csv").exists()


def test_a_missing_required_column_is_an_error(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", "ticket_id,store", "T1,12"))
    errors = [(p.column, p.code) for p in report.problems if p.is_error]
    assert errors == [("opened_at", "missing-column")]
    assert "time column" in report.problems[[p.column for p in report.problems].index("opened_at")].message
    assert stored_files(project) == []


def test_a_malformed_line_is_reported_with_its_line(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2") + ",extra", row(ticket_id="T3")))
    assert [(p.line, p.code) for p in report.problems] == [(3, "malformed")]
    assert report.refused and stored_files(project) == []


def test_a_header_without_rows_ingests_nothing_and_says_so(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", HEADER))
    assert report.ok and report.batch_id is None and [p.code for p in report.problems] == ["empty"]
    assert not report.problems[0].is_error and stored_files(project) == []


# -- duplicate keys across batches ---------------------------------------------------------------------------


def test_a_key_already_ingested_in_an_earlier_batch_is_refused(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    first = ingest(project, write(tmp_path, "may.csv", HEADER, row(ticket_id="T1"), row(ticket_id="T2")))
    assert first.ok
    report = ingest(project, write(tmp_path, "june.csv", HEADER, row(ticket_id="T3"), row(ticket_id="T2")))
    assert problems(report) == [(2, 3, "ticket_id", "ingested-key")]
    assert report.problems[0].message == f"key ticket_id='T2' was already ingested in batch {first.batch_id} (from 'may.csv')"
    assert [b.batch_id for b in project.batches("tickets")] == [first.batch_id]


def test_keys_are_compared_as_typed_values(tmp_path: Path) -> None:
    """An integer key written 7 and 07, or a timestamp key in two offsets, is the same key."""
    a = agreement("vested: 1\nid: k\ntitle: K\n" + PARTIES + """\
datasets:
  - id: readings
    time: at
    key: [meter, at]
    columns:
      - {name: meter, type: integer}
      - {name: at, type: timestamp}
      - {name: kwh, type: number}
""")
    project = project_in(tmp_path)
    assert ingest(project, write(tmp_path, "a.csv", "meter,at,kwh", "7,2025-06-01T10:00:00Z,1.5"), "readings", a=a).ok
    report = ingest(project, write(tmp_path, "b.csv", "meter,at,kwh", "07,2025-06-01T12:00:00+02:00,2", "7,2025-06-01T11:00:00Z,1",
                                   "7,2025-06-01T13:00:00+02:00,3"), "readings", a=a)
    assert problems(report) == [(1, 2, "meter", "ingested-key"), (3, 4, "meter", "duplicate")]
    assert report.problems[1].message.endswith("the same as row 2")


# -- quarantine ---------------------------------------------------------------------------------------------


def test_quarantine_ingests_the_good_rows_and_keeps_the_bad_ones_with_their_errors(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    quarantine = tmp_path / "quarantine" / "bad-rows.csv"
    path = write(tmp_path, "t.csv", HEADER,
                 row(ticket_id="T1"),
                 row(ticket_id="T2", channel="fax", opened_at="2025-06-01 08:00:00"),
                 row(ticket_id="T3"),
                 row(ticket_id="T1", note="again"),
                 row(ticket_id="T5"))
    report = ingest(project, path, quarantine=quarantine)
    assert report.ok and (report.rows_read, report.rows_ingested, report.rows_quarantined) == (5, 3, 2)
    assert report.quarantine_file == quarantine
    assert report.summary().endswith(f"; 2 bad rows quarantined in {quarantine}")
    [batch] = project.batches("tickets")
    assert [r[0] for r in parquet_rows(batch.data_file)] == ["T1", "T3", "T5"]
    assert (batch.manifest["rows"], batch.manifest["quarantined"]) == (3, 2)

    with quarantine.open(newline="", encoding="utf-8") as handle:
        kept = list(csv.DictReader(handle))
    assert [list(r)[-1] for r in kept] == ["error", "error"]
    assert [(r["ticket_id"], r["channel"], r["opened_at"], r["note"]) for r in kept] == [
        ("T2", "fax", "2025-06-01 08:00:00", ""), ("T1", "phone", "2025-06-01T08:00:00Z", "again")]  # original values
    assert kept[0]["error"].startswith("row 2: ")
    assert "channel: 'fax' is not an allowed value" in kept[0]["error"]
    assert "opened_at: '2025-06-01 08:00:00' has no UTC offset" in kept[0]["error"]
    assert kept[1]["error"] == "row 4: ticket_id: duplicate key ticket_id='T1': the same as row 1"


def test_the_quarantine_file_cannot_be_the_input(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2", store="0"))
    report = ingest(project_in(tmp_path), path, quarantine=tmp_path / "." / "t.csv")
    assert problems(report) == [(None, None, None, "quarantine")]
    assert path.read_text(encoding="utf-8").count("\n") == 3  # untouched


def test_a_fixed_quarantine_file_can_be_ingested_afterwards(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    quarantine = tmp_path / "bad.csv"
    assert ingest(project, write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2", store="0")), quarantine=quarantine).ok
    with quarantine.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fixed = write(tmp_path, "fixed.csv", HEADER, *(row(**{**{k: v for k, v in r.items() if k != "error"}, "store": "3"}) for r in rows))
    report = ingest(project, fixed)
    assert report.ok and report.rows_ingested == 1 and len(project.batches("tickets")) == 2


def test_a_batch_that_cannot_be_written_leaves_no_quarantine_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bad rows are set aside only together with the good rows: a failed batch write leaves neither."""
    import vested.ingest.pipeline

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vested.ingest.pipeline, "write_batch", full_disk)
    quarantine = tmp_path / "bad.csv"
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2", store="0")), quarantine=quarantine)
    assert report.refused and [p.code for p in report.problems] == ["write-error"]
    assert "No space left on device" in report.problems[0].message
    assert not quarantine.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bad.csv")] == []  # no temporary file either
    assert project.batches("tickets") == []


# -- numbers: stored exactly, with up to 9 decimal places ------------------------------------------------------


def test_numbers_are_stored_exactly_when_they_fit(tmp_path: Path) -> None:
    """Trailing zeros and exponents are fine when the value itself has at most 9 places: nothing is rounded."""
    project = project_in(tmp_path)
    path = write(tmp_path, "t.csv", HEADER, row(satisfaction="4.500000000000"),  # 13 written, 1 needed
                 row(ticket_id="T2", satisfaction="1.000000001"),                  # exactly 9
                 row(ticket_id="T3", satisfaction="3000000000e-9"),                # 3: the zeros cancel the exponent
                 row(ticket_id="T4", satisfaction="0.5E+1"))                       # 5
    report = ingest(project, path)
    assert report.ok, format_diagnostics(report.diagnostics())
    [batch] = project.batches("tickets")
    stored = [r[6] for r in parquet_rows(batch.data_file)]
    assert stored == [Decimal("4.5"), Decimal("1.000000001"), Decimal(3), Decimal(5)]


# -- JSON Lines and Parquet ------------------------------------------------------------------------------------


def test_json_lines_are_checked_like_csv_with_line_numbers(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    good = ('{"ticket_id": "T1", "store": 12, "channel": "phone", "opened_at": "2025-06-01T08:00:00Z", "first_contact": true, '
            '"satisfaction": 4.5}')
    path = write(tmp_path, "t.jsonl", good, "",
                 '{"ticket_id": "T2", "store": 12.5, "opened_at": "2025-06-01T08:00:00", "channel": ["phone"]}',
                 '{"ticket_id": "T3", "opened_at": "2025-06-01T08:00:00+02:00", "first_contact": "no", "satisfaction": null}')
    report = ingest(project, path)
    assert problems(report) == [(2, 3, "store", "integer"), (2, 3, "channel", "nested-value"), (2, 3, "opened_at", "naive-timestamp")]
    assert stored_files(project) == []

    fixed = write(tmp_path, "fixed.ndjson", good, "",
                  '{"ticket_id": "T3", "opened_at": "2025-06-01T08:00:00+02:00", "first_contact": "no", "satisfaction": null}')
    report = ingest(project, fixed)
    assert report.ok and report.rows_ingested == 2, format_diagnostics(report.diagnostics())
    rows = parquet_rows(project.batches("tickets")[0].data_file)
    assert [(r[0], r[1], r[3], r[5], r[6]) for r in rows] == [
        ("T1", 12, datetime(2025, 6, 1, 8, tzinfo=UTC), True, Decimal("4.5")),
        ("T3", None, datetime(2025, 6, 1, 6, tzinfo=UTC), False, None)]
    assert project.batches("tickets")[0].manifest["format"] == "jsonl"


def test_json_keys_are_taken_literally(tmp_path: Path) -> None:
    """A key that looks like a JSON path is still just a key (here an unknown column)."""
    report = ingest(project_in(tmp_path), write(tmp_path, "t.jsonl",
                                                '{"ticket_id": "T1", "opened_at": "2025-06-01T08:00:00Z", "$.store": 3, "a\\"b": 1}'))
    assert problems(report) == [(1, 1, "$.store", "unknown-column"), (1, 1, 'a"b', "unknown-column")]


def test_a_json_line_that_is_not_an_object_is_reported(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    report = ingest(project, write(tmp_path, "t.jsonl", '{"ticket_id": "T1", "opened_at": "2025-06-01T08:00:00Z"}', "{oops", "[1, 2]"))
    assert problems(report) == [(2, 2, None, "invalid-json"), (3, 3, None, "not-an-object")]
    assert stored_files(project) == []


def test_parquet_with_typed_columns_is_ingested(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    path = tmp_path / "t.parquet"
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT * FROM (VALUES
            ('T1', 12, 'phone', TIMESTAMPTZ '2025-06-01 10:00:00+02', true, 4.5::DOUBLE, DATE '2025-06-01'),
            ('T2', 13, 'remote', TIMESTAMPTZ '2025-06-02 10:00:00+00', false, NULL, NULL))
            AS t(ticket_id, store, channel, opened_at, first_contact, satisfaction, day)) TO '{path}' (FORMAT parquet)""")
    report = ingest(project, path)
    assert report.ok, format_diagnostics(report.diagnostics())
    assert {p.column for p in report.problems} == {"resolved_at", "note"}  # missing optional columns: warnings
    rows = parquet_rows(project.batches("tickets")[0].data_file)
    assert [(r[0], r[1], r[3], r[5], r[6], r[7]) for r in rows] == [
        ("T1", 12, datetime(2025, 6, 1, 8, tzinfo=UTC), True, Decimal("4.5"), datetime(2025, 6, 1).date()),
        ("T2", 13, datetime(2025, 6, 2, 10, tzinfo=UTC), False, None, None)]


def test_parquet_timestamps_without_a_time_zone_are_refused(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    path = tmp_path / "naive.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 'T1' AS ticket_id, TIMESTAMP '2025-06-01 08:00:00' AS opened_at, 1.5 AS store) TO '{path}' "
                    "(FORMAT parquet)")
    report = ingest(project, path)
    assert problems(report) == [(1, None, "store", "integer"), (1, None, "opened_at", "naive-timestamp")]
    assert "naive.parquet, row 1, column 'opened_at'" in format_diagnostics(report.diagnostics())
    assert stored_files(project) == []


# -- the built-in `reported` dataset ---------------------------------------------------------------------------


def test_reported_values_are_checked_against_the_metrics(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    header = "metric,period,value,reported_by,note"
    report = ingest(project, write(tmp_path, "reported.csv", header,
                                   "survey_score,2025-06,81.5,buyer,quarterly survey",
                                   "survey_scor,2025-06,80,buyer,",      # unknown metric
                                   "ticket_count,2025-06,12,buyer,",     # measured, not reported
                                   "audit_score,2025-06,3,buyer,",       # reported by the seller
                                   "survey_score,2025-13,80,buyer,",     # not a month
                                   "survey_score,2025-07,101,buyer,"),   # above the metric's maximum
                    "reported")
    assert problems(report) == [(2, 3, "metric", "unknown-metric"), (3, 4, "metric", "not-reported"),
                                (4, 5, "reported_by", "reporter"), (5, 6, "period", "period"),
                                (6, 7, "value", "maximum")]
    unknown, measured, reporter, _, high = report.problems
    assert unknown.hint == "did you mean 'survey_score'?"
    assert measured.message == "metric 'ticket_count' is measured from data, not reported"
    assert reporter.message == "metric 'audit_score' is reported by 'seller', not 'buyer'"
    assert high.message == "101 is above the maximum 100" and high.hint == "metric 'survey_score' must be at most 100"
    assert stored_files(project) == []

    good = ingest(project, write(tmp_path, "ok.csv", header, "survey_score,2025-06,81.5,buyer,survey", "audit_score,2025-06,3,seller,"),
                  "reported")
    assert good.ok and good.rows_ingested == 2
    assert parquet_rows(project.batches("reported")[0].data_file)[0] == ("survey_score", "2025-06", Decimal("81.5"), "buyer", "survey")
    again = ingest(project, write(tmp_path, "again.csv", header, "survey_score,2025-06,70,buyer,"), "reported")
    assert problems(again) == [(1, 2, "metric", "ingested-key")]  # one value per metric and period


# -- SQL sources --------------------------------------------------------------------------------------------


def make_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (ticket_id TEXT, store INTEGER, channel TEXT, opened_at TEXT, first_contact INTEGER, "
                   "satisfaction REAL)")
        db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?)", [
            ("T1", 12, "phone", "2025-06-01T08:00:00Z", 1, 4.5),
            ("T2", 13, "remote", "2025-06-02T10:00:00+02:00", 0, None),
            ("T3", 14, "on-site", "2025-06-03 08:00:00", None, 3.0),
        ])
    return f"sqlite:///{path}"


def test_a_sqlite_table_is_ingested_through_sqlalchemy(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    url = make_sqlite(tmp_path / "source.db")
    report = ingest_sql(HELPDESK, project, "tickets", url, table="tickets", who="bob", now=NOW)
    assert problems(report) == [(3, None, "opened_at", "naive-timestamp")]  # a SQL source has rows, not lines
    assert report.refused and stored_files(project) == []

    query = "SELECT * FROM tickets WHERE store < 14 AND channel NOT IN (':x', '50%')"  # no bind parameters, no % formatting
    report = ingest_sql(HELPDESK, project, "tickets", url, query=query, who="bob", now=NOW)
    assert report.ok and report.rows_ingested == 2, format_diagnostics(report.diagnostics())
    [batch] = project.batches("tickets")
    assert batch.manifest["format"] == "sql" and batch.manifest["query"] == query
    assert batch.manifest["file"] == f"{url}#query" and batch.manifest["who"] == "bob"
    rows = parquet_rows(batch.data_file)
    assert [(r[0], r[3], r[5], r[6]) for r in rows] == [("T1", datetime(2025, 6, 1, 8, tzinfo=UTC), True, Decimal("4.5")),
                                                        ("T2", datetime(2025, 6, 2, 8, tzinfo=UTC), False, None)]
    again = ingest_sql(HELPDESK, project, "tickets", url, query=query, who="bob", now=NOW)
    assert problems(again) == [(None, None, None, "already-ingested")]


def test_a_database_that_cannot_be_read_is_a_clear_problem_without_the_password(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    url = make_sqlite(tmp_path / "source.db")
    missing = ingest_sql(HELPDESK, project, "tickets", url, table="no_such_table", who="bob", now=NOW)
    assert problems(missing) == [(None, None, None, "sql-source")] and "no_such_table" in missing.problems[0].message
    refused = ingest_sql(HELPDESK, project, "tickets", "postgresql://ingest:s3cret@127.0.0.1:1/none", table="t", who="bob", now=NOW)
    assert problems(refused) == [(None, None, None, "sql-source")]
    assert "s3cret" not in format_diagnostics(refused.diagnostics()) and "s3cret" not in refused.source
    assert stored_files(project) == []


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.postgres
def test_a_postgresql_table_is_ingested(tmp_path: Path) -> None:
    import psycopg

    try:
        connection = psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the PostgreSQL server at 127.0.0.1:5432 (database test, user postgres): {exc}")
        pytest.skip(f"no PostgreSQL server answers at 127.0.0.1:5432 (database test, user postgres): {exc}")
    table = f"ingest_{uuid.uuid4().hex[:12]}"
    try:
        connection.execute(f"CREATE TABLE {table} (ticket_id text, store bigint, opened_at timestamptz, local_time timestamp, "
                           "first_contact boolean, satisfaction numeric(5, 2))")
        connection.execute(f"INSERT INTO {table} VALUES ('T1', 12, '2025-06-01 10:00:00+02', '2025-06-01 10:00:00', true, 4.50), "
                           "('T2', 13, '2025-06-02 08:00:00+00', '2025-06-02 08:00:00', false, NULL)")
        project = project_in(tmp_path)
        columns = "ticket_id, store, opened_at, first_contact, satisfaction"
        query = f"SELECT {columns} FROM {table} WHERE ticket_id <> '%:x' AND store::text <> '0' ORDER BY ticket_id"
        report = ingest_sql(HELPDESK, project, "tickets", POSTGRES, query=query, who="carol", now=NOW)
        assert report.ok and report.rows_ingested == 2, format_diagnostics(report.diagnostics())
        rows = parquet_rows(project.batches("tickets")[0].data_file)
        assert [(r[0], r[1], r[3], r[5], r[6]) for r in rows] == [
            ("T1", 12, datetime(2025, 6, 1, 8, tzinfo=UTC), True, Decimal("4.5")),
            ("T2", 13, datetime(2025, 6, 2, 8, tzinfo=UTC), False, None)]
        # A `timestamp without time zone` column names no moment: refused like a naive timestamp in a file.
        naive = ingest_sql(HELPDESK, project_in(tmp_path / "other"), "tickets", POSTGRES,
                           query=f"SELECT ticket_id, local_time AS opened_at FROM {table} ORDER BY ticket_id", who="carol", now=NOW)
        assert [(p.row, p.column, p.code) for p in naive.problems if p.is_error] == [(1, "opened_at", "naive-timestamp"),
                                                                                     (2, "opened_at", "naive-timestamp")]
        whole = ingest_sql(HELPDESK, project_in(tmp_path / "third"), "tickets", "postgresql://postgres@127.0.0.1:5432/test",
                           table=table, who="carol", now=NOW)
        assert {p.column for p in whole.problems if p.code == "unknown-column"} == {"local_time"}
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.close()


# -- the project folder ---------------------------------------------------------------------------------------


def test_temporary_files_and_batches_without_a_manifest_are_invisible_and_cleaned_up(tmp_path: Path) -> None:
    project = project_in(tmp_path)
    folder = project.batches_dir / "tickets"
    folder.mkdir(parents=True)
    (folder / ".abc.parquet.x1y2.tmp").write_bytes(b"PAR1 half")
    (folder / ".abc.json.x1y2.tmp").write_text("{", encoding="utf-8")
    (folder / "orphan.parquet").write_bytes(b"PAR1 without manifest")
    assert project.batches("tickets") == []
    report = ingest(project, write(tmp_path, "t.csv", HEADER, row()))
    assert report.ok and [b.batch_id for b in project.batches("tickets")] == [report.batch_id]
    # under the dataset's lock no ingest is running: the orphan data file is a killed ingest's, and goes too
    assert sorted(p.name for p in folder.iterdir() if p.name != ".lock") == sorted(
        [f"{report.batch_id}.parquet", f"{report.batch_id}.json"])


def test_the_clock_is_given_with_a_time_zone(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        ingest_file(HELPDESK, project_in(tmp_path), "tickets", write(tmp_path, "t.csv", HEADER, row()), who="a", now=datetime(2025, 7, 1))
