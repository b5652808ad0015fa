"""The checks of an ingest: the file's columns against the dataset's, then every value in SQL, vectorised.

:func:`match_columns` compares the header with the declared columns (unknown, missing). :func:`check_values`
runs one ``CASE`` per column over the table ``raw`` (types, required, allowed, range, UTC offsets, and
for the built-in ``reported`` dataset its metrics, reporters and months), then the keys (duplicates in
the file and against earlier batches). Value problems land in the table
``problems(row, col, code, value, detail)``; :mod:`vested.ingest.explain` puts them into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches

import duckdb

from vested.core.diagnostics import Severity
from vested.core.model import Agreement
from vested.core.periods import FIRST_YEAR, LAST_YEAR
from vested.ingest.datasets import REPORTED
from vested.ingest.read import csv_lines, jsonl_lines
from vested.ingest.report import IngestProblem, first_line
from vested.ingest.run import FileColumn, IngestRun
from vested.ingest.sql import FALSE_WORDS, STORAGE_TYPES, TRUE_WORDS, ident, lit, typed_sql
from vested.storage.folder import NUMBER_PLACES

_NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_INTEGER = r"[+-]?[0-9]+(\.0*)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
_OFFSET = r" ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)"
_REAL_OFFSET = r" ?([zZ]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)"
"""UTC offsets run from -12:00 to +14:00; +25:00 is a typo that a parser would take as a day and an hour."""
_MONTH = r"[0-9]{4}-(0[1-9]|1[0-2])"
FIRST_INSTANT, END_INSTANT = f"{FIRST_YEAR}-01-01", f"{LAST_YEAR + 1}-01-01"
"""Times and dates are from the supported calendar (``core.periods``): 1900-01-01 to the end of 2999, in UTC."""


# --- structure: the file's columns against the dataset's ------------------------------------------------


def match_columns(run: IngestRun) -> list[IngestProblem]:
    """Fill ``run.columns``; the unknown columns and the missing ones (an error when required)."""
    positions = {name: i for i, name in enumerate(run.header)}
    declared = [c.name for c in run.dataset.columns]
    line = 1 if run.source.format == "csv" else None
    problems = []
    missing = [c for c in run.dataset.columns if c.name not in positions]
    first_lines = jsonl_lines(run.source.path, set(run.first_rows.values())) if run.first_rows else {}
    for i, name in enumerate(run.header):
        if name not in declared:
            close = get_close_matches(name, [c.name for c in missing], n=1, cutoff=0.6)
            hint = (f"did you mean {close[0]!r}?" if close else
                    f"declare it in dataset {run.dataset.id!r} or remove it from the file (columns: {', '.join(declared)})")
            row = run.first_rows.get(name)  # JSON Lines: the first object with the key
            message = f"not a column of dataset {run.dataset.id!r}" + (" (the first object with this key)" if row else "")
            problems.append(run.problem("unknown-column", message, hint, row=row, line=first_lines.get(row, line) if row else line,
                                        column=name, position=i + 1))
    for index, spec in enumerate(run.dataset.columns):
        position = positions.get(spec.name)
        required = spec.required or spec.name == run.dataset.time or spec.name in run.dataset.key
        run.columns.append(FileColumn(index, spec, f"c{position}" if position is not None else None,
                                      position + 1 if position is not None else None, required))
        if position is None:
            why = ("the time column" if spec.name == run.dataset.time else "a key column" if spec.name in run.dataset.key
                   else "required")
            problems.append(run.problem(
                "missing-column", f"missing from the file ({why})" if required else "missing from the file: it is stored empty",
                f"add the column {spec.name!r}" if required else "",
                line=line, column=spec.name, severity=Severity.ERROR if required else Severity.WARNING))
    return problems


# --- values: one CASE per column, then the keys; problems land in the table `problems` ------------------


def check_values(run: IngestRun) -> list[IngestProblem]:
    """Fill the table ``problems``; the problems that are not about one row (earlier batches unreadable)."""
    run.con.execute("CREATE TEMP TABLE problems (row BIGINT, col INTEGER, code VARCHAR, value VARCHAR, detail VARCHAR)")
    notes = []
    for col in run.columns:
        if col.name is None:
            continue
        notes += normalised(run, col)
        cases = column_checks(col, run.source.format)
        if run.dataset is REPORTED:
            cases += reported_checks(col, run.agreement, run.columns)
        if not cases:
            continue
        code = "CASE " + " ".join(f"WHEN {cond} THEN {lit(name)}" for name, cond, _ in cases) + " END"
        detail = "CASE " + " ".join(f"WHEN {cond} THEN {d}" for _, cond, d in cases) + " END"
        run.con.execute(f"INSERT INTO problems SELECT __row, {col.index}, code, {col.name}, detail FROM "
                        f"(SELECT __row, {col.name}, {code} AS code, {detail} AS detail FROM raw) WHERE code IS NOT NULL")
    check_rules(run)
    return notes + (check_keys(run) if run.dataset.key else [])


def check_rules(run: IngestRun) -> None:
    """The dataset's row rules, on the typed values; a row where either side is empty (or invalid) passes."""
    by_name = {c.spec.name: c for c in run.columns}
    for i, rule in enumerate(run.dataset.row_rules()):
        left = by_name.get(rule.left)
        right = by_name.get(str(rule.right)) if rule.right_is_column else None
        if left is None or left.name is None or (rule.right_is_column and (right is None or right.name is None)):
            continue  # a column missing from the file is reported as such
        operator = "<>" if rule.operator == "!=" else rule.operator
        if right is not None:
            other, shown = right.typed(), f"COALESCE({right.name}, '')"
        else:
            value = rule.right
            constant = ("true" if value else "false") if isinstance(value, bool) else (
                f"{value:f}" if not isinstance(value, str) else lit(value))
            other, shown = f"CAST({constant} AS {STORAGE_TYPES[left.spec.type]})", "''"
        run.con.execute(f"INSERT INTO problems SELECT __row, {left.index}, 'rule', {left.name}, {lit(str(i))} || chr(31) || {shown} "
                        f"FROM raw WHERE NOT ({left.typed()} {operator} {other})")


