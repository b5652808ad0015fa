"""Typed source columns checked on their typed values, without printing them to text and parsing them back.

A Parquet column already typed as the dataset declares it (a BIGINT ``integer``, a DECIMAL or DOUBLE
``number``, a TIMESTAMP WITH TIME ZONE ``timestamp``, ...) is read as it is (:mod:`vested.ingest.read`).
For such a column this module gives two SQL expressions on the typed value:

* :func:`typed_value`, the stored value, the same as typing the value's text would give
  (:func:`vested.ingest.sql.typed_sql` of ``CAST(v AS VARCHAR)``);
* :func:`suspect`, a cheap vectorised condition that holds for every value the text checks
  (:func:`vested.ingest.checks.column_checks`) could find a problem with, and for almost no other.

Only the suspect rows have their value printed as text and put through the text checks, so every
problem keeps the code, message and detail it had when every value was read as text, at its row and
column; a clean typed column costs a comparison or two per value. Any other pairing of source and
declared type (a VARCHAR ``integer``, a FLOAT, a TIMESTAMP_NS, ...) is read as text, as before.
"""

from __future__ import annotations

import re

from vested.core.measures import Column
from vested.ingest.sql import STORAGE_TYPES

INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"})
"""DuckDB integer types (UBIGINT and HUGEINT may not fit the stored BIGINT: those values are suspect)."""
_FITS_BIGINT = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"})
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
EXACT_DOUBLE = "1e6"
"""Below this magnitude DuckDB's DOUBLE → DECIMAL(38,9) cast gives the value of the double's shortest text
(a double's spacing there is under 1e-9, so one 9-place decimal at most is that close); above it the
stored value is typed from the text, as before (DuckDB multiplies by 1e9 in floating point)."""
FIRST_INSTANT, END_INSTANT = "1900-01-01", "3000-01-01"


def is_native(spec: Column, source_type: str) -> bool:
    """Whether a source column of DuckDB type ``source_type`` is checked on its typed values for ``spec``."""
    kind = spec.type
    if kind == "integer":
        return source_type in INTEGERS
    if kind == "number":
        decimal = _DECIMAL.fullmatch(source_type)
        if decimal:
            precision, scale = int(decimal.group(1)), int(decimal.group(2))
            return scale <= 9 and precision - scale <= 29
        return source_type in INTEGERS or source_type == "DOUBLE"
    if kind == "boolean":
        return source_type == "BOOLEAN"
    if kind == "timestamp":
        return source_type == "TIMESTAMP WITH TIME ZONE" or (source_type == "TIMESTAMP" and spec.zone is not None)
    if kind == "date":
        return source_type == "DATE"
    return False


def typed_value(spec: Column, v: str, source_type: str) -> str:
    """SQL for the stored value of the typed source value ``v`` (as typing its text gives it)."""
    stored = STORAGE_TYPES[spec.type]
    if source_type == stored or (source_type, stored) == ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return v
    if spec.type == "number" and source_type == "DOUBLE":
        return (f"CASE WHEN abs({v}) < {EXACT_DOUBLE} THEN TRY_CAST({v} AS {stored}) "
                f"ELSE TRY_CAST(CAST({v} AS VARCHAR) AS {stored}) END")
    if spec.type == "timestamp" and source_type == "TIMESTAMP":
        return local_instant(v, str(spec.zone))
    return f"TRY_CAST({v} AS {stored})"


def local_instant(v: str, zone: str) -> str:
    """SQL for the instant of the naive timestamp ``v`` read as a wall-clock time in ``zone``."""
    return f"timezone({_lit(zone)}, {v})"


def clock_change(wall: str, zone: str) -> str:
    """SQL: 'skipped' when the wall-clock time ``wall`` does not exist in ``zone`` (the clocks went forward past
    it), 'repeated' when it happens twice (the clocks went back over it), else NULL. Clock changes of an hour."""
    instant = local_instant(wall, zone)
    z = _lit(zone)
    return (f"CASE WHEN timezone({z}, {instant}) <> {wall} THEN 'skipped' "
            f"WHEN timezone({z}, {instant} - INTERVAL 1 HOUR) = {wall} OR timezone({z}, {instant} + INTERVAL 1 HOUR) = {wall} "
            "THEN 'repeated' END")


def suspect(spec: Column, v: str, source_type: str, required: bool) -> str:
    """SQL that holds for every typed value the text checks could refuse (a superset; cheap)."""
    stored = STORAGE_TYPES[spec.type]
    typed = typed_value(spec, v, source_type)
    found = [f"{v} IS NULL"] if required else []
    if spec.type == "integer" and source_type not in _FITS_BIGINT:
        found.append(f"{typed} IS NULL")
    elif spec.type == "number" and source_type == "DOUBLE":
        # NaN, infinities, a value with more than 9 places, or out of range: the round trip fails or is not tried
        found.append(f"NOT (abs({v}) < {EXACT_DOUBLE} AND CAST(TRY_CAST({v} AS {stored}) AS DOUBLE) = {v})")
    elif spec.type == "number" and source_type in ("UBIGINT", "HUGEINT"):
        found.append(f"{typed} IS NULL")
    elif spec.type in ("timestamp", "date"):
        first, end = (f"TIMESTAMPTZ '{FIRST_INSTANT} 00:00:00+00'", f"TIMESTAMPTZ '{END_INSTANT} 00:00:00+00'") \
            if spec.type == "timestamp" else (f"DATE '{FIRST_INSTANT}'", f"DATE '{END_INSTANT}'")
        found.append(f"isinf({v}) OR {typed} < {first} OR {typed} >= {end}")
        if spec.type == "timestamp" and source_type == "TIMESTAMP":
            found.append(f"{clock_change(v, str(spec.zone))} IS NOT NULL")
    if spec.minimum is not None:
        found.append(f"{typed} < {spec.minimum:f}")
    if spec.maximum is not None:
        found.append(f"{typed} > {spec.maximum:f}")
    return "(" + " OR ".join(found) + ")" if found else "false"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
