"""Value problems in words: a row of the table ``problems`` becomes a message and a hint.

The same words go into the report (:func:`listed_problems`) and into the quarantine file's ``error``
column (:mod:`vested.ingest.write`).
"""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path

from vested.core.facts import did_you_mean
from vested.core.periods import FIRST_YEAR, LAST_YEAR
from vested.ingest.read import source_lines
from vested.ingest.report import PROBLEM_LIMIT, IngestProblem
from vested.ingest.run import FileColumn, IngestRun
from vested.storage.folder import NUMBER_DIGITS, NUMBER_PLACES


def listed_problems(run: IngestRun) -> list[IngestProblem]:
    """The first :data:`PROBLEM_LIMIT` value problems, in file order, with the line each row starts on."""
    found = run.con.execute(
        f"SELECT row, col, code, value, detail FROM problems ORDER BY row, col, code LIMIT {PROBLEM_LIMIT}").fetchall()
    lines = source_lines(run, {r[0] for r in found})
    return [value_problem(run, *r, line=lines.get(r[0])) for r in found]


def value_problem(run: IngestRun, row: int, index: int, code: str, value: str | None, detail: str | None, *,
                  line: int | None = None) -> IngestProblem:
    col = run.columns[index]
    message, hint = explain(code, col, value, detail, run)
    return run.problem(code, message, hint, row=row, line=line, column=col.spec.name, position=col.position)


def explain(code: str, col: FileColumn, value: str | None, detail: str | None, run: IngestRun) -> tuple[str, str]:
    """The message and hint of a value problem (the same words in the report and in the quarantine file)."""
    spec, shown = col.spec, repr(value)
    tz = run.agreement.calendar.time_zone if run.agreement.calendar else "UTC"
    if code == "required":
        why = ("every row needs its time (it places the row in a period)" if spec.name == run.dataset.time
               else "every row needs its key" if spec.name in run.dataset.key else f"`{spec.name}` is required")
        return "a value is required", why
    if code == "integer":
        return f"{shown} is not a whole number", "write digits only, e.g. 42"
    if code == "number":
        return f"{shown} is not a number", "write a number with a decimal point, e.g. 12.5"
    if code == "number-range":
        return (f"{shown} is out of range: a number has at most {NUMBER_DIGITS} digits before the decimal point",
                f"check the value; numbers are stored exactly, with up to {NUMBER_DIGITS} digits before the point and "
                f"{NUMBER_PLACES} after")
    if code == "number-places":
        return (f"{shown} has more than {NUMBER_PLACES} decimal places, and would be rounded",
                f"round it to {NUMBER_PLACES} decimal places, or record it in a smaller unit")
    if code == "boolean":
        return f"{shown} is not true or false", "write true/false, yes/no or 1/0"
    if code == "date":
        return f"{shown} is not a date", "write YYYY-MM-DD, e.g. 2025-06-01"
    if code == "naive-timestamp":
        text = (value or "").strip().replace(" ", "T")
        example = text if "T" in text else f"{text}T00:00:00"
        return (f"{shown} has no UTC offset, so the moment it names is unknown",
                f"write the offset, e.g. {example}Z (UTC) or {example}+02:00; periods are cut in {tz} time")
    if code == "local-time":
        change = "the clocks went forward past it" if detail == "skipped" else "the clocks went back over it, so it happens twice"
        return (f"{shown} is not one moment in {spec.zone}: {change}",
                "write this value with its UTC offset, e.g. 2025-10-26T01:30:00+01:00")
    if code == "timestamp":
        return f"{shown} is not a timestamp", "write ISO 8601 with a UTC offset, e.g. 2025-06-01T08:00:00Z"
    if code == "utc-offset":
        return (f"{shown} has a UTC offset that no place has", "UTC offsets run from -12:00 to +14:00; "
                "write e.g. 2025-06-01T08:00:00+02:00")
    if code == "time-range":
        what = "month" if spec.name == "period" and run.dataset.id == "reported" else spec.type
        return (f"{shown} is outside the supported calendar: a {what} from {FIRST_YEAR} to {LAST_YEAR}"
                + (" (in UTC)" if spec.type == "timestamp" else ""), "check the year")
    if code == "rule":
        index, other = (detail or "0\x1f").split("\x1f", 1)
        rule = run.dataset.row_rules()[int(index)]
        values = f"{spec.name} {shown}" + (f" and {rule.right} {other!r}" if rule.right_is_column else "")
        return (f"{values} break the rule `{rule}`" if rule.right_is_column else f"{values} breaks the rule `{rule}`",
                f"correct the row, or the rule in dataset {run.dataset.id!r}")
    if code == "nul":
        return (f"{shown} contains a NUL character (U+0000)", "remove it: many programs cut the text there, so the value "
                "would not read the same everywhere")
    if code == "allowed":
        close = get_close_matches(value or "", list(spec.allowed), n=1, cutoff=0.6)
        listed = f"allowed: {', '.join(spec.allowed)}"
        return f"{shown} is not an allowed value", f"did you mean {close[0]!r}? ({listed})" if close else listed
    if code in ("minimum", "maximum"):
        bound, *metric = (detail or "").split("\x1f")
        words = "below the minimum" if code == "minimum" else "above the maximum"
        whose = f"metric {metric[0]!r}" if metric else f"`{spec.name}`"
        return f"{(value or '').strip()} is {words} {bound}", f"{whose} must be {'at least' if code == 'minimum' else 'at most'} {bound}"
    if code in ("duplicate", "ingested-key"):
        key = ", ".join(f"{name}={part!r}" for name, part in zip(run.dataset.key, (value or "").split("\x1f"), strict=False))
        if code == "duplicate":
            return f"duplicate key {key}: the same as row {detail}", "each row needs its own key; remove or correct one of the rows"
        batch = run.batch_files.get(str(Path(detail or "").resolve()))
        origin = f"batch {batch.batch_id} (from {batch.manifest.get('file')!r})" if batch else "an earlier batch"
        return f"key {key} was already ingested in {origin}", "a row is ingested once; remove it from this file"
    if code == "nested-value":
        return "a list or an object where one value is expected", "write a single value"
    if code == "period":
        return f"{shown} is not a month", "write the period as YYYY-MM, e.g. 2025-06"
    if code == "unknown-metric":
        return (f"{shown} is not a reported metric of agreement {run.agreement.id!r}",
                did_you_mean(value or "", [m.id for m in run.agreement.metrics if m.reported_by is not None])
                or "declare the metric with `reported_by:`")
    if code == "not-reported":
        found = run.agreement.metric(value or "")
        if found is not None and found.reported_by is not None:
            return f"metric {shown} is a {found.kind}; only number metrics are reported", "report a number"
        return f"metric {shown} is measured from data, not reported", "only metrics with `reported_by:` are ingested in `reported`"
    if code == "reporter":
        metric_id, expected = (detail or "\x1f").split("\x1f", 1)
        return f"metric {metric_id!r} is reported by {expected!r}, not {shown}", f"write {expected!r}"
    return code, ""
