"""The format as a type: validate plain data into an :class:`Agreement`, describe its fields.

Pure: takes the plain data a YAML or JSON adapter produced, returns records or pydantic errors
turned into diagnostics (with document paths; the adapter adds file positions).
"""

from __future__ import annotations

import dataclasses
import re
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
from vested.core.values import IDENTIFIER_PATTERN, type_name


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
    errors = []
    seen: set[Path] = set()
    for err in exc.errors(include_url=False):
        path = data_path(err["loc"], data)
        if path in seen:
            continue  # a union reports each alternative; the first one says enough
        seen.add(path)
        errors.append((err, path))
    # A tuple with a minimum length reports "too short" when its items failed: the items say enough.
    errors = [(err, path) for err, path in errors
              if err["type"] != "too_short" or not any(p[: len(path)] == path and p != path for _, p in errors)]
    # A misspelt required key is one problem, not two: report the unknown key, suggest the missing one.
    missing = {path for err, path in errors if err["type"] == "missing" and path}
    suggested: dict[Path, str] = {}
    for err, path in errors:
        if err["type"] in UNKNOWN_KINDS and path:
            wanted = [str(p[-1]) for p in missing if p[:-1] == path[:-1]]
            close = get_close_matches(str(path[-1]), wanted, n=1, cutoff=0.6)
            if close:
                suggested[path] = close[0]
                missing.discard((*path[:-1], close[0]))
    return [describe_error(err, path, data, document, suggested.get(path)) for err, path in errors
            if err["type"] != "missing" or path in missing or not path]


UNKNOWN_KINDS = ("unexpected_keyword_argument", "extra_forbidden")


def data_path(loc: tuple[int | str, ...], data: Any) -> Path:
    """The path in the document of a pydantic error location (union tags and validator names dropped)."""
    path: list[int | str] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
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


SECTION_ITEMS = {"parties": "party", "metrics": "metric", "outcomes": "outcome", "pricing": "term"}


def describe_place(path: Path, data: Any) -> str:
    """How a path reads in a message: ``pricing[1].tiers[0] (term 'volume')``, or "the file"."""
    if not path:
        return "the file"
    text = show_path(path)
    if len(path) >= 2 and path[0] in SECTION_ITEMS and isinstance(path[1], int) and isinstance(data, Mapping):
        items = data.get(path[0])
        item = items[path[1]] if isinstance(items, list) and 0 <= path[1] < len(items) else None
        if isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"] and path[2:] != ("id",):
            text += f" ({SECTION_ITEMS[str(path[0])]} {item['id']!r})"
    return text


def describe_error(err: Any, path: Path, data: Any, document: str, suggestion: str | None = None) -> Diagnostic:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    where = describe_place(path, data)
    message = err["msg"]
    hint = str(ctx.get("hint", ""))
    if kind == "missing":
        key = path[-1] if path else "?"
        description = field_description(path, data)
        message = f"missing required key {key!r} in {describe_place(path[:-1], data)}"
        hint = f"add `{key}: ...`" + (f" ({description.rstrip('.')})" if description else "")
    elif kind in UNKNOWN_KINDS:
        key = str(path[-1]) if path else "?"
        allowed = allowed_keys(path[:-1], data)
        close = [suggestion] if suggestion else get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = f"unknown key {key!r} in {describe_place(path[:-1], data)}"
        hint = (f"did you mean {close[0]!r}?" + (f" (`{close[0]}` is required and missing)" if suggestion else "")
                if close else (f"allowed here: {', '.join(allowed)}" if allowed else ""))
        if not close and _stray_text(path, data):
            # `{what: Keep vans (a, b), owner: x}`: YAML splits the text at the comma and reads `b)` as a key.
            hint = (f"{key!r} looks like the rest of a text cut at a comma: inside {{...}} a comma separates "
                    f"items, so put the whole text in quotes: \"..., {key}\"")
    elif kind == "union_tag_invalid":
        tag = str(ctx.get("tag"))
        close = get_close_matches(tag, list(TERM_TYPES), n=1, cutoff=0.6)
        message = f"unknown term type {tag!r} in {where}"
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
        if path == ("vested",):
            message = f"this file is written in format version {value!r}, and this vested reads version 1"
            hint = "write `vested: 1` (and the format of version 1)"
    elif kind == "string_pattern_mismatch" and path and path[-1] in ("currency", "from"):
        message = f"{err.get('input')!r} is not a currency code ({where})"
        hint = "write an ISO 4217 code in capitals, such as USD, EUR or GBP"
        return error("invalid-currency", message, hint, path, document)
    elif kind in ("dict_type", "dataclass_type", "model_type", "dataclass_args_type"):
        message = f"{where} must be a mapping (key: value lines), found {type_name(err.get('input'))}"
        hint = "indent the keys under it"
    elif kind in ("tuple_type", "list_type"):
        message = f"{where} must be a list, found {type_name(err.get('input'))}"
        hint = "write each item on its own line starting with '- ', or as [a, b]"
    elif kind in ("string_type",):
        message = f"{where} must be text, found {type_name(err.get('input'))}"
        hint = "quote it if it looks like a number or a date"
    elif kind == "string_too_short":
        message = f"{where} must not be empty"
        hint = "write it out"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = f"{where} must be a whole number, found {err.get('input')!r}"
        hint = "write digits only, e.g. 12"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = f"{where}: {message.lower()}, found {err.get('input')!r}"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"{where} must be true or false, found {err.get('input')!r}"
        hint = "write true or false"
    elif kind == "too_short":
        message = f"{where} needs at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "value_error":
        message = str(ctx.get("error", message))
    elif kind == "formula" and isinstance(ctx.get("offset"), int):
        # the offset is inside the formula's text: at the value, or under `formula:` of a mapping
        inside = (*path, "formula") if isinstance(err.get("input"), Mapping) else path
        return error("formula", f"{where}: {message}", hint, inside, document, offset=ctx["offset"])
    return error(code_for(kind), f"{message}" if kind not in CUSTOM_KINDS else f"{where}: {message}", hint, path, document)


