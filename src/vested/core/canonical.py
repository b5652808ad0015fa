"""The canonical encoding: the one byte form of a value that hashes, signatures and the ledger rest on.

    canonical_data(value) -> plain JSON data      (strict: an unknown type is an error)
    canonical_text(value) -> str                  (sorted keys, two-space indent, UTF-8, final newline)
    canonical_hash(value) -> str                  (SHA-256 of the text's UTF-8 bytes, lowercase hex)

The rules, enough for a third party to re-implement them (docs/record.md repeats them):

* ``Decimal`` becomes a string in positional notation (``format(d, "f")``: ``Decimal("1.50")`` is
  ``"1.50"``, exponent notation never appears); money is never a JSON number.
* ``int`` stays a JSON integer; ``bool`` and ``None`` are ``true``/``false``/``null``; ``str`` is itself.
* ``datetime`` and ``date`` become ISO 8601 text (``isoformat()``); an ``Enum`` its value.
* A frozen record (dataclass) becomes an object of its fields, then the derived values its class
  names in ``DERIVED``; a mapping an object with string keys; a list, tuple or set an array
  (sets sorted by their canonical text, so their order never changes a hash).
* Anything else (a ``float``, a path, an object) is a :class:`CanonicalError`: a value that would be
  encoded by ``str()`` could change its bytes between versions of Python or of a library.

The JSON text is ``json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\\n"``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


class CanonicalError(TypeError):
    """A value the canonical encoding does not define (a programming error, not a user's)."""


def canonical_data(value: Any, where: str = "$") -> Any:
    """Plain JSON data for ``value`` under the rules above; ``where`` names the place of a refused value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CanonicalError(f"{where}: {value} is not a finite number")
        return format(value, "f")
    if isinstance(value, Enum):
        return canonical_data(value.value, where)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [*(f.name for f in dataclasses.fields(value)), *getattr(type(value), "DERIVED", ())]
        return {name: canonical_data(getattr(value, name), f"{where}.{name}") for name in names}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise CanonicalError(f"{where}: a key of type {type(key).__name__} has no canonical form")
            out[str(key)] = canonical_data(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [canonical_data(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        items = [canonical_data(item, f"{where}[]") for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    raise CanonicalError(f"{where}: a value of type {type(value).__name__} has no canonical form")


def canonical_text(value: Any) -> str:
    """The canonical JSON text: the same value always gives the same bytes."""
    return json.dumps(canonical_data(value), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def canonical_hash(value: Any) -> str:
    """SHA-256 (lowercase hex) of the canonical text's UTF-8 bytes."""
    return text_hash(canonical_text(value))


def text_hash(text: str) -> str:
    """SHA-256 (lowercase hex) of a text's UTF-8 bytes (an agreement's YAML, a statement's canonical text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