def normalised(run: IngestRun, col: FileColumn) -> list[IngestProblem]:
    """A warning when values of a typed column are read after removing spaces around them or a leading '+'.

    ``" 42 "`` and ``+42`` are what exports of spreadsheets and databases write; the value is clear, so
    it is ingested, and the report says so once per column (text columns are stored exactly as written).
    """
    if col.spec.type == "string" or col.name is None:
        return []
    v = col.name
    changed = f"({v} <> trim({v}) OR (starts_with(trim({v}), '+') AND {lit(col.spec.type)} IN ('integer', 'number')))"
    found = run.con.execute(f"SELECT count(*), min(__row), arg_min({v}, __row) FROM raw WHERE {changed}").fetchone()
    if not found or not found[0]:
        return []
    count, row, value = found
    lines = {"csv": csv_lines, "jsonl": jsonl_lines}.get(run.source.format)
    line = lines(run.source.path, {row}).get(row) if lines else None
    return [run.problem("normalised", f"{count} value{'s' * (count != 1)} had spaces around {'them' if count != 1 else 'it'} "
                        f"or a leading '+', removed when read (the first: {value!r})",
                        "nothing to do; write the values plainly to silence this",
                        row=row, line=line, column=col.spec.name, position=col.position, severity=Severity.WARNING)]


