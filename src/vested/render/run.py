"""Renderings of running an agreement: metric values per month, scorecards, settlement summaries."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.table import Table

from vested.core.model import Agreement
from vested.core.money import CENT, show, show_money
from vested.core.scorecard import Scorecard
from vested.render.serialize import to_jsonable

STATUS_STYLE = {"met": "green", "improving": "yellow", "not met": "red", "worsening": "bold red", "no data": "dim"}


def metric_table(agreement: Agreement, rows: Mapping[str, Mapping[str, Decimal]]) -> Table:
    months = list(rows)
    table = Table(title=f"{agreement.title} — metrics")
    table.add_column("metric")
    table.add_column("unit")
    for month in months:
        table.add_column(month, justify="right")
    for metric in agreement.metrics:
        if metric.measure is None and metric.reported_by is None:
            continue
        cells = [reading(rows[m][metric.id]) if metric.id in rows[m] else "—" for m in months]
        table.add_row(metric.id, metric.unit, *cells)
    return table


def metric_json(rows: Mapping[str, Mapping[str, Decimal]]) -> dict[str, Any]:
    return {"months": {month: to_jsonable(values) for month, values in rows.items()}}


def metric_csv(agreement: Agreement, rows: Mapping[str, Mapping[str, Decimal]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "period", "value"])
    for metric in agreement.metrics:
        for month, values in rows.items():
            if metric.id in values:
                writer.writerow([metric.id, month, format(values[metric.id], "f")])
    return out.getvalue()


def reading(value: Decimal) -> str:
    """A measured value as people read it on a scorecard: at most two decimals, "≈" when cut.

    A cut value keeps its two decimals (99.998 reads "≈100.00", never "100", which would claim a
    perfect month); the exact value is in the JSON.
    """
    return show_money(value, CENT, trim=True)


def scorecard_table(agreement: Agreement, card: Scorecard) -> Table:
    table = Table(title=f"{agreement.title} — scorecard {card.period}",
                  caption=("overall score " + (f"{show(card.overall.quantize(Decimal('0.1')))} / 100"
                                               if card.overall is not None else "— (a weighted outcome has no value)")))
    for name, justify in (("outcome", "left"), ("value", "right"), ("baseline", "right"), ("target", "right"),
                          ("attainment", "right"), ("status", "left"), ("weight", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
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
    return table


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(card)
    return data