def _stray_text(path: Path, data: Any) -> bool:
    """True when an unknown key has no value and is not id-like: a piece of text a flow comma cut off."""
    try:
        value = value_at(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return value is None and not re.match(IDENTIFIER_PATTERN, str(path[-1]))


CUSTOM_KINDS = {"number", "rate", "share", "duration", "period", "identifier", "source", "share_split", "tier", "curve",
                "cost_plus", "service_level", "late_delivery", "quality_check", "quality_deduction", "margin_matching",
                "timestamp", "boolean", "series", "range", "formula", "table"}


def code_for(kind: str) -> str:
    return {
        "missing": "missing-key",
        "unexpected_keyword_argument": "unknown-key",
        "extra_forbidden": "unknown-key",
        "union_tag_invalid": "unknown-term-type",
        "union_tag_not_found": "missing-term-type",
        "literal_error": "invalid-choice",
        "string_too_short": "empty-value",
        **dict.fromkeys(TYPE_KINDS, "wrong-type"),
    }.get(kind, "invalid-value" if kind not in CUSTOM_KINDS else f"invalid-{kind.replace('_', '-')}")


TYPE_KINDS = ("dict_type", "dataclass_type", "model_type", "dataclass_args_type", "tuple_type", "list_type", "string_type",
              "int_type", "int_parsing", "int_from_float", "bool_type", "bool_parsing")


def _record_type(tp: Any, node: Any) -> Any:
    """The record class a value of type ``tp`` is validated as (a term chosen by its ``type``), or None."""
    tp = _unwrap(tp)
    if dataclasses.is_dataclass(tp):
        return tp
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        records = [m for m in map(_unwrap, typing.get_args(tp)) if dataclasses.is_dataclass(m)]
        if isinstance(node, Mapping) and "type" in node:
            chosen = TERM_TYPES.get(str(node["type"]))
            if chosen is not None and chosen in records:
                return chosen
        if len(records) == 1:
            return records[0]
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional: ``Annotated[X | None, ...]`` -> ``X``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def record_at(path: Path, data: Any) -> Any:
    """The record class that the mapping at ``path`` is validated as (None where it is not a record)."""
    tp: Any = Agreement
    node = data
    for part in path:
        if isinstance(part, int):
            inner = _unwrap(tp)
            if typing.get_origin(inner) is not tuple:
                return None
            tp = typing.get_args(inner)[0]
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        cls = _record_type(tp, node)
        name = field_name(cls, part) if cls is not None else None
        if name is None:
            return None
        tp = _hints(cls)[name]
        node = node.get(part) if isinstance(node, Mapping) else None
    return _record_type(tp, node)


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def field_name(cls: Any, key: str) -> str | None:
    for name, info in getattr(cls, "__pydantic_fields__", {}).items():
        if key in (name, info.alias):
            return str(name)
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
