"""The commands for running an agreement on real data: ingest, measure, scorecard, settle.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vested.cli import AsOption, JsonOption, ProjectOption, StoreOption, console, emit_json, fail_with, workspace
from vested.cli.export import CsvOption, XlsxOption, export_tables, finish_tables
from vested.cli.progress import progress_bar
from vested.core.diagnostics import error
from vested.render.diagnostics import format_diagnostics
from vested.render.tables import Sheet
from vested.services.result import result_json
from vested.services.workspace import Workspace, make_engine, open_workspace

PeriodOption = Annotated[str | None, typer.Option("--period", help="One month, YYYY-MM.")]
FromOption = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (included).")]
EngineOption = Annotated[str, typer.Option("--engine", help="The metric engine: duckdb (embedded, the default) or spark.")]
SparkMasterOption = Annotated[str | None, typer.Option(
    "--spark-master", help="With --engine spark: local[N] (default local[2]), spark://host:port, yarn or k8s://...")]
SparkConfOption = Annotated[list[str] | None, typer.Option(
    "--spark-conf", help="With --engine spark: a Spark setting KEY=VALUE, passed through (repeat the option).")]
SparkPercentilesOption = Annotated[str, typer.Option(
    "--spark-percentiles", help="With --engine spark: exact (by rank, the default) or approximate (percentile_approx).")]
SparkErrorOption = Annotated[float | None, typer.Option(
    "--spark-percentile-error", help="With --spark-percentiles approximate: the rank error bound, a fraction of the "
    "rows (default 0.0001).")]
SourceOption = Annotated[list[str] | None, typer.Option(
    "--source", help="With --engine spark: read DATASET from a path or URI of Parquet (DATASET=URI) instead of its batches.")]


def engine_workspace(project: Path | None, as_json: bool, engine: str, master: str | None, conf: list[str] | None,
                     percentiles: str, error_bound: float | None, sources: list[str] | None = None, *,
                     who: str | None = None, store: str | None = None) -> Workspace:
    """The workspace with the metric engine the options choose; a bad option fails the command (exit 1)."""
    if engine == "duckdb" and not (master or conf or sources or error_bound is not None) and percentiles == "exact":
        return workspace(project, who, store)
    try:
        chosen = make_engine(engine, master=master, conf=_pairs(conf, "--spark-conf", "KEY=VALUE"),
                             percentiles=percentiles, percentile_error=error_bound,
                             sources=_pairs(sources, "--source", "DATASET=URI"))
    except ValueError as problem:
        fail_with([error("options", str(problem), "see `vested measure --help`", (), "command")], as_json)
    return open_workspace(project, who, engine=chosen, store=store)


def _pairs(items: list[str] | None, flag: str, form: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{flag} takes {form}, not {item!r}")
        found[key.strip()] = value.strip()
    return found


def ingest(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file (declares the datasets).")],
    dataset: Annotated[str, typer.Argument(help="The dataset id (or `reported` for directly reported values).")],
    source: Annotated[str, typer.Argument(help="A CSV, Parquet or JSON Lines file, or a database URL.")],
    table: Annotated[str | None, typer.Option("--table", help="With a database URL: the table to read.")] = None,
    query: Annotated[str | None, typer.Option("--query", help="With a database URL: the SQL query to read.")] = None,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Put bad rows in this CSV file and ingest "
                                                    "the rest (default: ingest nothing when any row is bad).")] = None,
    project: ProjectOption = None,
    store: StoreOption = None,
    who: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest measurements: every row is checked against the dataset; all or nothing.

    Example: vested ingest examples/helpdesk/vested.yaml tickets tickets.csv --who alice
    """
    from vested.render.serialize import to_jsonable
    from vested.services.running import ingest as ingest_source

    result = ingest_source(workspace(project, who, store), agreement, dataset, source, quarantine=quarantine, table=table,
                           query=query)
    report = result.value
    if report is None:
        fail_with(result.diagnostics, as_json)
    if as_json:
        emit_json(result_json(result, {
            "summary": report.summary(), "batch_id": report.batch_id, "rows_ingested": report.rows_ingested,
            "rows_quarantined": report.rows_quarantined, "problems_total": report.problems_total,
            "manifest": to_jsonable(report.manifest)}))
    else:
        out = sys.stderr if report.refused else sys.stdout
        if result.diagnostics:
            print(format_diagnostics(result.diagnostics), file=out)
        print(report.summary(), file=out)
    raise typer.Exit(0 if result.ok else 1)


