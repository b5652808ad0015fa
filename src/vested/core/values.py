"""The value types of the agreement format: identifiers, amounts, shares, durations, periods, months.

Each is an ``Annotated`` type that parses the forms people write in contracts ("25%", "2 days",
"1,000.00") into one exact representation, and rejects the rest with a message and a hint.
Parsing errors are raised as ``PydanticCustomError`` with the hint in its context; the loader
turns them into diagnostics at the right line and column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from vested.core.money import HUNDRED
from vested.core.periods import FIRST_YEAR, LAST_YEAR, add_months, is_month, parse_month

IDENTIFIER_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_.\-]*$"


def fail(kind: str, message: str, hint: str = "") -> PydanticCustomError:
    """A parse failure with a hint the loader shows next to the message."""
    return PydanticCustomError(kind, message, {"hint": hint})


def parse_identifier(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("identifier", f"an id must be text, not {type_name(value)}", "write a short name such as store_uptime")
    if not re.match(IDENTIFIER_PATTERN, value):
        raise fail(
            "identifier",
            f"{value!r} is not a valid id",
            "start with a letter; use letters, digits, '_', '-' or '.' only",
        )
    return value


def type_name(value: Any) -> str:
    names = {bool: "true/false", int: "a number", Decimal: "a number", float: "a number", str: "text",
             list: "a list", dict: "a mapping", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)


_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*|[1-9][0-9]{0,2}(,[0-9]{3})+)(\.[0-9]+)?$")
"""A number written as text: ASCII digits, an optional minus, thousands grouped by commas, a decimal point."""
_CURRENCY_IN_TEXT = re.compile(r"^\s*(?:[A-Z]{3}\s*[-+\d.,]|[$€£¥])|[-+\d.,]\s*(?:[A-Z]{3}|[$€£¥])\s*$")


def number_text_problem(text: str) -> tuple[str, str | None] | None:
    """Why ``text`` is not a number as the format writes one, and the number meant if there is one; None when it is one.

    The format accepts one spelling: ``-1250.50``, or ``"1,250.50"`` with commas, in the ASCII digits
    0-9. Everything else a parser might also take (``+5``, ``1_000``, ``" 5 "``, ``-0``, ``017``, digits
    of other scripts) is refused with a hint rather than read silently: each is more often a slip
    (or a different number in another reader: YAML 1.1 reads ``017`` as 15) than a meaning.
    """
    if _NUMBER.match(text):
        return ("is a negative zero", "0") if text.startswith("-") and not text.strip("-0.,") else None
    stripped = text.strip()
    if stripped != text:
        return "has spaces around the number", stripped if _NUMBER.match(stripped) else None
    if any(c.isdigit() and not "0" <= c <= "9" for c in text):
        meant = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in text)
        return "is written with digits other than 0-9", meant if _NUMBER.match(meant) else None
    if "_" in text:
        return "groups its digits with '_'", text.replace("_", "") if _NUMBER.match(text.replace("_", "")) else None
    if text.startswith("+"):
        return "is written with a plus sign", text[1:] if _NUMBER.match(text[1:]) else None
    if re.fullmatch(r"-?0[xXoObB][0-9a-fA-F]+", text):
        return "is not written in decimal digits", None
    if re.fullmatch(r"-?0[0-9]+(\.[0-9]+)?", text):
        return "has a leading zero (YAML 1.1 reads 017 as an octal number)", re.sub(r"^(-?)0+(?=[0-9])", r"\1", text)
    if re.fullmatch(r"-?([0-9]+\.|\.[0-9]+)", text):
        return "has no digit on one side of its decimal point", text + "0" if text.endswith(".") else text.replace(".", "0.")
    return "is not a number", None


def parse_number(value: Any) -> Decimal:
    """A plain number: YAML numbers, or text such as "1,250.50"; never a boolean."""
    if isinstance(value, bool) or value is None:
        raise fail("number", f"expected a number, found {type_name(value)}")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if _CURRENCY_IN_TEXT.search(text) and not text.endswith("%"):
            raise fail(
                "number",
                f"{value!r} mixes a currency into a number",
                "write the amount as a plain number; the currency is the agreement's policy.currency "
                "(or the term's own `currency:`)",
            )
        if text.endswith("%"):
            raise fail("number", f"{value!r} is a percentage where a plain number is expected",
                       "write the number itself, e.g. 99.5 for a level of 99.5 percent")
        problem = number_text_problem(value)
        if problem is not None:
            words, meant = problem
            raise fail("number", f"{value!r} {words}",
                       f"write {meant}" if meant is not None else "write digits, e.g. 1250.50 or 1,250.50")
        number = Decimal(value.replace(",", ""))
    else:
        raise fail("number", f"expected a number, found {type_name(value)}")
    if not number.is_finite():
        raise fail("number", "the number must be finite")
    if number.is_zero() and number.is_signed():
        raise fail("number", f"{value} is a negative zero", "write 0")
    return number


def parse_amount(value: Any) -> Decimal:
    return parse_number(value)


def parse_non_negative(value: Any) -> Decimal:
    number = parse_number(value)
    if number < 0:
        raise fail("number", f"{number} is negative; this value must be zero or more")
    return number


def parse_positive(value: Any) -> Decimal:
    number = parse_number(value)
    if number <= 0:
        raise fail("number", f"{number} is not more than zero; this value must be positive",
                   "write a number above zero, e.g. 0.01")
    return number


def parse_rate(value: Any) -> Decimal:
    """A rate or share: "25%" or a fraction such as 0.25; bare numbers above 1 are refused.

    Refusing "25" (instead of guessing 25% or 2500%) is deliberate: the unit is the most common
    silent error in incentive tables.
    """
    if isinstance(value, str) and value.strip().endswith("%"):
        if value != value.strip():
            raise fail("rate", f"{value!r} has spaces around it", f"write {value.strip()}")
        text = value[:-1]
        problem = number_text_problem(text) if "," not in text else ("is not a percentage", None)
        if problem is not None:
            words, meant = problem
            raise fail("rate", f"{value!r} {words}", f"write {meant}%" if meant is not None else "write e.g. 25% or 0.25")
        share = Decimal(text) / HUNDRED
    else:
        if isinstance(value, str):
            problem = number_text_problem(value.replace(",", "")) if "," not in value else None
            if problem is not None and problem[1] is not None:
                raise fail("rate", f"{value!r} {problem[0]}", f"write {problem[1]}")
            try:
                share = parse_number(value)
            except PydanticCustomError:
                raise fail("rate", f"{value!r} is not a rate", "write a percentage such as 25% or a fraction such as 0.25") from None
        else:
            share = parse_number(value)
        if share > 1:
            raise fail(
                "rate",
                f"{value} is not a fraction between 0 and 1",
                f"write {value}% if you mean {value} percent, or {share / HUNDRED} as a fraction",
            )
    if share < 0:
        raise fail("rate", f"{value} is negative; rates and shares are zero or more")
    return share


def parse_share(value: Any) -> Decimal:
    share = parse_rate(value)
    if share > 1:
        raise fail("share", f"{value} is more than 100%", "a share is between 0% and 100%")
    return share


@dataclass(frozen=True)
class Duration:
    """A fixed-length duration written as text ("2 days", "10 minutes", "2 weeks")."""

    amount: Decimal
    unit: str

    @property
    def seconds(self) -> Decimal:
        return self.amount * UNIT_SECONDS[self.unit]

    @property
    def days(self) -> Decimal:
        return self.seconds / UNIT_SECONDS["day"]

    def __str__(self) -> str:
        plural = "" if self.amount == 1 else "s"
        return f"{self.amount} {self.unit}{plural}"


UNIT_SECONDS: Final[dict[str, Decimal]] = {
    "second": Decimal(1),
    "minute": Decimal(60),
    "hour": Decimal(3600),
    "day": Decimal(86400),
    "week": Decimal(604800),
}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$")


def parse_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise fail("duration", f"a duration must be text such as '2 days', not {type_name(value)}")
    match = _DURATION.match(value)
    unit = ""
    if match:
        unit = match.group(2).lower().rstrip("s") if match.group(2).lower() != "s" else "second"
    if not match or unit not in UNIT_SECONDS:
        months = match is not None and unit in ("month", "year")
        raise fail(
            "duration",
            f"{value!r} is not a fixed-length duration" + (" (months and years vary in length)" if months else ""),
            "write a number and one of: seconds, minutes, hours, days, weeks (e.g. '15 days')",
        )
    return Duration(Decimal(match.group(1)), unit)


_PERIOD = re.compile(r"^([0-9]{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


def parse_period(value: Any) -> str:
    """A period label: ``2025-06`` (month), ``2025-Q2`` (quarter) or ``2025`` (year)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if hasattr(value, "year") and hasattr(value, "month"):  # a YAML date such as 2025-06-01
        raise fail("period", f"{value} is a date, not a period", "write the month as 2025-06 (quoted if needed)")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
        try:
            parse_month(value)
        except ValueError as exc:
            raise fail("period", str(exc), f"write a month between {FIRST_YEAR}-01 and {LAST_YEAR}-12") from None
    if not isinstance(value, str) or not _PERIOD.match(value):
        raise fail("period", f"{value!r} is not a period", "write a month (2025-06), a quarter (2025-Q2) or a year (2025)")
    if not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
        raise fail("period", f"{value}: the year {value[:4]} is outside the supported calendar ({FIRST_YEAR} to {LAST_YEAR})",
                   f"write a period between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def parse_month_label(value: Any) -> str:
    """A month label such as ``2025-06`` (checked by ``periods.parse_month``); a quarter or a year is refused."""
    label = parse_period(value)
    if not is_month(label):
        what = "a quarter" if "Q" in label else "a year"
        raise fail("period", f"{label!r} is {what}, not a month", f"write the month, e.g. {label[:4]}-01")
    return label


def _schema(kind: str, description: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"description": description, **({"type": kind} if kind else {}), **extra})


