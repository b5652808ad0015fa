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
from vested.ingest.native import clock_change
from vested.ingest.read import csv_lines, jsonl_lines
from vested.ingest.report import IngestProblem, first_line
from vested.ingest.run import FileColumn, IngestRun
from vested.ingest.sql import FALSE_WORDS, LOCAL_TIME, STORAGE_TYPES, TRUE_WORDS, ident, lit, typed_sql
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
                                      position + 1 if position is not None else None, required,
                                      run.native.get(position) if position is not None else None))
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
    """Fill the table ``problems``; the problems that are not about one row (earlier batches unreadable).

    One scan counts, per column, the rows that *may* have a problem (:func:`suspect_sql`: a cheap
    condition that holds for every row the column's checks refuse), the values read after tidying
    (``normalised``) and the rows breaking each rule. Only the columns and rules with such rows are
    scanned again, and only their suspect rows go through the full checks: a clean file is read once.
    """
    run.con.execute("CREATE TEMP TABLE problems (row BIGINT, col INTEGER, code VARCHAR, value VARCHAR, detail VARCHAR)")
    plans = []
    for col in run.columns:
        if col.name is None:
            continue
        cases = column_checks(col, run.source.format)
        if run.dataset is REPORTED:
            cases += reported_checks(col, run.agreement, run.columns)
        if cases:
            plans.append((col, cases, suspect_sql(col, cases, run.source.format, reported=run.dataset is REPORTED)))
    tidied = [(col, changed) for col in run.columns if (changed := normalised_sql(col)) is not None]
    tidied += [(col, local) for col in run.columns if (local := zoned_sql(col)) is not None]
    rules = rule_checks(run)
    keys = [c for c in run.columns if c.spec.name in run.dataset.key]
    complete = bool(keys) and all(c.name is not None for c in keys)
    # Distinct hashes of the typed keys: fewer than the rows when two rows share a key (or, rarely, a hash).
    unique = [f"count(*) = count(DISTINCT hash({', '.join(c.typed() for c in keys)}))"] if complete else []
    counted = ([f"count(*) FILTER (WHERE {s})" for _, _, s in plans] + [f"count(*) FILTER (WHERE {c})" for _, c in tidied]
               + [f"count(*) FILTER (WHERE {fails})" for _, _, fails, _ in rules] + unique)
    counts = list(run.con.execute(f"SELECT {', '.join(counted)} FROM raw").fetchone() or ()) if counted else []
    for (col, cases, where), count in zip(plans, counts, strict=False):
        if count:
            code = "CASE " + " ".join(f"WHEN {cond} THEN {lit(name)}" for name, cond, _ in cases) + " END"
            detail = "CASE " + " ".join(f"WHEN {cond} THEN {d}" for _, cond, d in cases) + " END"
            run.con.execute(f"INSERT INTO problems SELECT __row, {col.index}, code, value, detail FROM "
                            f"(SELECT __row, {col.text()} AS value, {code} AS code, {detail} AS detail FROM raw WHERE {where}) "
                            "WHERE code IS NOT NULL")
    notes = [note for (col, changed), count in zip(tidied, counts[len(plans):], strict=False) if count
             for note in (zoned(run, col, count) if changed == zoned_sql(col) else normalised(run, col, changed))]
    for (left, i, fails, shown), count in zip(rules, counts[len(plans) + len(tidied):], strict=False):
        if count:
            run.con.execute(f"INSERT INTO problems SELECT __row, {left.index}, 'rule', {left.text()}, "
                            f"{lit(str(i))} || chr(31) || {shown} FROM raw WHERE {fails}")
    return notes + (check_keys(run, keys, unique_keys=bool(counts[-1])) if complete else [])


