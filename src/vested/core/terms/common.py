"""Parameter records that several term types share: amount sources, share splits, tiers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic.dataclasses import dataclass

from vested.core.bands import Bounds
from vested.core.money import HUNDRED
from vested.core.records import RECORD
from vested.core.terms.base import Source
from vested.core.values import Amount, Number, Rate, Share, fail, parse_rate


def _source_shorthand(value: Any) -> Any:
    if isinstance(value, dict | Source):
        return value
    return {"amount": value}


def _check_one_source(source: Source) -> Source:
    given = [name for name in ("amount", "metric", "term", "formula") if getattr(source, name) is not None]
    if len(given) != 1:
        raise fail("source", "give exactly one of amount, metric, term or formula" + (f" (found {', '.join(given)})" if given else ""),
                   "e.g. `base: 40000`, `base: {metric: monthly_charge}`, `base: {term: service_fee}` or "
                   "`base: {formula: \"orders × 12.5\"}`")
    return source


_SOURCE_SCHEMA = {
    "description": "An amount: a number, {metric: id} (the metric's value this period), {term: id} (another term's "
                   "amount) or {formula: text} (computed each period).",
    "anyOf": [
        {"type": "number"},
        {"type": "string"},
        {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
         "properties": {"amount": {"type": ["number", "string"]}, "metric": {"type": "string"}, "term": {"type": "string"},
                        "formula": {"type": "string"}}},
    ],
}

AmountSource = Annotated[
    Source,
    BeforeValidator(_source_shorthand),
    AfterValidator(_check_one_source),
    WithJsonSchema(_SOURCE_SCHEMA),
]
"""A fixed amount, a metric, or another term's amount (validated to exactly one)."""


def _split_shorthand(value: Any) -> Any:
    """Accept "80/20" (customer/supplier, the customary order) as well as a mapping."""
    if isinstance(value, str) and "/" in value:
        left, _, right = value.partition("/")
        try:
            return {"customer": parse_rate(left.strip() + "%"), "supplier": parse_rate(right.strip() + "%")}
        except Exception:
            raise fail("share_split", f"{value!r} is not a customer/supplier ratio", "write e.g. 80/20") from None
    return value


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ShareSplit:
    """How a difference is shared: the customer's and the supplier's shares (adding up to 100%)."""

    customer: Share
    """The customer's share."""
    supplier: Share
    """The supplier's share."""

    def __str__(self) -> str:
        return f"{(self.customer * HUNDRED).normalize():f}/{(self.supplier * HUNDRED).normalize():f}"


SplitSpec = Annotated[
    ShareSplit,
    BeforeValidator(_split_shorthand),
    WithJsonSchema({
        "description": "customer/supplier shares: \"80/20\" or {customer: 80%, supplier: 20%}; they add up to 100%.",
        "anyOf": [{"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*/\s*\d+(\.\d+)?\s*$"},
                  {"type": "object", "required": ["customer", "supplier"],
                   "properties": {"customer": {}, "supplier": {}}, "additionalProperties": False}],
    }),
]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class RateTier:
    """A volume tier with its unit rate."""

    lower: Number | None = Field(default=None, alias="from", description="Lower bound of the tier (open if left out).")
    upper: Number | None = Field(default=None, alias="to", description="Upper bound of the tier (open if left out).")
    rate: Amount
    """Price per unit in this tier."""

    @property
    def bounds(self) -> Bounds:
        return (self.lower, self.upper)


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CreditTier:
    """A service-level tier: the measured level's range and the credit it triggers."""

    lower: Number | None = Field(default=None, alias="from", description="Lowest measured level of the tier (open if left out).")
    upper: Number | None = Field(default=None, alias="to", description="Highest measured level of the tier (open if left out).")
    credit: Rate | None = None
    """Credit as a share of the base (e.g. 5%)."""
    amount: Amount | None = None
    """Or a fixed credit amount."""

    def __post_init__(self) -> None:
        if (self.credit is None) == (self.amount is None):
            raise fail("tier", "give exactly one of credit (a share of the base) or amount (a fixed credit)",
                       "e.g. `credit: 5%` or `amount: 200`")

    @property
    def bounds(self) -> Bounds:
        return (self.lower, self.upper)

