"""Months: one reader of month labels (``periods.parse_month``), one ``Month`` type, no string compares.

An agreement's calendar starts in a month. A year (``2025``) or a quarter (``2025-Q2``) used to pass
the check and then meant different things to different commands; now the format refuses them.
"""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.helpers import PARTIES, agreement, diagnostics
from vested.core.periods import add_months, is_month, month_index, months_between, parse_month
from vested.core.scenario_values import Month as ScenarioMonth
from vested.core.values import Month, period_range


def with_calendar(start: str) -> str:
    return f"vested: 1\nid: t\ntitle: Test\n{PARTIES}calendar: {{start: {start}, months: 12}}\n"


def test_a_calendar_starts_in_a_month() -> None:
    loaded = agreement(with_calendar("2025-06"))
    assert loaded.calendar is not None and loaded.calendar.start == "2025-06"


@pytest.mark.parametrize(("start", "what"), [("2025", "a year"), ("2025-Q2", "a quarter"), ("'2025'", "a year")])
def test_a_calendar_that_starts_in_a_year_or_a_quarter_is_refused(start: str, what: str) -> None:
    (problem,) = [d for d in diagnostics(with_calendar(start), lint=False) if d.is_error]
    assert problem.path == ("calendar", "start") and problem.code == "invalid-period"
    assert f"is {what}, not a month" in problem.message and "2025-01" in problem.hint
    assert problem.location is not None and problem.location.line == 7  # vested, id, title, parties (3 lines), then calendar


def test_a_calendar_start_written_as_a_date_is_refused_with_the_month_to_write() -> None:
    (problem,) = [d for d in diagnostics(with_calendar("2025-06-01"), lint=False) if d.is_error]
    assert problem.path == ("calendar", "start") and "2025-06" in problem.hint


def test_the_scenario_format_reads_months_with_the_same_type() -> None:
    assert ScenarioMonth is Month
    adapter = TypeAdapter(Month)
    assert adapter.validate_python("2025-01") == "2025-01"
    for wrong in ("2025-Q1", "2025", "2025-13", "2025-1", "June"):
        with pytest.raises(ValidationError):
            adapter.validate_python(wrong)


@pytest.mark.parametrize("label", ["+202-01", " 2025-01", "2025-01 ", "2025_01", "2025-1", "2025-001", "２０２５-01", ""])
def test_parse_month_reads_only_yyyy_mm(label: str) -> None:
    with pytest.raises(ValueError):
        parse_month(label)
    assert not is_month(label)


def test_months_are_compared_by_their_index_not_as_text() -> None:
    assert parse_month("2025-06") == (2025, 6)
    assert month_index("2024-12") + 1 == month_index("2025-01")
    # As text "2025" sorts before "2025-01", so a year used as a start was "before" every month of it.
    assert sorted(["2025-03", "2024-11", "2025-01"], key=month_index) == ["2024-11", "2025-01", "2025-03"]
    assert not is_month("2025") and not is_month("2025-Q2") and is_month("2025-02")


def test_period_range_is_the_months_between_start_and_its_last_month() -> None:
    # By hand: 14 months from November 2024 end in December 2025.
    labels = period_range("2024-11", 14)
    assert labels[0] == "2024-11" and labels[2] == "2025-01" and labels[-1] == "2025-12"
    assert labels == months_between("2024-11", add_months("2024-11", 13))
    assert period_range("2025-01", 0) == []
