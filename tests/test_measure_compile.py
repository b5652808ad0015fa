"""Compiling measures to SQL: one query per dataset, valid in DuckDB's and PostgreSQL's dialects,
and every value a user wrote is a quoted literal, never SQL text."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
import sqlglot
from sqlglot import exp

from tests.helpers import PARTIES, agreement
from vested.core.model import Agreement
from vested.measure.compile import compile_plan
from vested.measure.engine import plan_sql
from vested.measure.fragments import MeasureError, parquet_relation, table_relation
from vested.measure.plan import Plan

DIALECTS = ["duckdb", "postgres"]

DATASETS = """\
datasets:
  - id: tickets
    time: opened_at
    columns:
      - {name: ticket_id}
      - {name: store}
      - {name: channel}
      - {name: opened_at, type: timestamp}
      - {name: resolved_at, type: timestamp}
      - {name: fcr, type: boolean}
      - {name: satisfaction, type: integer}
      - {name: cost, type: number}
  - id: outages
    time: starts_at
    columns:
      - {name: kind}
      - {name: starts_at, type: timestamp}
      - {name: ends_at, type: timestamp}
  - id: relief
    time: starts_at
    columns:
      - {name: ticket_id}
      - {name: reason}
      - {name: starts_at, type: timestamp}
      - {name: ends_at, type: timestamp}
"""

EVERYTHING = """
- {id: tickets, measure: {dataset: tickets, aggregate: count, where: {channel: phone}}}
- id: fcr_rate
  measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {}, scale: 100}
- {id: mean_cost, measure: {dataset: tickets, aggregate: mean, column: cost}}
- {id: p90_cost, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 90}}
- {id: stores, measure: {dataset: tickets, aggregate: count_distinct, column: store}}
- {id: hours, measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: percentile, percentile: 90}}
- id: excused
  measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id], during: [starts_at, ends_at]}]}
- id: uptime
  measure:
    dataset: outages
    aggregate: availability
    availability: {start: starts_at, end: ends_at, units: 3, planned: {kind: planned}}