def check_keys(run: IngestRun) -> list[IngestProblem]:
    """Duplicate keys within the file, and keys already ingested in an earlier batch (rows with a bad key part skipped)."""
    keys = [c for c in run.columns if c.spec.name in run.dataset.key]
    if any(c.name is None for c in keys):
        return []
    first = keys[0].index
    typed = ", ".join(f"{c.typed()} AS k{i}" for i, c in enumerate(keys))
    shown = "concat_ws(chr(31), " + ", ".join(str(c.name) for c in keys) + ")"
    valid = (f"SELECT __row, {typed}, {shown} AS shown FROM raw WHERE __row NOT IN "
             f"(SELECT row FROM problems WHERE col IN ({', '.join(str(c.index) for c in keys)}))")
    partition = ", ".join(f"k{i}" for i in range(len(keys)))
    run.con.execute(f"INSERT INTO problems SELECT __row, {first}, 'duplicate', shown, CAST(first AS VARCHAR) FROM "
                    f"(SELECT *, min(__row) OVER (PARTITION BY {partition}) AS first FROM ({valid})) WHERE __row > first")
    batches = run.project.batches(run.dataset.id)
    if not batches:
        return []
    run.batch_files = {str(b.data_file.resolve()): b for b in batches}
    files = "[" + ", ".join(lit(str(b.data_file)) for b in batches) + "]"
    stored = ", ".join(f"{ident(c.spec.name)} AS k{i}" for i, c in enumerate(keys))
    on = " AND ".join(f"v.k{i} = e.k{i}" for i in range(len(keys)))
    try:
        run.con.execute(
            f"INSERT INTO problems SELECT v.__row, {first}, 'ingested-key', v.shown, e.filename FROM ({valid}) v JOIN "
            f"(SELECT {partition}, min(filename) AS filename FROM (SELECT {stored}, filename FROM "
            f"read_parquet({files}, filename = true, union_by_name = true)) GROUP BY ALL) e ON {on}")
    except duckdb.Error as exc:  # e.g. a key column whose type changed since the earlier batches
        return [run.problem("earlier-batches", f"cannot compare the keys with earlier batches: {first_line(exc)}",
                            "the dataset's key columns must keep their types")]
    return []


# --- the checks of one column, as SQL conditions on its raw text ------------------------------------------


def column_checks(col: FileColumn, fmt: str) -> list[tuple[str, str, str]]:
    """(code, condition on the raw text that makes the value bad, SQL for a detail) in order; the first that holds is reported."""
    assert col.name is not None
    v = col.name
    t = f"trim({v})"
    spec = col.spec
    empty = f"({v} IS NULL OR {t} = '')"
    checks: list[tuple[str, str, str]] = []
    if fmt == "jsonl":
        checks.append(("nested-value", f"n{v[1:]}", "NULL"))
    checks.append(("nul", f"contains({v}, chr(0))", "NULL"))
    if col.required:
        checks.append(("required", empty, "NULL"))
    present = f"NOT {empty} AND "
    kind = spec.type
    if kind == "integer":
        checks.append(("integer", present + f"(NOT regexp_full_match({t}, {lit(_INTEGER)}) OR {typed_sql(spec, v)} IS NULL)", "NULL"))
    elif kind == "number":
        checks.append(("number", present + f"NOT regexp_full_match({t}, {lit(_NUMBER)})", "NULL"))
        checks.append(("number-range", present + f"{typed_sql(spec, v)} IS NULL", "NULL"))
        checks.append(("number-places", present + f"{decimal_places(t)} > {NUMBER_PLACES}", "NULL"))
    elif kind == "boolean":
        words = ", ".join(lit(w) for w in TRUE_WORDS + FALSE_WORDS)
        checks.append(("boolean", present + f"lower({t}) NOT IN ({words})", "NULL"))
    elif kind == "date":
        checks.append(("date", present + f"(NOT regexp_full_match({t}, {lit(_DATE)}) OR TRY_CAST({t} AS DATE) IS NULL)", "NULL"))
        checks.append(("time-range", present + f"NOT {typed_sql(spec, v)} BETWEEN DATE {lit(FIRST_INSTANT)} "
                       f"AND DATE {lit(END_INSTANT)} - 1", "NULL"))
    elif kind == "timestamp":
        with_offset = f"regexp_full_match({t}, {lit(_DATE + _TIME + _OFFSET)})"
        naive = f"regexp_full_match({t}, {lit(_DATE + '(' + _TIME + ')?')}) AND TRY_CAST({t} AS TIMESTAMP) IS NOT NULL"
        checks.append(("naive-timestamp", present + f"NOT {with_offset} AND {naive}", "NULL"))
        checks.append(("utc-offset", present + f"{with_offset} AND NOT regexp_full_match({t}, {lit(_DATE + _TIME + _REAL_OFFSET)})",
                       "NULL"))
        checks.append(("timestamp", present + f"(NOT {with_offset} OR {typed_sql(spec, v)} IS NULL)", "NULL"))
        # the year as written and the UTC instant: 0000-01-01 and 2999-12-31T23:00-12:00 are both outside
        checks.append(("time-range", present + f"(NOT substr({t}, 1, 4) BETWEEN {lit(str(FIRST_YEAR))} AND {lit(str(LAST_YEAR))} "
                       f"OR {typed_sql(spec, v)} < TIMESTAMPTZ {lit(FIRST_INSTANT + ' 00:00:00+00')} "
                       f"OR {typed_sql(spec, v)} >= TIMESTAMPTZ {lit(END_INSTANT + ' 00:00:00+00')})", "NULL"))
    if spec.allowed:
        checks.append(("allowed", present + f"{v} NOT IN ({', '.join(lit(a) for a in spec.allowed)})", "NULL"))
    if spec.minimum is not None:
        checks.append(("minimum", present + f"{typed_sql(spec, v)} < {spec.minimum:f}", lit(f"{spec.minimum:f}")))
    if spec.maximum is not None:
        checks.append(("maximum", present + f"{typed_sql(spec, v)} > {spec.maximum:f}", lit(f"{spec.maximum:f}")))
    return checks


