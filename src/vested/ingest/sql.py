"""The SQL text an ingest builds: quoted literals and identifiers, and the typing of raw text values.

Every value is read as text (see :mod:`vested.ingest.read`); :func:`typed_sql` is the one place that
says how a column's text becomes its stored type, for the checks and for the batch alike.
"""

from __future__ import annotations

from vested.core.measures import Column
from vested.storage.folder import STORAGE_TYPES

__all__ = ["FALSE_WORDS", "STORAGE_TYPES", "TRUE_WORDS", "ident", "json_path", "lit", "struct", "typed_sql"]

LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
"""A timestamp written without a UTC offset: read in its column's ``zone`` when it declares one."""
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")


def typed_sql(spec: Column, v: str) -> str:
    """SQL turning the raw text ``v`` into the stored type (NULL when empty or invalid)."""
    t = f"trim({v})"
    return {
        # only a value below '!' (empty, or starting with a space) can trim to '': the comparison spares a trim per value
        "string": f"CASE WHEN {v} < '!' AND {t} = '' THEN NULL ELSE {v} END",
        "integer": f"TRY_CAST(regexp_replace({t}, '\\.0*$', '') AS BIGINT)",
        "number": f"TRY_CAST({t} AS {STORAGE_TYPES['number']})",
        "boolean": (f"CASE WHEN lower({t}) IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN true "
                    f"WHEN lower({t}) IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN false END"),
        # DuckDB's cast reads spaces around the value and a final Z itself; the rest (a final z) is made plain first
        "timestamp": f"COALESCE(TRY_CAST({v} AS TIMESTAMPTZ), TRY_CAST(regexp_replace({t}, '[zZ]$', '+00:00') AS TIMESTAMPTZ))"
        if spec.zone is None else (
            f"CASE WHEN regexp_full_match({t}, {lit(LOCAL_TIME)}) THEN timezone({lit(spec.zone)}, TRY_CAST({t} AS TIMESTAMP)) "
            f"ELSE TRY_CAST(regexp_replace({t}, '[zZ]$', '+00:00') AS TIMESTAMPTZ) END"),
        "date": f"TRY_CAST({t} AS DATE)",
    }[spec.type]


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def json_path(key: str) -> str:
    """A JSONPath literal for one key, whatever characters it holds (``$."a.b"``)."""
    return lit('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')


def struct(fields: dict[str, str]) -> str:
    """A DuckDB struct literal of strings (``{'c0': 'VARCHAR'}``)."""
    return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in fields.items()) + "}"
