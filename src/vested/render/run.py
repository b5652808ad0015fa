"""Renderings of running an agreement: metric values per month, scorecards, settlement summaries."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.table import Table

from vested.core.model import Agreement
from vested.core.money import CENT, show, show_money
from vested.core.scorecard import Scorecard
from vested.render.fit import Fitted, fitted, money_column, text_column
from vested.render.serialize import to_jsonable

STATUS_STYLE = {"met": "green", "improving": "yellow", "not met": "red", "worsening": "bold red", "no data": "dim"}


def metric_table(agreement: Agreement, rows: Mapping[str, Mapping[str, Decimal]]) -> Fitted:
    months = list(rows)
    table = Table(title=f"{agreement.title} — metrics")
    text_column(table, "metric")
    text_column(table, "unit")
    for month in months:
        money_column(table, month)
    for metric in agreement.metrics:
        if metric.measure is None and metric.reported_by is None:
            continue
        cells = [reading(rows[m][metric.id]) if metric.id in rows[m] else "—" for m in months]
        table.add_row(metric.id, metric.unit, *cells)
    return fitted(table, keys=2)


def metric_json(rows: Mapping[str, Mapping[str, Decimal]]) -> dict[str, Any]:
    return {"months": {month: to_jsonable(values) for month, values in rows.items()}}


def reading(value: Decimal) -> str:
    """A measured value as people read it on a scorecard: at most two decimals, "≈" when cut.

    A cut value keeps its two decimals (99.998 reads "≈100.00", never "100", which would claim a
    perfect month); the exact value is in the JSON.
    """
    return show_money(value, CENT, trim=True)


def scorecard_table(agreement: Agreement, card: Scorecard) -> Fitted:
    table = Table(title=f"{agreement.title} — scorecard {card.period}",
                  caption=("overall score " + (f"{show(card.overall.quantize(Decimal('0.1')))} / 100"
                                               if card.overall is not None else "— (a weighted outcome has no value)")))
    for name in ("outcome", "value", "baseline", "target", "attainment", "status", "weight"):
        (text_column if name in ("outcome", "status") else money_column)(table, name)
    for row in card.rows:
        name = ("  └ " if row.parent else "") + row.outcome_id
        table.add_row(
            name,
            reading(row.value) if row.value is not None else "—",
            show(row.baseline) if row.baseline is not None else "—",
            show(row.target),
            f"{show(row.attainment.quantize(Decimal('0.1')))}%" if row.attainment is not None else "—",
            f"[{STATUS_STYLE[row.status]}]{row.status}[/]",
            f"{show(row.weight * 100)}%" if row.weight else "",
        )
    return fitted(table)


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(card)
    return data
