"""The one place values become JSON: Decimal -> string, dates -> ISO 8601, records -> mappings.

A record's JSON holds its fields, then the derived values (properties) its class names in
``DERIVED`` (e.g. ``Money.DERIVED = ("customer_total_cost", ...)``), so a renderer never patches them in.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any core value; money stays exact (as a string)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool) or value is None or isinstance(value, int | str | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [*(f.name for f in dataclasses.fields(value)), *getattr(type(value), "DERIVED", ())]
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return str(value)


def dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys, two-space indent): the same value always gives the same bytes."""
    return json.dumps(to_jsonable(value), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
