"""The value types of the scenario format: a signed rate, a setting of a tunable parameter.

Each is an ``Annotated`` type with its parser (raising ``fail`` for a value a user wrote wrong)
and its JSON Schema, as the agreement's value types in ``vested.core.values`` are. The scenario
records (``vested.core.scenario``, ``vested.core.uncertainty``) are declared with them. A month is
the agreement format's ``Month`` (re-exported here with ``is_month``). Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from vested.core.money import HUNDRED
from vested.core.periods import is_month
from vested.core.values import Month, fail, parse_number

__all__ = ["Month", "Setting", "SignedRate", "is_month", "parse_setting", "parse_signed_rate", "setting_value"]


def parse_signed_rate(value: Any) -> Decimal:
    """A signed relative change: "-70%", "+5%", "0.5%", or a fraction between -1 and 1 (-0.7)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = parse_number(value.strip()[:-1].strip().lstrip("+"))
        except Exception:
            raise fail("rate", f"{value!r} is not a percentage", "write e.g. -25% or +10%") from None
        return number / HUNDRED
    number = parse_number(value)
    if abs(number) > 1:
        raise fail("rate", f"{value} is not a fraction between -1 and 1",
                   f"write {value}% if you mean {value} percent, or {number / HUNDRED} as a fraction")
    return number


_as_text = PlainSerializer(lambda v: format(v, "f"), return_type=str)
SignedRate = Annotated[Decimal, BeforeValidator(parse_signed_rate), _as_text,
                       WithJsonSchema({"anyOf": [{"type": "number", "minimum": -1, "maximum": 1},
                                                 {"type": "string", "pattern": r"^\s*[+-]?\d+(\.\d+)?\s*%$"}],
                                       "description": "A signed relative change: '-25%', '+10%' or -0.25."})]


def parse_setting(value: Any) -> str:
    """A tunable setting as written: a percentage ("25%") or a number (270000), kept as text."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = parse_number(value.strip()[:-1].strip())
        except Exception:
            raise fail("setting", f"{value!r} is not a percentage", "write e.g. 25% or a number") from None
        return f"{number.normalize():f}%"
    return f"{parse_number(value).normalize():f}"


def setting_value(text: str) -> tuple[Decimal, bool]:
    """(the number, written as a percentage?) of a setting: "25%" -> (25, True)."""
    return (Decimal(text[:-1]), True) if text.endswith("%") else (Decimal(text), False)


Setting = Annotated[str, BeforeValidator(parse_setting),
                    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[+-]?[\d.,]+\s*%?$"}],
                                    "description": "A value of a tunable parameter: a number or a percentage."})]
