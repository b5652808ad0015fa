"""Bad input never wins (measurement files): each class of hostile input is refused, located, with nothing written.

Classes, each generated from a seed: malformed JSON Lines a lenient reader would take; values with a NUL,
impossible UTC offsets or years outside 1900-2999; files that are not what their name says; cells a
spreadsheet would run as formulas (neutralised in the quarantine file); machines that fail (a full disk,
unwritable or impossible paths); and what killed ingests leave behind.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from pathlib import Path

import pytest

from tests.test_ingest import GOOD, HEADER, HELPDESK, NOW, ingest, project_in, row, stored_files, write
from vested.adapters.csvsafe import neutralise
from vested.ingest import IngestReport, ingest_file
from vested.storage.folder import open_project

SEEDS = range(12)


def located(report: IngestReport) -> list[tuple[str, int | None, int | None, str | None]]:
    """(code, row, line, column) of each error; every error has a line or a column."""
    errors = [p for p in report.problems if p.is_error]
    for p in errors:
        assert p.line is not None or p.column is not None or p.file, p
        assert p.message and p.hint, p
    return [(p.code, p.row, p.line, p.column) for p in errors]


def refused_and_nothing_written(report: IngestReport, tmp_path: Path) -> None:
    assert report.refused
    assert stored_files(project_in(tmp_path)) == []


def json_row(**changes: str) -> dict[str, str]:
    return {**{k: v for k, v in GOOD.items() if v}, **changes}


# --- JSON Lines: strict JSON, one object per line ---------------------------------------------------------


def malformed_line(rng: random.Random, number: int) -> tuple[str, str, int]:
    """A JSON object text with one defect a lenient reader accepts: (text, code, 1-based character column)."""
    fields = {k: v for k, v in json_row(ticket_id=f"T{number}").items() if k != "satisfaction"}
    body = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items())
    kind = rng.choice(["duplicate-key", "trailing-comma", "not-json"])
    if kind == "duplicate-key":
        key = rng.choice(list(fields))
        extra = f"{json.dumps(key)}: {json.dumps('again')}"
        text = "{" + body + ", " + extra + "}"
        return text, kind, text.rindex(json.dumps(key) + ":") + 1
    if kind == "trailing-comma":
        text = "{" + body + rng.choice([",", ", ", " ,"]) + "}"
        return text, kind, text.rindex(",") + 1
    word = rng.choice(["NaN", "Infinity", "-Infinity", "inf", "nan"])
    text = "{" + body + f', "satisfaction": {word}' + "}"
    return text, kind, text.rindex(word.lstrip("-")) + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_malformed_json_lines_are_refused_at_their_row_line_and_character(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines: list[str] = []
    expected = []
    objects = 0
    for i in range(1, rng.randint(3, 12)):
        if rng.random() < 0.2:
            lines.append("")  # a blank line is a line, not a row
        objects += 1
        if rng.random() < 0.4 or (i == 1 and seed % 3 == 0):
            text, code, column = malformed_line(rng, i)
            expected.append((code, objects, len(lines) + 1, column))
        else:
            text = json.dumps(json_row(ticket_id=f"T{i}", store=str(rng.randint(1, 500))))
        lines.append(text)
    if not expected:
        text, code, column = malformed_line(rng, 99)
        lines.append(text)
        expected.append((code, objects + 1, len(lines), column))
    report = ingest(project_in(tmp_path), write(tmp_path, "t.jsonl", *lines))
    refused_and_nothing_written(report, tmp_path)
    assert [(p.code, p.row, p.line, p.column_number) for p in report.problems if p.is_error] == expected
    for _, _, line, _ in expected:
        with pytest.raises(ValueError):
            json.loads(lines[line - 1], object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constants(name: str) -> object:
    raise ValueError(f"constant {name}")


def test_an_extra_json_key_is_located_at_the_first_object_that_has_it(tmp_path: Path) -> None:
    lines = [json.dumps(json_row(ticket_id="T1")), "", json.dumps(json_row(ticket_id="T2")),
             json.dumps({**json_row(ticket_id="T3"), "colour": "red"})]
    report = ingest(project_in(tmp_path), write(tmp_path, "t.jsonl", *lines))
    refused_and_nothing_written(report, tmp_path)
    assert located(report) == [("unknown-column", 3, 4, "colour")]


# --- values: NUL, offsets, the calendar -------------------------------------------------------------------


def hostile_value(rng: random.Random) -> tuple[str, str, str]:
    """(column, value, code) of one bad value."""
    kind = rng.choice(["nul", "utc-offset", "time-range", "time-range-utc", "date-range"])
    if kind == "nul":
        column = rng.choice(["note", "channel", "ticket_id"])
        return column, rng.choice(["a\x00", "\x00", "pho\x00ne"]) + str(rng.getrandbits(32)), "nul"
    if kind == "utc-offset":
        hours = rng.choice([15, 18, 23, 24, 25, 99])
        return "opened_at", f"2025-06-01T08:00:00{rng.choice('+-')}{hours:02d}:{rng.choice(['00', '30'])}", "utc-offset"
    if kind == "time-range":
        year = rng.choice([0, 1, 999, 1899, 3000, 9999])
        return "opened_at", f"{year:04d}-06-01T08:00:00Z", "time-range"
    if kind == "time-range-utc":  # in range as written, out of it in UTC
        return "opened_at", rng.choice(["2999-12-31T23:30:00-12:00", "1900-01-01T00:30:00+01:00"]), "time-range"
    return "day", f"{rng.choice([0, 1899, 3000, 9999]):04d}-01-01", "time-range"


@pytest.mark.parametrize("seed", SEEDS)
def test_hostile_values_are_refused_at_their_row_and_column(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rows, expected = [], []
    for i in range(1, rng.randint(2, 9)):
        if rng.random() < 0.5:
            column, value, code = hostile_value(rng)
            rows.append(row(**{"ticket_id": f"T{i}", column: value}))
            expected.append((code, i, i + 1, column))
        else:
            rows.append(row(ticket_id=f"T{i}"))
    if not expected:
        column, value, code = hostile_value(rng)
        rows.append(row(**{"ticket_id": "T99", column: value}))
        expected.append((code, len(rows), len(rows) + 1, column))
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER, *rows))
    refused_and_nothing_written(report, tmp_path)
    assert located(report) == expected


def test_a_valid_offset_and_the_calendars_ends_are_accepted(tmp_path: Path) -> None:
    rows = [row(ticket_id="T1", opened_at="2025-06-01T08:00:00+14:00"), row(ticket_id="T2", opened_at="2025-06-01T08:00:00-12:00"),
            row(ticket_id="T3", opened_at="1900-01-01T00:00:00Z", day="1900-01-01"),
            row(ticket_id="T4", opened_at="2999-12-31T23:59:59Z", day="2999-12-31")]
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER, *rows))
    assert report.ok and report.rows_ingested == 4, located(report)


def test_spaces_and_a_plus_sign_in_typed_values_are_removed_and_reported_once_per_column(tmp_path: Path) -> None:
    rows = [row(ticket_id="T1", store=" 5 "), row(ticket_id="T2", store="+6"), row(ticket_id="T3", opened_at="2025-06-01T08:00:00Z  ")]
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER, *rows))
    assert report.ok and report.rows_ingested == 3
    notes = [(p.code, p.row, p.column, p.severity.value) for p in report.problems if p.code == "normalised"]
    assert notes == [("normalised", 1, "store", "warning"), ("normalised", 3, "opened_at", "warning")]
    assert "2 values" in next(p.message for p in report.problems if p.column == "store")


def test_a_column_name_with_spaces_is_refused_with_the_name_meant(tmp_path: Path) -> None:
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER.replace("store", "store "), row()))
    refused_and_nothing_written(report, tmp_path)
    assert located(report) == [("header", None, 1, "store ")]
    assert "'store'" in report.problems[0].hint


# --- the file is not what its name says -----------------------------------------------------------------


def disguised(rng: random.Random, text: str) -> tuple[bytes, str, str]:
    kind = rng.choice(["gzip", "utf-16", "utf-16-le", "utf-32", "zip", "parquet"])
    if kind == "gzip":
        return gzip.compress(text.encode()), "file-format", "gzip"
    if kind == "utf-16":
        return text.encode("utf-16"), "encoding", "UTF-16"
    if kind == "utf-16-le":  # no byte order mark
        return text.encode("utf-16-le"), "encoding", "UTF-16"
    if kind == "utf-32":
        return text.encode("utf-32"), "encoding", "UTF-32"
    if kind == "zip":
        return b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(64)), "file-format", "ZIP"
    return b"PAR1" + bytes(rng.randrange(256) for _ in range(64)), "file-format", "Parquet"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_file_that_is_not_its_format_is_refused_at_line_1_with_what_it_is(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    suffix = rng.choice([".csv", ".jsonl"])
    text = (HEADER + "\n" + row() + "\n") if suffix == ".csv" else json.dumps(json_row()) + "\n"
    data, code, what = disguised(rng, text)
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    report = ingest(project_in(tmp_path), path)
    refused_and_nothing_written(report, tmp_path)
    assert located(report) == [(code, None, 1, None)]
    assert what in report.problems[0].message


def test_a_header_that_is_not_utf8_is_an_encoding_problem_at_its_byte(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.replace("channel", "chann\xe9l").encode("latin-1") + b"\n" + row().encode() + b"\n")
    report = ingest(project_in(tmp_path), path)
    refused_and_nothing_written(report, tmp_path)
    [problem] = report.problems
    assert (problem.code, problem.line, problem.column_number) == ("encoding", 1, HEADER.index("channel") + 6)


def test_a_file_named_parquet_that_is_not_is_refused(tmp_path: Path) -> None:
    report = ingest(project_in(tmp_path), write(tmp_path, "t.parquet", HEADER, row()))
    refused_and_nothing_written(report, tmp_path)
    assert [p.code for p in report.problems] == ["file-format"] and "PAR1" in report.problems[0].message


# --- formulas in the quarantine file ----------------------------------------------------------------------

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("seed", SEEDS)
def test_values_a_spreadsheet_would_run_are_neutralised_in_the_quarantine_file(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rows, notes = [], []
    for i in range(1, rng.randint(3, 10)):
        note = rng.choice(FORMULA_STARTS) + rng.choice(["HYPERLINK(\"http://x.example\")", "1+2", "cmd|' /C calc'!A0", "SUM(A1:A9)"])
        notes.append(note)
        # store 0 is below the minimum: quarantined; JSON, so that a value may begin with a carriage return
        rows.append(json.dumps(json_row(ticket_id=f"T{i}", store="0", note=note)))
    quarantine = tmp_path / "bad.csv"
    report = ingest(project_in(tmp_path), write(tmp_path, "t.jsonl", *rows), quarantine=quarantine)
    assert report.ok and report.rows_quarantined == len(rows)
    with quarantine.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [r["note"] for r in written] == ["'" + n for n in notes]
    assert all(not cell.startswith(tuple(FORMULA_STARTS)) for r in written for cell in r.values())


@pytest.mark.parametrize("value", ["-5", "+2.5", "-1.2e3", "-0.5", "2025-06-01T08:00:00-05:00", "plain", ""])
def test_plain_numbers_and_ordinary_text_are_left_alone(value: str) -> None:
    assert neutralise(value) == value


# --- machines that fail ---------------------------------------------------------------------------------


def test_a_full_disk_while_writing_the_batch_is_a_clear_error_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vested.storage.folder

    calls = []

    def full_disk(path: Path, data: bytes) -> None:  # the data file is written; then the disk is full
        calls.append(path)
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(vested.storage.folder, "atomic_write_bytes", full_disk)  # the manifest, as the folder commits it
    quarantine = tmp_path / "bad.csv"
    report = ingest(project_in(tmp_path), write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2", store="0")),
                    quarantine=quarantine)
    assert calls  # the manifest was being written: the data file before it must be gone too
    assert [p.code for p in report.problems] == ["write-error"] and "No space left" in report.problems[0].message
    refused_and_nothing_written(report, tmp_path)
    assert not quarantine.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".bad")] == []


@pytest.mark.parametrize("case", ["project-is-file", "project-inside-file", "quarantine-is-folder", "quarantine-inside-file"])
def test_impossible_paths_are_refused_before_anything_is_written(tmp_path: Path, case: str) -> None:
    source = write(tmp_path, "t.csv", HEADER, row(), row(ticket_id="T2", store="0"))
    a_file = write(tmp_path, "a-file.txt", "x")
    project = open_project(tmp_path / ".vested")
    quarantine = tmp_path / "bad.csv"
    if case == "project-is-file":
        project = open_project(a_file)
    elif case == "project-inside-file":
        project = open_project(a_file / "project")
    elif case == "quarantine-is-folder":
        quarantine = tmp_path
    else:
        quarantine = a_file / "bad.csv"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    report = ingest_file(HELPDESK, project, "tickets", source, who="a", now=NOW, quarantine=quarantine)
    assert report.refused and [p.code for p in report.problems] == ["quarantine" if "quarantine" in case else "project"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_read_only_project_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root a chmod does not stop writes; a read-only file system does: os.access answers for both."""
    import vested.ingest.pipeline

    readonly = tmp_path / "ro"
    readonly.mkdir()
    real_access = vested.ingest.pipeline.os.access
    monkeypatch.setattr(vested.ingest.pipeline.os, "access",
                        lambda path, mode: False if Path(path) == readonly else real_access(path, mode))
    report = ingest(open_project(readonly / ".vested"), write(tmp_path, "t.csv", HEADER, row()))
    assert report.refused and [p.code for p in report.problems] == ["project"]
    assert list(readonly.iterdir()) == []


