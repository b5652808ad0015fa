"""The SQL text an ingest builds: quoted literals and identifiers, and the typing of raw text values.

Every value is read as text (see :mod:`vested.ingest.read`); :func:`typed_sql` is the one place that
says how a column's text becomes its stored type, for the checks and for the batch alike.
"""

from __future__ import annotations

from vested.core.measures import Column
from vested.storage.folder import STORAGE_TYPES

__all__ = ["FALSE_WORDS", "STORAGE_TYPES", "TRUE_WORDS", "ident", "json_path", "lit", "struct", "typed_sql"]

TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")


def typed_sql(spec: Column, v: str) -> str:
    """SQL turning the raw text ``v`` into the stored type (NULL when empty or invalid)."""
    t = f"trim({v})"
    return {
        "string": f"CASE WHEN {t} = '' THEN NULL ELSE {v} END",
        "integer": f"TRY_CAST(regexp_replace({t}, '\\.0*$', '') AS BIGINT)",
        "number": f"TRY_CAST({t} AS {STORAGE_TYPES['number']})",
        "boolean": (f"CASE WHEN lower({t}) IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN true "
                    f"WHEN lower({t}) IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN false END"),
        "timestamp": f"TRY_CAST(regexp_replace({t}, '[zZ]$', '+00:00') AS TIMESTAMPTZ)",
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
