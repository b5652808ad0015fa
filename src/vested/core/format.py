"""The format as a type: validate plain data into an :class:`Agreement`, describe its fields.

Pure: takes the plain data a YAML or JSON adapter produced, returns records or pydantic errors
turned into diagnostics (with document paths; the adapter adds file positions).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from difflib import get_close_matches
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from vested.core.diagnostics import Diagnostic, Path, error, show_path
from vested.core.model import Agreement
from vested.core.terms import TERM_TYPES


@cache
def agreement_adapter() -> TypeAdapter[Agreement]:
    return TypeAdapter(Agreement)


def agreement_schema() -> dict[str, Any]:
    """The JSON Schema of the agreement format."""
    schema = agreement_adapter().json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vested agreement"
    return schema


def build_agreement(data: Any) -> tuple[Agreement | None, list[Diagnostic]]:
    """Validate plain data as an agreement; every structural problem becomes a diagnostic."""
    if not isinstance(data, Mapping):
        return None, [error("type", "an agreement file must be a mapping of keys to values",
                            "start with `vested: 1`, then `id:`, `title:` and `parties:`")]
    try:
        return agreement_adapter().validate_python(data), []
    except ValidationError as exc:
        return None, diagnostics_from_validation(exc, data)


def diagnostics_from_validation(exc: ValidationError, data: Any, document: str = "agreement") -> list[Diagnostic]:
    seen: set[Path] = set()
    problems = []
    for err in exc.errors(include_url=False):
        path = data_path(err["loc"], data)
        if path in seen:
            continue  # a union reports each alternative; the first one says enough
        seen.add(path)
        problems.append(describe_error(err, path, data, document))
    return problems


def data_path(loc: tuple[int | str, ...], data: Any) -> Path:
    """The path in the document of a pydantic error location (union tags and validator names dropped)."""
    path: list[int | str] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, Mapping) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif last and isinstance(node, Mapping) and isinstance(part, str) and "[" not in part:
            path.append(part)  # a missing key: point at its parent, name the key
        # else: a union tag or validator name that is not in the document
    return tuple(path)


def value_at(data: Any, path: Path) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def describe_error(err: Any, path: Path, data: Any, document: str) -> Diagnostic:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    where = show_path(path) or "the file"
    message = err["msg"]
    hint = str(ctx.get("hint", ""))
    if kind == "missing":
        key = path[-1] if path else "?"
        description = field_description(path, data)
        message = f"missing required key {key!r} in {show_path(path[:-1]) or 'the file'}"
        hint = f"add `{key}: ...`" + (f" ({description})" if description else "")
    elif kind in ("unexpected_keyword_argument", "extra_forbidden"):
        key = str(path[-1]) if path else "?"
        allowed = allowed_keys(path[:-1], data)
        close = get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = f"unknown key {key!r} in {show_path(path[:-1]) or 'the file'}"
        hint = f"did you mean {close[0]!r}?" if close else (f"allowed here: {', '.join(allowed)}" if allowed else "")
    elif kind == "union_tag_invalid":
        tag = str(ctx.get("tag"))
        close = get_close_matches(tag, list(TERM_TYPES), n=1, cutoff=0.6)
        message = f"unknown term type {tag!r}"
        hint = f"did you mean {close[0]!r}?" if close else f"term types: {', '.join(TERM_TYPES)}"
    elif kind == "union_tag_not_found":
        message = f"{where} has no `type`"
        hint = f"add `type:` with one of: {', '.join(TERM_TYPES)}"
    elif kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        value = err.get("input")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        close = get_close_matches(str(value), options, n=1, cutoff=0.5)
        message = f"{value!r} is not allowed for {where}"
        hint = f"did you mean {close[0]!r}?" if close else f"use one of: {expected}"
    elif kind == "string_pattern_mismatch" and path and path[-1] == "currency":
        message = f"{err.get('input')!r} is not a currency code"
        hint = "write an ISO 4217 code in capitals, such as USD, EUR or GBP"
    elif kind in ("dict_type", "dataclass_type", "model_type", "dataclass_args_type"):
        message = f"{where} must be a mapping (key: value lines), found {type_label(err.get('input'))}"
        hint = "indent the keys under it"
    elif kind in ("tuple_type", "list_type"):
        message = f"{where} must be a list, found {type_label(err.get('input'))}"
        hint = "write each item on its own line starting with '- '"
    elif kind in ("string_type",):
        message = f"{where} must be text, found {type_label(err.get('input'))}"
        hint = "quote it if it looks like a number or a date"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"{where} must be a whole number, found {err.get('input')!r}"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"{where} must be true or false, found {err.get('input')!r}"
    elif kind == "too_short":
        message = f"{where} needs at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "value_error":
        message = str(ctx.get("error", message))
    return error(code_for(kind), f"{message}" if kind not in CUSTOM_KINDS else f"{where}: {message}", hint, path, document)


CUSTOM_KINDS = {"number", "rate", "share", "duration", "period", "identifier", "source", "share_split", "tier", "curve",
                "cost_plus", "service_level", "late_delivery", "quality_check", "quality_deduction", "margin_matching",
                "timestamp", "boolean", "series", "range"}


def code_for(kind: str) -> str:
    return {
        "missing": "missing-key",
        "unexpected_keyword_argument": "unknown-key",
        "extra_forbidden": "unknown-key",
        "union_tag_invalid": "unknown-term-type",
        "union_tag_not_found": "missing-term-type",
        "literal_error": "invalid-choice",
    }.get(kind, "invalid-value" if kind not in CUSTOM_KINDS else f"invalid-{kind.replace('_', '-')}")


def type_label(value: Any) -> str:
    from vested.core.values import type_name

    return type_name(value)


def _record_type(tp: Any, node: Any) -> Any:
    """Unwrap Annotated, Optional and tuple types down to a record class (choosing a term by its type)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            records = [m for m in members if dataclasses.is_dataclass(m)]
            if isinstance(node, Mapping) and "type" in node:
                chosen = TERM_TYPES.get(str(node["type"]))
                if chosen is not None and chosen in records:
                    return chosen
            if len(records) == 1:
                return records[0]
            return None
        elif origin is tuple:
            tp = typing.get_args(tp)[0]
        else:
            return tp if dataclasses.is_dataclass(tp) else None