# --- what killed ingests leave behind ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_leftovers_of_killed_ingests_are_cleaned_and_finished_batches_kept(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    project = project_in(tmp_path)
    first = ingest(project, write(tmp_path, "a.csv", HEADER, row()))
    folder = project.batches_dir / "tickets"
    leftovers = [f".{rng.getrandbits(32):08x}.parquet.{rng.getrandbits(24):06x}.tmp" for _ in range(rng.randint(1, 3))]
    leftovers += [f"{rng.getrandbits(64):016x}.parquet" for _ in range(rng.randint(1, 3))]  # data files without manifest
    for name in leftovers:
        (folder / name).write_bytes(b"PAR1 partial")
    second = ingest(project, write(tmp_path, "b.csv", HEADER, row(ticket_id="T2")))
    assert first.ok and second.ok
    kept = sorted(p.name for p in folder.iterdir() if p.name != ".lock")
    assert kept == sorted(f"{b}.{ext}" for b in (first.batch_id, second.batch_id) for ext in ("json", "parquet"))



# --- row rules: the columns of a row make sense together ----------------------------------------------

RULED = """\
vested: 1
id: ruled
title: Ruled
parties:
  - {id: buyer, name: Buyer Co, role: customer}
  - {id: seller, name: Seller Co, role: supplier}
datasets:
  - id: tickets
    time: opened_at
    key: [ticket_id]
    columns:
      - {name: ticket_id, required: true}
      - {name: opened_at, type: timestamp}
      - {name: resolved_at, type: timestamp}
      - {name: minutes, type: number}
      - {name: channel}
    rules: ["resolved_at >= opened_at", "minutes <= 480", "channel != 'unknown'"]
"""