"""


def agreement_with(metrics: str, calendar: str = "{start: 2025-01, time_zone: America/Chicago}") -> Agreement:
    text = ("vested: 1\nid: ops\ntitle: Ops\n" + PARTIES + f"calendar: {calendar}\n" + DATASETS
            + "metrics:\n" + textwrap.indent(textwrap.dedent(metrics).strip("\n"), "  ") + "\npricing: []\n")
    return agreement(text)


RELATIONS = {"tickets": parquet_relation(["/data/tickets-1.parquet", "/data/tickets-2.parquet"]),
             "outages": parquet_relation(["/data/outages.parquet"]), "relief": parquet_relation(["/data/relief.parquet"])}


def plan(metrics: str, months: list[str] | None = None, **kwargs: str) -> Plan:
    return compile_plan(agreement_with(metrics, **kwargs), months or ["2025-06"], RELATIONS)


def test_all_metrics_of_a_dataset_are_one_query() -> None:
    compiled = plan(EVERYTHING)
    assert [q.name for q in compiled.queries] == ["tickets", "outages:availability"]
    tickets = compiled.query("tickets")
    # count, ratio (2 tallies), mean (2), percentile, distinct, duration p90, excused count: one aggregate each,
    # after the month and the row count.
    assert len(tickets.columns) == 2 + 9
    assert {p.query for p in compiled.metrics if p.measure.dataset == "tickets"} == {"tickets"}


def test_the_same_aggregate_is_computed_once() -> None:
    compiled = plan("""
        - {id: all, measure: {dataset: tickets, aggregate: count}}
        - {id: fcr, measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {}}}
    """)
    by_metric = {p.metric: p.parts for p in compiled.metrics}
    assert by_metric["all"]["n"] == by_metric["fcr"]["den"]
    assert compiled.query("tickets").columns == ("month", "rows", "p0", "p1")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_sql_parses_back_in_its_dialect(dialect: str) -> None:
    compiled = plan(EVERYTHING + "- {id: p50_3m, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 50, "
                    "window: 3}}")
    assert [q.name for q in compiled.queries] == ["tickets", "tickets:window:3", "outages:availability"]
    for query in compiled.queries:
        sql = query.sql(dialect)
        parsed = sqlglot.parse(sql, read=dialect)
        assert len(parsed) == 1 and isinstance(parsed[0], exp.Select)
        assert parsed[0].sql(dialect=dialect) == sql


def test_month_labels_and_percentiles_in_each_dialect() -> None:
    query = plan(EVERYTHING).query("tickets")
    duck, pg = query.sql("duckdb"), query.sql("postgres")
    for sql in (duck, pg):
        # June in Chicago ends at 05:00 UTC on July 1: the month is a comparison, not a conversion per row
        assert ("CASE WHEN CAST(t.\"opened_at\" AS TIMESTAMPTZ) < CAST('2025-07-01 05:00:00+00:00' AS TIMESTAMPTZ) "
                "THEN 202506 END AS __month") in sql
        assert "AT TIME ZONE" not in sql and "DATE_TRUNC" not in sql
        # rows are grouped by the month as YYYYMM; only the groups get their label
        assert sql.startswith("SELECT CASE r.__month WHEN 202506 THEN '2025-06' END AS month, COUNT(*) AS rows")
        assert sql.endswith("GROUP BY r.__month")
    assert 'QUANTILE_CONT(CAST(r."cost" AS DOUBLE), 0.9)' in duck
    assert 'PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY CAST(r."cost" AS DOUBLE PRECISION))' in pg
    assert "COUNT(*) FILTER(WHERE r.\"channel\" = 'phone')" in pg


def month_expression(compiled: Plan) -> exp.Case:
    tree = sqlglot.parse_one(compiled.query("tickets").sql("duckdb"), read="duckdb")
    found = next(a for a in tree.find_all(exp.Alias) if a.alias == "__month")
    assert isinstance(found.this, exp.Case)
    return found.this


def test_a_year_of_months_is_one_case_with_the_local_month_ends() -> None:
    case = month_expression(plan("- {id: n, measure: {dataset: tickets, aggregate: count}}", [f"2025-{m:02d}" for m in range(1, 13)]))
    whens = case.args["ifs"]
    assert [w.args["true"].this for w in whens] == [f"2025{m:02d}" for m in range(1, 13)]
    assert case.args.get("default") is None  # after the last month: NULL
    # Chicago is UTC−6 in winter and UTC−5 from the second Sunday of March to the first Sunday of November
    ends = [w.this.expression.this.this for w in whens]
    assert ends[1] == "2025-03-01 06:00:00+00:00"  # February ends at local midnight in winter time
    assert ends[2] == "2025-04-01 05:00:00+00:00"  # March ends in summer time
    assert ends[9] == "2025-11-01 05:00:00+00:00"  # October ends in summer time
    assert ends[10] == "2025-12-01 06:00:00+00:00"  # November ends in winter time


def test_a_long_span_finds_the_month_by_halving() -> None:
    months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
    case = month_expression(plan("- {id: n, measure: {dataset: tickets, aggregate: count}}", months))

    def leaves(node: exp.Case, depth: int) -> list[tuple[str, int]]:
        found = []
        for branch in (*(w.args["true"] for w in node.args["ifs"]), node.args.get("default")):
            if isinstance(branch, exp.Case):
                found += leaves(branch, depth + 1)
            elif branch is not None:
                found.append((branch.this, depth))
        return found

    found = leaves(case, 0)
    assert [label for label, _ in found] == [m.replace("-", "") for m in months]  # each month once, in order
    assert {depth for _, depth in found} == {1}  # 24 months: two CASEs of 12 under one test
    assert len(case.args["ifs"]) == 1 and case.this is None
    middle = case.args["ifs"][0].this.expression.this.this
    assert middle == "2025-01-01 06:00:00+00:00"  # the end of December 2024 in Chicago


def test_a_date_column_is_truncated_not_compared() -> None:
    sound = agreement_with("- {id: n, measure: {dataset: tickets, aggregate: count}}")
    dated = dataclasses.replace(sound, datasets=tuple(
        dataclasses.replace(d, columns=tuple(dataclasses.replace(c, type="date") if c.name == "opened_at" else c for c in d.columns))
        if d.id == "tickets" else d for d in sound.datasets))
    sql = compile_plan(dated, ["2025-06"], RELATIONS).query("tickets").sql("duckdb")
    assert "DATE_TRUNC('MONTH', CAST(t.\"opened_at\" AS TIMESTAMP)) AS __month" in sql
    assert "STRFTIME(r.__month, '%Y-%m') AS month" in sql
    assert "CASE" not in sql


@pytest.mark.parametrize("dialect", DIALECTS)
def test_percentiles_by_rank_are_a_query_of_their_own(dialect: str) -> None:
    more = ("- {id: p50_cost, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 50}}\n"
            "- {id: p99_cost_3m, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 99.9, window: 3}}\n")
    compiled = compile_plan(agreement_with(EVERYTHING + more), ["2025-06"], RELATIONS, ranked={"tickets"})
    assert [q.name for q in compiled.queries] == ["tickets", "tickets:ranks:0", "tickets:ranks:1", "tickets:ranks:2",
                                                  "outages:availability"]
    by_metric = {p.metric: p for p in compiled.metrics}
    # p90 and p50 of cost share one histogram; the duration p90 and the 3-month window have their own
    assert by_metric["p90_cost"].query == by_metric["p50_cost"].query == "tickets:ranks:0"
    assert by_metric["p90_cost"].parts == {"n": "n", "low": "low0", "high": "high0"}
    assert by_metric["p50_cost"].parts == {"n": "n", "low": "low1", "high": "high1"}
    assert by_metric["hours"].query == "tickets:ranks:1" and by_metric["p99_cost_3m"].query == "tickets:ranks:2"
    monthly = compiled.query("tickets").sql(dialect)
    assert "QUANTILE" not in monthly.upper() and "PERCENTILE" not in monthly.upper()
    for name in ("tickets:ranks:0", "tickets:ranks:1", "tickets:ranks:2"):
        sql = compiled.query(name).sql(dialect)
        assert sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect) == sql
    ranks = compiled.query("tickets:ranks:0").sql(dialect)
    # ranks compared in integers: upto > floor(0.9 (n - 1)) and upto > ceil(0.9 (n - 1)), with 0.9 = 9/10
    assert "FILTER(WHERE u.upto * 10 > 9 * (u.n - 1)) AS low0" in ranks
    assert "FILTER(WHERE (u.upto - 1) * 10 >= 9 * (u.n - 1)) AS high0" in ranks
    assert "FILTER(WHERE u.upto * 2 > 1 * (u.n - 1)) AS low1" in ranks
    assert "GROUP BY k.month, k.v" in ranks
    assert "(u.upto - 1) * 1000 >= 999 * (u.n - 1)" in compiled.query("tickets:ranks:2").sql(dialect)
    assert "AS w(month, target)" in compiled.query("tickets:ranks:2").sql(dialect)


def test_durations_are_exact_microseconds_in_each_dialect() -> None:
    query = plan(EVERYTHING).query("tickets")
    duck, pg = query.sql("duckdb"), query.sql("postgres")
    assert '(EPOCH_US(r."resolved_at") - EPOCH_US(r."opened_at"))' in duck
    assert '(EXTRACT(EPOCH FROM (r."resolved_at" - r."opened_at")) * 1000000)' in pg
    assert "MICROSECONDS_BETWEEN" not in duck + pg


def test_rows_are_read_from_the_local_months_only() -> None:
    """June in Chicago (UTC−5 in summer) runs from 05:00 UTC on June 1 to 05:00 UTC on July 1."""
    sql = plan("- {id: n, measure: {dataset: tickets, aggregate: count}}").query("tickets").sql("duckdb")
    assert "CAST(t.\"opened_at\" AS TIMESTAMPTZ) >= CAST('2025-06-01 05:00:00+00:00' AS TIMESTAMPTZ)" in sql
    assert "CAST(t.\"opened_at\" AS TIMESTAMPTZ) < CAST('2025-07-01 05:00:00+00:00' AS TIMESTAMPTZ)" in sql
    winter = plan("- {id: n, measure: {dataset: tickets, aggregate: count}}", ["2025-01"]).query("tickets").sql("duckdb")
    assert "CAST('2025-01-01 06:00:00+00:00' AS TIMESTAMPTZ)" in winter  # UTC−6 in winter


def test_a_window_reads_the_months_it_reaches_back_to() -> None:
    compiled = plan("""
        - {id: r3, measure: {dataset: tickets, aggregate: sum, column: cost, window: 3}}
        - {id: qtd, measure: {dataset: tickets, aggregate: count, window: quarter}}
    """, ["2025-06", "2025-08"], calendar="{start: 2025-01, fiscal_year_start: 2}")
    # rolling 3 of June starts in April; the fiscal quarter of August (Aug-Oct) starts in August.
    assert compiled.span == ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08")
    assert compiled.window(compiled.metrics[1].measure, "2025-06") == ["2025-05", "2025-06"]


def test_exclusions_are_anti_joins_against_the_relief_data() -> None:
    query = plan(EVERYTHING).query("tickets")
    tree = sqlglot.parse_one(query.sql("postgres"), read="postgres")
    exists = list(tree.find_all(exp.Exists))
    assert len(exists) == 1
    inside = exists[0].sql("postgres")
    assert 'x."ticket_id" = t."ticket_id"' in inside
    assert 'x."ends_at" IS NULL OR CAST(t."opened_at" AS TIMESTAMPTZ) < CAST(x."ends_at" AS TIMESTAMPTZ)' in inside
    assert "NOT r.__x0" in query.sql("postgres")


def test_an_exclusion_by_keys_only_is_a_lookup() -> None:
    sql = plan("""
        - {id: n, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id]}]}}
    """).query("tickets").sql("postgres")
    assert 'COALESCE(t."ticket_id" IN (SELECT x."ticket_id" FROM ' in sql
    assert 'WHERE NOT x."ticket_id" IS NULL), FALSE) AS __x0' in sql
    assert "EXISTS" not in sql


HOSTILE = "O'Brien's'); DROP TABLE tickets; -- 50% :off \\"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_user_values_are_only_ever_quoted_literals(dialect: str) -> None:
    compiled = plan(f"""
        - id: hostile
          measure: {{dataset: tickets, aggregate: count, where: {{store: {{in: ["{HOSTILE.replace(chr(92), chr(92) * 2)}", plain]}}}}}}
    """)
    sql = compiled.query("tickets").sql(dialect)
    statements = sqlglot.parse(sql, read=dialect)
    assert len(statements) == 1
    tree = statements[0]
    assert tree is not None
    assert tree.find(exp.Drop) is None
    strings = [node.this for node in tree.find_all(exp.Literal) if node.is_string]
    assert HOSTILE in strings and "plain" in strings
    assert "'O''Brien''s''); DROP TABLE tickets; -- 50% :off \\'" in sql


def test_file_names_and_table_names_are_quoted() -> None:
    relations = {"tickets": parquet_relation(["/data/it's here.parquet"]), "relief": table_relation('sch.re"lief')}
    sqls = plan_sql(agreement_with("""
        - {id: n, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id]}]}}
    """), ["2025-06"], relations, "duckdb")
    assert "READ_PARQUET(['/data/it''s here.parquet'], union_by_name = TRUE)" in sqls[0]
    assert '"sch"."re""lief" AS x' in sqls[0]
    assert len(sqlglot.parse(sqls[0], read="duckdb")) == 1


@pytest.mark.parametrize(("metrics", "message"), [
    ("- {id: n, measure: {dataset: tickets, aggregate: count, where: {satisfaction: lots}}}", "holds numbers"),
    ("- {id: n, measure: {dataset: tickets, aggregate: count, where: {fcr: maybe}}}", "true/false"),
    ("- {id: n, measure: {dataset: tickets, aggregate: count, where: {opened_at: '2025-06-01T00:00:00'}}}", "no time zone offset"),
    ("- {id: n, measure: {dataset: tickets, aggregate: count, where: {opened_at: {above: 3}}}}", "holds timestamps"),
])
def test_filters_that_cannot_be_compiled_are_refused(metrics: str, message: str) -> None:
    with pytest.raises(MeasureError) as raised:
        plan(metrics)
    assert message in str(raised.value)
    assert raised.value.diagnostic.path[:3] == ("metrics", 0, "measure")


def test_typed_filter_values() -> None:
    sql = plan("""
        - id: n
          measure: {dataset: tickets, aggregate: count,
                    where: {satisfaction: '4', fcr: 'false', store: 12, opened_at: {not: '2025-06-01T00:00:00+02:00'}}}
    """).query("tickets").sql("postgres")
    assert 'r."satisfaction" = 4' in sql
    assert 'r."fcr" = FALSE' in sql
    assert "r.\"store\" = '12'" in sql
    assert "r.\"opened_at\" IS DISTINCT FROM CAST('2025-05-31 22:00:00+00:00' AS TIMESTAMPTZ)" in sql


def test_an_unknown_time_zone_or_month_is_refused() -> None:
    # `vested check` refuses the zone when the file is loaded; the compiler guards agreements built in Python too
    sound = agreement_with("- {id: n, measure: {dataset: tickets, aggregate: count}}")
    assert sound.calendar is not None
    martian = dataclasses.replace(sound, calendar=dataclasses.replace(sound.calendar, time_zone="Mars/Olympus"))
    with pytest.raises(MeasureError) as raised:
        compile_plan(martian, ["2025-06"], RELATIONS)
    assert "unknown time zone 'Mars/Olympus'" in str(raised.value)
    assert raised.value.diagnostic.path == ("calendar", "time_zone")
    with pytest.raises(MeasureError, match="not a month label"):
        plan("- {id: n, measure: {dataset: tickets, aggregate: count}}", ["2025-6"])


def test_availability_joins_each_outage_to_the_months_it_overlaps() -> None:
    sql = plan(EVERYTHING).query("outages:availability").sql("postgres")
    assert "AS m(label, starts, ends)" in sql
    assert "('2025-06', CAST('2025-06-01 05:00:00+00:00' AS TIMESTAMPTZ), CAST('2025-07-01 05:00:00+00:00' AS TIMESTAMPTZ))" in sql
    assert "LEAST(COALESCE(CAST(r.\"ends_at\" AS TIMESTAMPTZ), m.ends), m.ends)" in sql
    assert "COALESCE((r.\"kind\" = 'planned'), FALSE)" in sql


def test_metrics_without_a_measure_compile_to_nothing() -> None:
    compiled = plan("- {id: survey, reported_by: buyer}")
    assert compiled.queries == () and compiled.metrics == ()


def test_a_filter_on_an_unknown_column_is_refused_by_check() -> None:
    """Caught before measuring: `vested check` names the column and suggests the known ones."""
    from tests.helpers import diagnostics

    text = ("vested: 1\nid: ops\ntitle: Ops\n" + PARTIES + DATASETS
            + "metrics:\n  - {id: n, measure: {dataset: tickets, aggregate: count, where: {colour: red}}}\npricing: []\n")
    found = [d for d in diagnostics(text, lint=False) if d.is_error]
    assert [d.code for d in found] == ["unknown-column"]
    assert "colour" in found[0].message and found[0].path[:3] == ("metrics", 0, "measure")