_as_text = PlainSerializer(lambda v: format(v, "f") if isinstance(v, Decimal) else str(v), return_type=str)

Identifier = Annotated[str, BeforeValidator(parse_identifier),
                       _schema("string", "An id: a letter, then letters, digits, '_', '-' or '.'.",
                               pattern=IDENTIFIER_PATTERN)]
Number = Annotated[Decimal, BeforeValidator(parse_number), _as_text,
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": _NUMBER.pattern}],
                                   "description": "A number (exact decimal)."})]
Amount = Annotated[Decimal, BeforeValidator(parse_amount), _as_text,
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": _NUMBER.pattern}],
                                   "description": "An amount of money in the agreement's currency (exact decimal)."})]
NonNegative = Annotated[Decimal, BeforeValidator(parse_non_negative), _as_text,
                        WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
                                        "description": "A number that is zero or more."})]
Positive = Annotated[Decimal, BeforeValidator(parse_positive), _as_text,
                     WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}],
                                     "description": "A number greater than zero."})]
_RATE_SCHEMA = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                          {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?%$"}]}
Rate = Annotated[Decimal, BeforeValidator(parse_rate), _as_text,
                 WithJsonSchema({**_RATE_SCHEMA, "description": "A rate: a percentage ('25%') or a fraction (0.25)."})]
Share = Annotated[Decimal, BeforeValidator(parse_share), _as_text,
                  WithJsonSchema({**_RATE_SCHEMA, "description": "A share between 0% and 100% ('25%' or 0.25)."})]
DurationText = Annotated[Duration, BeforeValidator(parse_duration), PlainSerializer(str, return_type=str),
                         _schema("string", "A fixed duration: a number and seconds, minutes, hours, days or weeks.",
                                 pattern=_DURATION.pattern)]
Period = Annotated[str, BeforeValidator(parse_period),
                   WithJsonSchema({"description": "A period: a month (2025-06), a quarter (2025-Q2) or a year (2025).",
                                   "anyOf": [{"type": "string", "pattern": _PERIOD.pattern},
                                             {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}]})]
Month = Annotated[str, BeforeValidator(parse_month_label),
                  WithJsonSchema({"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                                  "description": "A month, e.g. 2025-01."})]


def period_range(start: str, months: int) -> list[str]:
    """The month labels of a term that starts in month ``start`` (``YYYY-MM``) and lasts ``months``."""
    return [add_months(start, i) for i in range(months)]