@pytest.mark.parametrize("seed", SEEDS)
def test_rows_that_break_a_rule_are_refused_at_their_row_and_column(tmp_path: Path, seed: int) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from tests.helpers import agreement

    rng = random.Random(seed)
    ruled = agreement(RULED)
    lines, expected = ["ticket_id,opened_at,resolved_at,minutes,channel"], []
    for i in range(1, rng.randint(3, 15)):
        opened = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 40000))
        resolved = opened + timedelta(minutes=rng.randint(-600, 600))
        zone = timezone(timedelta(hours=rng.randint(-12, 14)))  # the same instant in another offset: compared as instants
        minutes = rng.choice([str(rng.randint(0, 700)), "", f"{rng.randint(0, 700)}.5"])
        channel = rng.choice(["phone", "remote", "unknown", ""])
        resolved_text = "" if rng.random() < 0.2 else resolved.astimezone(zone).isoformat()
        lines.append(f"T{i},{opened.isoformat()},{resolved_text},{minutes},{channel}")
        if resolved_text and resolved < opened:
            expected.append((i, "resolved_at"))
        if minutes and float(minutes) > 480:
            expected.append((i, "minutes"))
        if channel == "unknown":
            expected.append((i, "channel"))
    report = ingest_file(ruled, project_in(tmp_path), "tickets", write(tmp_path, "t.csv", *lines), who="a", now=NOW)
    found = [(p.row, p.column) for p in report.problems if p.is_error]
    columns = ["opened_at", "resolved_at", "minutes", "channel"]
    assert found == sorted(expected, key=lambda e: (e[0], columns.index(e[1])))
    assert report.refused == bool(expected)
    assert all(p.code == "rule" and "the rule `" in p.message for p in report.problems if p.is_error)