def rule_checks(run: IngestRun) -> list[tuple[FileColumn, int, str, str]]:
    """The dataset's row rules as (left column, rule number, SQL that holds when a row breaks it, SQL of the other value).

    Rules compare the typed values; a row where either side is empty (or invalid) passes.
    """
    by_name = {c.spec.name: c for c in run.columns}
    found = []
    for i, rule in enumerate(run.dataset.row_rules()):
        left = by_name.get(rule.left)
        right = by_name.get(str(rule.right)) if rule.right_is_column else None
        if left is None or left.name is None or (rule.right_is_column and (right is None or right.name is None)):
            continue  # a column missing from the file is reported as such
        operator = "<>" if rule.operator == "!=" else rule.operator
        if right is not None:
            other, shown = right.typed(), f"COALESCE({right.text()}, '')"
        else:
            value = rule.right
            constant = ("true" if value else "false") if isinstance(value, bool) else (
                f"{value:f}" if not isinstance(value, str) else lit(value))
            other, shown = f"CAST({constant} AS {STORAGE_TYPES[left.spec.type]})", "''"
        found.append((left, i, f"NOT ({left.typed()} {operator} {other})", shown))
    return found


def normalised_sql(col: FileColumn) -> str | None:
    """SQL that holds when a value of a typed text column is read after removing spaces around it or a leading '+'."""
    if col.spec.type == "string" or col.name is None or col.native:
        return None  # text is stored as written; a typed source value has no spaces
    v = col.name
    plus = f" OR starts_with(trim({v}), '+')" if col.spec.type in ("integer", "number") else ""
    return f"({v} <> trim({v}){plus})"


def zoned_sql(col: FileColumn) -> str | None:
    """SQL that holds for a timestamp written without a UTC offset, in a column that declares the zone it is in."""
    if col.spec.type != "timestamp" or col.spec.zone is None or col.name is None:
        return None
    if col.native:
        return f"{col.name} IS NOT NULL"
    return f"regexp_full_match(trim({col.name}), {lit(LOCAL_TIME)})"


def zoned(run: IngestRun, col: FileColumn, count: int) -> list[IngestProblem]:
    """A warning, once per column, that values without a UTC offset were read as times in the column's zone."""
    return [run.problem("local-time-zone", f"{count} value{'s' * (count != 1)} without a UTC offset read as "
                        f"{col.spec.zone} time (the column's zone)", "nothing to do if that is the zone they were written in",
                        column=col.spec.name, position=col.position, severity=Severity.WARNING)]


def normalised(run: IngestRun, col: FileColumn, changed: str) -> list[IngestProblem]:
    """A warning when values of a typed column are read after removing spaces around them or a leading '+'.

    ``" 42 "`` and ``+42`` are what exports of spreadsheets and databases write; the value is clear, so
    it is ingested, and the report says so once per column (text columns are stored exactly as written).
    """
    assert col.name is not None
    v = col.name
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