def measure(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: PeriodOption = None,
    first: FromOption = None,
    last: ToOption = None,
    project: ProjectOption = None,
    store: StoreOption = None,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    spark_conf: SparkConfOption = None,
    spark_percentiles: SparkPercentilesOption = "exact",
    spark_percentile_error: SparkErrorOption = None,
    source: SourceOption = None,
) -> None:
    """Compute each metric per month from the ingested data (and the reported values).

    Example: vested measure examples/helpdesk/vested.yaml --from 2025-01 --to 2025-06 --csv metrics.csv
    """
    from vested.render.run import metric_json, metric_table
    from vested.render.sheets import metric_sheets
    from vested.services.running import measure as measure_months
    from vested.services.running import month_range

    months, problem = month_range(period, first, last)
    if problem is not None:
        fail_with([problem], as_json)
    ws = engine_workspace(project, as_json, engine, spark_master, spark_conf, spark_percentiles, spark_percentile_error,
                          source, store=store)
    result = measure_months(ws, agreement, months)
    measured = result.value
    if measured is None:
        fail_with(result.diagnostics, as_json)
    exported = export_tables(result, as_json, lambda m: metric_sheets(m.agreement, m.rows), csv, xlsx)
    if as_json:
        emit_json(result_json(result, {**metric_json(measured.rows), **({"exported": exported[1]} if exported else {})}))
    elif not (exported and exported[0]):
        console.print(metric_table(measured.agreement, measured.rows))
        for note in result.diagnostics:
            console.print(f"[dim]{note.message}[/dim]", highlight=False)


def scorecard(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: Annotated[str, typer.Option("--period", help="The month to score, YYYY-MM.")],
    project: ProjectOption = None,
    store: StoreOption = None,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    spark_conf: SparkConfOption = None,
    spark_percentiles: SparkPercentilesOption = "exact",
    spark_percentile_error: SparkErrorOption = None,
) -> None:
    """Score each desired outcome for a month: value, baseline, target, attainment, status, overall score.

    Example: vested scorecard examples/helpdesk/vested.yaml --period 2025-06
    """
    from vested.render.run import scorecard_json, scorecard_table
    from vested.render.sheets import scorecard_sheets
    from vested.services.running import ScoredPeriod, month_range
    from vested.services.running import scorecard as score_period

    _, problem = month_range(period, None, None)
    if problem is not None:
        fail_with([problem], as_json)

    def show(scored: ScoredPeriod) -> None:
        console.print(scorecard_table(scored.agreement, scored.scorecard))
        for warning_text in scored.scorecard.warnings:
            console.print(f"[bold yellow]warning:[/] {warning_text}", highlight=False)

    ws = engine_workspace(project, as_json, engine, spark_master, spark_conf, spark_percentiles, spark_percentile_error,
                          store=store)
    finish_tables(score_period(ws, agreement, period), as_json,
                  lambda scored: {"scorecard": scorecard_json(scored.scorecard)}, show,
                  lambda scored: scorecard_sheets(scored.agreement, [scored.scorecard]), csv, xlsx)


def settle(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: PeriodOption = None,
    first: FromOption = None,
    last: ToOption = None,
    project: ProjectOption = None,
    store: StoreOption = None,
    who: AsOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Settle again a month already settled from other inputs.")] = False,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    spark_conf: SparkConfOption = None,
    spark_percentiles: SparkPercentilesOption = "exact",
    spark_percentile_error: SparkErrorOption = None,
) -> None:
    """Settle months in order: measure, price with the carried state, write each explained statement.

    Example: vested settle examples/helpdesk/vested.yaml --from 2025-01 --to 2025-06 --xlsx statements.xlsx
    """
    from vested.render.sheets import statement_sheets
    from vested.render.statement import statement_json, statement_table, statement_view
    from vested.services.running import SettledMonths, month_range
    from vested.services.running import settle as settle_months

    months, problem = month_range(period, first, last)
    if problem is not None:
        fail_with([problem], as_json)

    def body(settled: SettledMonths) -> dict[str, object]:
        return {"settled": [{"period": s.period, "inputs_hash": s.inputs_hash,
                             "statement": statement_json(statement_view(settled.agreement, s.statement))}
                            for s in settled.result.settlements], "written": list(settled.result.written)}

    def show(settled: SettledMonths) -> None:
        for s in settled.result.settlements:
            console.print(statement_table(statement_view(settled.agreement, s.statement)))
            console.print(f"[dim]inputs {s.inputs_hash}[/dim]")

    def tables(settled: SettledMonths) -> list[Sheet]:
        return statement_sheets([statement_view(settled.agreement, s.statement) for s in settled.result.settlements])

    ws = engine_workspace(project, as_json, engine, spark_master, spark_conf, spark_percentiles, spark_percentile_error,
                          who=who, store=store)
    with progress_bar(as_json) as tell:
        result = settle_months(ws, agreement, months, replace=replace, progress=tell)
    finish_tables(result, as_json, body, show, tables, csv, xlsx)