@pytest.mark.parametrize(("rule", "words"), [
    ("closed_at >= opened_at", "not a column"), ("opened_at >= minutes", "compares a timestamp with a number"),
    ("minutes <= 'many'", "compares the number column"), ("opened_at > '2025-13-01'", "is not a timestamp"),
    ("__import__('os').system('x')", "is not a row rule"), ("minutes <= 480 or 1", "neither a column nor a value"),
    ("channel", "is not a row rule"), ("minutes <= +480", "neither a column nor a value"),
])
def test_a_rule_that_cannot_be_checked_is_refused_where_it_is_written(rule: str, words: str) -> None:
    from vested.adapters.load import load_agreement_text

    written = """rules: ["resolved_at >= opened_at", "minutes <= 480", "channel != 'unknown'"]"""
    text = RULED.replace(written, f"rules: [{json.dumps(rule)}]")
    loaded = load_agreement_text(text, "ruled.yaml", lint=False)
    errors = [d for d in loaded.diagnostics if d.is_error]
    assert errors and words in errors[0].message, errors
    assert errors[0].location is not None and errors[0].location.line == text.splitlines().index(f"    rules: [{json.dumps(rule)}]") + 1


# --- through the command line: exit 1 with located errors, never the internal-error path ---------------


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_the_cli_refuses_hostile_sources_with_exit_1(tmp_path: Path, seed: int) -> None:
    from typer.testing import CliRunner

    from vested.cli import app

    rng = random.Random(seed)
    agreement_file = tmp_path / "a.yaml"
    agreement_file.write_text(RULED, encoding="utf-8")
    header = "ticket_id,opened_at,resolved_at,minutes,channel"
    good = "T1,2025-06-01T08:00:00Z,2025-06-01T09:00:00Z,30,phone"
    source = tmp_path / rng.choice(["t.csv", "t.jsonl"])
    kind = rng.choice(["gzip", "utf-16", "offset", "nul", "rule", "json"])
    if kind == "gzip":
        source.write_bytes(gzip.compress((header + "\n" + good + "\n").encode()))
    elif kind == "utf-16":
        source.write_bytes((header + "\n" + good + "\n").encode("utf-16"))
    elif source.suffix == ".jsonl" or kind == "json":
        source = source.with_suffix(".jsonl")
        source.write_text('{"ticket_id": "T1", "ticket_id": "T2", "opened_at": "2025-06-01T08:00:00Z",}\n', encoding="utf-8")
    else:
        bad = {"offset": "T1,2025-06-01T08:00:00+25:00,,,", "nul": "T1,2025-06-01T08:00:00Z,,,ph\x00one",
               "rule": "T1,2025-06-01T08:00:00Z,2025-05-01T08:00:00Z,,"}[kind]
        source.write_text(header + "\n" + bad + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(agreement_file), "tickets", str(source), "--project", str(tmp_path / "p")])
    assert result.exit_code == 1, (kind, result.output)
    assert isinstance(result.exception, SystemExit)  # not an exception escaping to main()'s internal-error handler
    assert not (tmp_path / "p" / "batches" / "tickets").exists() or stored_files(open_project(tmp_path / "p")) == []
