"""The canonical encoding is strict: every value it accepts has one byte form, and anything else is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest

from vested.core.canonical import CanonicalError, canonical_data, canonical_hash, canonical_text


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Line:
    amount: Decimal
    DERIVED = ("doubled",)

    @property
    def doubled(self) -> Decimal:
        return self.amount * 2


def test_money_is_positional_text_and_keeps_its_places() -> None:
    assert canonical_data(Decimal("1.50")) == "1.50"
    assert canonical_data(Decimal("1E+3")) == "1000"
    assert canonical_data(Decimal("-0.000001")) == "-0.000001"


def test_records_dates_enums_and_sets() -> None:
    assert canonical_data(Line(Decimal("2.5"))) == {"amount": "2.5", "doubled": "5.0"}
    assert canonical_data(date(2025, 6, 1)) == "2025-06-01"
    assert canonical_data(datetime(2025, 6, 1, 12, tzinfo=UTC)) == "2025-06-01T12:00:00+00:00"
    assert canonical_data(Colour.RED) == "red"
    assert canonical_data({"b", "a"}) == ["a", "b"] == canonical_data(frozenset({"a", "b"}))


def test_text_is_sorted_indented_and_ends_with_a_newline() -> None:
    assert canonical_text({"b": 1, "a": [True, None], "é": "ü"}) == '{\n  "a": [\n    true,\n    null\n  ],\n  "b": 1,\n  "é": "ü"\n}\n'


def test_hash_is_sha256_of_the_utf8_text() -> None:
    value = {"amount": Decimal("12.30"), "who": "Zoë"}
    assert canonical_hash(value) == hashlib.sha256(canonical_text(value).encode("utf-8")).hexdigest()
    assert canonical_hash(value) != canonical_hash({"amount": Decimal("12.3"), "who": "Zoë"})


@pytest.mark.parametrize("value", [1.5, Path("x"), object(), Decimal("NaN"), Decimal("Infinity"), {(1, 2): 3}, b"bytes"])
def test_an_unknown_type_is_an_error_not_str(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_data({"deep": [value]})


def test_the_error_says_where() -> None:
    with pytest.raises(CanonicalError, match=r"\$\.lines\[1\]\.x"):
        canonical_data({"lines": [{"x": 1}, {"x": 2.0}]})