def record_at(path: Path, data: Any) -> Any:
    """The record class that the mapping at ``path`` is validated as."""
    cls: Any = Agreement
    node = data
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if cls is None:
            return None
        hints = typing.get_type_hints(cls, include_extras=True)
        name = field_name(cls, part)
        if name is None:
            return None
        node = node.get(part) if isinstance(node, Mapping) else None
        inner = node[0] if isinstance(node, list) and node else node
        cls = _record_type(hints[name], inner)
    if isinstance(node, Mapping) and cls is not None and "type" in node and str(node["type"]) in TERM_TYPES:
        cls = TERM_TYPES[str(node["type"])]
    return cls


def field_name(cls: Any, key: str) -> str | None:
    for f in dataclasses.fields(cls):
        alias = getattr(f.default, "alias", None) if f.default is not dataclasses.MISSING else None
        if key in (f.name, alias):
            return f.name
    return None


def allowed_keys(path: Path, data: Any) -> list[str]:
    cls = record_at(path, data)
    if cls is None:
        return []
    return [key for key, _ in record_fields(cls)]


def record_fields(cls: Any) -> list[tuple[str, str]]:
    """(key as written in YAML, description) of each field of a record class."""
    result = []
    pyd_fields = getattr(cls, "__pydantic_fields__", {})
    for name, info in pyd_fields.items():
        result.append((info.alias or name, info.description or ""))
    return result


def field_description(path: Path, data: Any) -> str:
    cls = record_at(path[:-1], data)
    if cls is None or not path:
        return ""
    return dict(record_fields(cls)).get(str(path[-1]), "")