def check_keys(run: IngestRun, keys: Sequence[FileColumn], *, unique_keys: bool) -> list[IngestProblem]:
    """Duplicate keys within the file, and keys already ingested in an earlier batch (rows with a bad key part skipped).

    ``unique_keys``: the scan of :func:`check_values` found no two rows with the same key, so no row is a duplicate.
    """
    first = keys[0].index
    typed = ", ".join(f"{c.typed()} AS k{i}" for i, c in enumerate(keys))
    shown = "concat_ws(chr(31), " + ", ".join(c.text() for c in keys) + ")"
    key_columns = ", ".join(str(c.index) for c in keys)
    skipped = f" WHERE __row NOT IN (SELECT row FROM problems WHERE col IN ({key_columns}))" \
        if run.scalar(f"SELECT count(*) FROM problems WHERE col IN ({key_columns})") else ""
    valid = f"SELECT __row, {typed}, {shown} AS shown FROM raw{skipped}"
    partition = ", ".join(f"k{i}" for i in range(len(keys)))
    if not unique_keys:
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
    v = col.text()
    t = f"trim({v})"
    spec = col.spec
    empty = f"({v} IS NULL OR {t} = '')"
    checks: list[tuple[str, str, str]] = []
    if fmt == "jsonl":
        checks.append(("nested-value", f"n{col.name[1:]}", "NULL"))
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
        if spec.zone is None:
            naive = f"regexp_full_match({t}, {lit(_DATE + '(' + _TIME + ')?')}) AND TRY_CAST({t} AS TIMESTAMP) IS NOT NULL"
            checks.append(("naive-timestamp", present + f"NOT {with_offset} AND {naive}", "NULL"))
        checks.append(("utc-offset", present + f"{with_offset} AND NOT regexp_full_match({t}, {lit(_DATE + _TIME + _REAL_OFFSET)})",
                       "NULL"))
        if spec.zone is None:
            checks.append(("timestamp", present + f"(NOT {with_offset} OR {typed_sql(spec, v)} IS NULL)", "NULL"))
        else:  # written without an offset: a wall-clock time in the column's zone, which must name one instant
            local = f"regexp_full_match({t}, {lit(_DATE + _TIME)})"
            checks.append(("timestamp", present + f"(NOT ({with_offset} OR {local}) OR {typed_sql(spec, v)} IS NULL)", "NULL"))
            wall = f"TRY_CAST({t} AS TIMESTAMP)"
            checks.append(("local-time", present + f"{local} AND {clock_change(wall, spec.zone)} IS NOT NULL",
                           clock_change(wall, spec.zone)))
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


PLAIN = {
    "integer": "regexp_full_match({v}, '-?[0-9]{{1,18}}')",
    "number": "regexp_full_match({v}, '-?[0-9]{{1,29}}(\\.[0-9]{{1,9}})?')",
    "boolean": "{v} IN ('true', 'false', 'yes', 'no', '1', '0')",
    "date": "regexp_full_match({v}, '(19|2[0-9])[0-9]{{2}}-[0-9]{{2}}-[0-9]{{2}}') AND TRY_CAST({v} AS DATE) IS NOT NULL",
    "timestamp": ("regexp_full_match({v}, '(19|2[0-9])[0-9]{{2}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]+)?)?"
                  " ?([zZ]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)') AND {typed} >= TIMESTAMPTZ '1900-01-01 00:00:00+00' "
                  "AND {typed} < TIMESTAMPTZ '3000-01-01 00:00:00+00'"),
}
"""A text value written plainly, which no check of its type refuses (one regular expression): only the other
values go through the checks. A superset of the refused values is all :func:`suspect_sql` needs."""


def suspect_sql(col: FileColumn, cases: Sequence[tuple[str, str, str]], fmt: str, *, reported: bool) -> str:
    """SQL that holds for every row where one of ``cases`` may hold: the rows the checks need to look at."""
    native = col.suspect()
    if native is not None:
        return native
    plain = PLAIN.get(col.spec.type)
    if reported or (plain is None and col.spec.type != "string") or col.spec.zone is not None:
        return " OR ".join(f"({cond})" for _, cond, _ in cases)
    assert col.name is not None
    v = col.name
    if col.spec.type == "string":  # a NUL, or a value below '!' (empty, or starting with a space), or not allowed
        found = [f"contains({v}, chr(0))", f"{v} < '!'"]
        if col.spec.allowed:
            found.append(f"{v} NOT IN ({', '.join(lit(a) for a in col.spec.allowed)})")
    else:
        assert plain is not None
        found = [f"({v} IS NOT NULL AND NOT coalesce({plain.format(v=v, typed=col.typed())}, false))"]
    if col.required:
        found.append(f"{v} IS NULL")
    if fmt == "jsonl":
        found.append(f"n{v[1:]}")
    if col.spec.minimum is not None:
        found.append(f"{col.typed()} < {col.spec.minimum:f}")
    if col.spec.maximum is not None:
        found.append(f"{col.typed()} > {col.spec.maximum:f}")
    return "(" + " OR ".join(found) + ")"


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