def decimal_places(t: str) -> str:
    """SQL for the decimal places a number written as ``t`` (checked against ``_NUMBER``) needs, exactly.

    The digits of ``12.50e-3`` are ``1250`` with 2 after the point, times 10^-3: 2 + 3 places, less
    the trailing zero = 4 (0.01250 is 0.0125). A value whose digits are all zeros needs none. Worked
    out on the text: storing would round it first (to :data:`~vested.storage.folder.NUMBER_PLACES` places).
    """
    before = f"regexp_extract({t}, '^[+-]?([0-9]*)', 1)"
    after = f"regexp_extract({t}, '^[+-]?[0-9]*\\.?([0-9]*)', 1)"
    digits = f"({before} || {after})"
    # No exponent is 0; one too long for BIGINT never gets here (the value is out of range first).
    exponent = f"COALESCE(TRY_CAST(NULLIF(regexp_extract({t}, '[eE]([+-]?[0-9]+)$', 1), '') AS BIGINT), 0)"
    zeros = f"(length({digits}) - length(rtrim({digits}, '0')))"
    return f"(CASE WHEN rtrim({digits}, '0') = '' THEN 0 ELSE length({after}) - {exponent} - {zeros} END)"


def reported_checks(col: FileColumn, agreement: Agreement, columns: Sequence[FileColumn]) -> list[tuple[str, str, str]]:
    """The built-in `reported` dataset: known reported metrics, their reporters, months, the metric's range."""
    by_name = {c.spec.name: c.name for c in columns}
    metric, v = by_name.get("metric"), col.name
    reported = [m for m in agreement.metrics if m.reported_by is not None and m.kind == "number"]
    ids = ", ".join(lit(m.id) for m in reported) or "NULL"
    present = f"NOT ({v} IS NULL OR trim({v}) = '') AND "
    name = col.spec.name
    if name == "period":
        return [("period", present + f"NOT regexp_full_match(trim({v}), {lit(_MONTH)})", "NULL"),
                ("time-range", present + f"NOT substr(trim({v}), 1, 4) BETWEEN {lit(str(FIRST_YEAR))} AND {lit(str(LAST_YEAR))}",
                 "NULL")]
    if name == "metric":
        known = ", ".join(lit(m.id) for m in agreement.metrics if m not in reported) or "NULL"
        # With no reported metrics every metric is unknown: `x NOT IN (NULL)` would match nothing.
        unknown = f"{v} NOT IN ({ids})" if reported else "TRUE"
        return [("not-reported", present + f"{v} IN ({known})", "NULL"),
                ("unknown-metric", present + unknown, "NULL")]
    if metric is None or not reported:
        return []
    if name == "reported_by":
        expected = "CASE " + " ".join(f"WHEN {metric} = {lit(m.id)} THEN {lit(str(m.reported_by))}" for m in reported) + " END"
        return [("reporter", present + f"{metric} IN ({ids}) AND {v} <> {expected}", f"{metric} || chr(31) || {expected}")]
    if name == "value":
        checks = []
        number = f"TRY_CAST(trim({v}) AS {STORAGE_TYPES['number']})"
        for m in reported:
            for code, bound, op in (("minimum", m.minimum, "<"), ("maximum", m.maximum, ">")):
                if bound is not None:
                    checks.append((code, present + f"{metric} = {lit(m.id)} AND {number} {op} {bound:f}",
                                   lit(f"{bound:f}") + f" || chr(31) || {lit(m.id)}"))
        return checks
    return []
