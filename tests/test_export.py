"""Spreadsheets out: --csv and --xlsx write every table, typed, and a statement a finance reader can audit.

The workbook is opened with openpyxl and read as a reader would: numbers are numbers, amounts carry
the currency's format, months are dates, the header row is frozen, and the net of each statement is
a formula over its lines whose values (summed here, by direction) give the net `vested settle --json`
reports.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from vested.cli import app
from vested.demo_data import write_helpdesk_csv
from vested.render.csv_out import render_csv
from vested.render.tables import ColumnSum, SameRow, Sheet
from vested.render.xlsx import render_xlsx

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
VESTED = EXAMPLES / "vested.yaml"
runner = CliRunner()


def vested(*args: object) -> Any:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "120"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# -- the renderers ---------------------------------------------------------------------------------------------

SHEET = Sheet("t", ("name", "amount", "month", "share"),
              (("=HYPERLINK(\"http://x\")", Decimal("-12.50"), date(2025, 6, 1), Decimal("0.25")),
               ("+1", Decimal("1234.5"), date(2025, 7, 1), None),
               ("@sum", Decimal(0), None, Decimal(1)),
               ("-2", Decimal("3"), None, None),
               ("\tx", Decimal("3"), None, None),
               ("plain", Decimal("7"), None, None)),
              {"amount": "money", "month": "month", "share": "percent"}, "EUR")


def test_csv_neutralises_text_that_would_run_as_a_formula_but_not_numbers() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(SHEET))))
    assert rows[0] == ["name", "amount", "month", "share"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@sum", "'-2", "'\tx", "plain"]
    assert rows[1][1:] == ["-12.50", "2025-06", "0.25"]  # a negative amount stays a number
    assert rows[2][1:] == ["1234.5", "2025-07", ""]


def test_xlsx_cells_are_typed_and_formatted() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx([SHEET])))
    ws = book["t"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["name", "amount", "month", "share"]
    name, amount, month, share = ws[2]
    assert name.data_type == "s" and name.value == "=HYPERLINK(\"http://x\")"  # text, never a formula
    assert isinstance(amount.value, int | float) and amount.value == -12.5
    assert "0.00" in amount.number_format and "EUR" in amount.number_format
    assert isinstance(month.value, datetime) and month.value.date() == date(2025, 6, 1) and month.number_format == "yyyy-mm"
    assert share.value == 0.25 and share.number_format.endswith("%")


def test_formulas_reference_their_cells() -> None:
    lines = Sheet("lines", ("period", "amount", "signed"), (("a", Decimal(5), SameRow("amount", False, Decimal(5))),
                                                            ("a", Decimal(2), SameRow("amount", True, Decimal(-2)))),
                  {"amount": "money", "signed": "money"})
    net = Sheet("net", ("period", "owed"), (("a", ColumnSum("lines", "signed", (("period", "period"),), Decimal(3), 2)),),
                {"owed": "money"})
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx([lines, net])))
    assert [book["lines"]["C2"].value, book["lines"]["C3"].value] == ["=B2", "=-B3"]
    assert book["net"]["B2"].value == "=ROUND(SUMIFS('lines'!$C$2:$C$3,'lines'!$A$2:$A$3,A2),2)"
    assert list(csv.reader(io.StringIO(render_csv(net))))[1] == ["a", "3"]


# -- settle, end to end ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    files = write_helpdesk_csv(root / "data", seed=7, start="2024-11", months=5)
    for dataset, path in files.items():
        assert vested("ingest", VESTED, dataset, path, "--project", root / "project").exit_code == 0
    return root


def test_a_statement_workbook_recomputes_the_net_from_its_lines(project: Path) -> None:
    book_path = project / "statements.xlsx"
    done = vested("settle", VESTED, "--from", "2025-01", "--to", "2025-03", "--project", project / "project",
                  "--replace", "--json", "--xlsx", book_path, "--csv", project / "statements.csv")
    assert done.exit_code == 0, done.output
    settled = json.loads(done.stdout)
    assert settled["exported"] == [str(project / "statements.csv"), str(project / "statements-net.csv"), str(book_path)]
    book = openpyxl.load_workbook(book_path)
    lines, net = book["lines"], book["net"]
    assert lines.freeze_panes == net.freeze_panes == "A2"
    header = [c.value for c in lines[1]]
    col = {name: i for i, name in enumerate(header)}
    rows = list(lines.iter_rows(min_row=2))
    for r, row in enumerate(rows, start=2):
        assert isinstance(row[col["period"]].value, datetime)
        assert isinstance(row[col["amount"]].value, int | float)
        assert "USD" in row[col["amount"]].number_format
        assert re.fullmatch(rf"=-?F{r}", row[col["signed amount"]].value), row[col["signed amount"]].value
    net_header = [c.value for c in net[1]]
    for n, entry in enumerate(settled["settled"], start=2):
        statement = entry["statement"]
        (owed,) = statement["net"]
        formula = net.cell(row=n, column=net_header.index("owed") + 1).value
        # the net cell sums the lines' signed amounts of its month and its pair of parties
        assert formula == (f"=SUMIFS('lines'!$H$2:$H${len(rows) + 1},'lines'!$A$2:$A${len(rows) + 1},A{n},"
                           f"'lines'!$G$2:$G${len(rows) + 1},D{n})")
        month = datetime.strptime(statement["period"], "%Y-%m")
        names = statement["parties"]
        total = Decimal(0)
        for row in rows:
            if row[col["period"]].value != month:
                continue
            amount = Decimal(str(row[col["amount"]].value))
            towards_net = (row[col["payer"]].value, row[col["payee"]].value) == (names[owed["payer"]], names[owed["payee"]])
            assert row[col["signed amount"]].value.startswith("=-") != towards_net
            total += amount if towards_net else -amount
        assert total == Decimal(owed["amount"]), statement["period"]
    # the CSV twin of the net sheet holds the values the formulas give
    net_csv = list(csv.DictReader((project / "statements-net.csv").open(encoding="utf-8")))
    assert [Decimal(r["owed"]) for r in net_csv] == [Decimal(e["statement"]["net"][0]["amount"]) for e in settled["settled"]]


def test_every_table_command_exports(project: Path, tmp_path: Path) -> None:
    scenario = EXAMPLES / "scenario.yaml"
    commands = {
        "price": ("price", VESTED, "--facts", EXAMPLES / "vested-facts-2025-06.yaml"),
        "measure": ("measure", VESTED, "--period", "2025-02", "--project", project / "project"),
        "scorecard": ("scorecard", VESTED, "--period", "2025-02", "--project", project / "project"),
        "economics": ("economics", VESTED, scenario),
        "compare": ("compare", EXAMPLES / "task-based.yaml", VESTED, "--scenario", scenario),
        "align": ("align", VESTED, scenario),
        "simulate": ("simulate", VESTED, scenario, "--runs", "50"),
    }
    for name, args in commands.items():
        book = tmp_path / f"{name}.xlsx"
        done = vested(*args, "--xlsx", book, "--csv", tmp_path / f"{name}.csv")
        assert done.exit_code == 0, (name, done.output)
        sheets = openpyxl.load_workbook(book).worksheets
        assert sheets and all(ws.freeze_panes == "A2" and ws.max_row >= 2 for ws in sheets), name
        assert (tmp_path / f"{name}.csv").read_text(encoding="utf-8").count("\n") >= 2, name


def test_a_file_that_cannot_be_written_is_a_diagnostic(tmp_path: Path) -> None:
    done = vested("price", VESTED, "--facts", EXAMPLES / "vested-facts-2025-06.yaml", "--xlsx", tmp_path / "no" / "x.xlsx")
    assert done.exit_code == 1 and "does not exist" in done.stderr and "Traceback" not in done.output
    done = vested("price", VESTED, "--facts", EXAMPLES / "vested-facts-2025-06.yaml", "--csv", "-", "--json")
    assert done.exit_code == 1 and "both print to standard output" in done.stdout
