"""Charts of a report: altair specifications rendered to SVG (or PNG) by vl-convert, offline.

    trend_svg(rows, title=..., baseline=..., target=...)   # a metric per period against baseline and target
    payments_svg(rows, title=..., currency=...)            # amounts per period, stacked by statement line
    net_paid_svg(rows, title=..., currency=...)            # net paid per period, one line per contract

Each function takes plain rows (mappings) from a view-model and returns SVG text; the ``*_chart``
functions return the altair chart itself, for ``png()``. Nothing is fetched: vl-convert renders
locally, and the SVG holds no external reference, so a report can inline it. Money is drawn as
floats here only: a chart is a picture; the exact figures stay in the report's tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import altair as alt
import vl_convert

WIDTH, HEIGHT = 640, 240
GOOD, BAD, NEUTRAL, INK = "#1a7f37", "#cf222e", "#8c959f", "#24292f"
PALETTE = ["#0969da", "#bc4c00", "#8250df", "#1a7f37", "#cf222e", "#9a6700", "#1b7c83", "#6e7781"]

Row = Mapping[str, Any]


def trend_chart(rows: Sequence[Row], *, title: str, unit: str = "", baseline: Decimal | float | None = None,
                target: Decimal | float | None = None) -> alt.LayerChart:
    """Rows ``{period, value}`` (value may be None) as a line, with the baseline and target as dashed rules."""
    periods = [str(r["period"]) for r in rows]
    points = [{"period": p, "value": _float(r.get("value"))} for p, r in zip(periods, rows, strict=True)]
    x = alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45))
    label = f"value ({unit})" if unit else "value"
    line = alt.Chart(_data(points)).mark_line(point=True, color=PALETTE[0]).encode(
        x=x, y=alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("value:Q", format=",.4~f")])
    layers: list[alt.Chart] = [line]
    for name, level, color in (("baseline", baseline, NEUTRAL), ("target", target, GOOD)):
        if level is None:
            continue
        rule = alt.Chart(_data([{"period": p, "level": float(level)} for p in periods]))
        layers.append(rule.mark_line(strokeDash=[6, 4], color=color).encode(x=x, y="level:Q"))
        if periods:
            tag = [{"period": periods[-1], "level": float(level), "name": f"{name} {_short(level)}"}]
            layers.append(alt.Chart(_data(tag)).mark_text(align="left", dx=6, color=color, fontSize=11)
                          .encode(x=x, y="level:Q", text="name:N"))
    return alt.LayerChart(layer=layers).properties(title=title, width=WIDTH, height=HEIGHT)


def payments_chart(rows: Sequence[Row], *, title: str, currency: str) -> alt.Chart:
    """Rows ``{period, line, amount}`` as bars stacked by statement line (positive: customer pays supplier)."""
    lines = list(dict.fromkeys(str(r["line"]) for r in rows))
    values = [{"period": str(r["period"]), "line": str(r["line"]), "order": lines.index(str(r["line"])),
               "amount": _float(r["amount"]) or 0.0} for r in rows]
    periods = list(dict.fromkeys(str(r["period"]) for r in rows))
    chart: alt.Chart = alt.Chart(_data(values)).mark_bar().encode(
        x=alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("sum(amount):Q", title=f"paid ({currency})", stack="zero"),
        color=alt.Color("line:N", title="statement line", sort=lines,
                        scale=alt.Scale(domain=lines, range=_colors(len(lines))),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=360)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("line:N"), alt.Tooltip("amount:Q", format=",.2f")],
    ).properties(title=title, width=WIDTH, height=HEIGHT)
    return chart


def net_paid_chart(rows: Sequence[Row], *, title: str, currency: str) -> alt.Chart:
    """Rows ``{period, contract, amount}``: what the customer paid (net) under each contract, per period."""
    values = [{"period": str(r["period"]), "contract": str(r["contract"]), "amount": _float(r["amount"])} for r in rows]
    periods = sorted({str(r["period"]) for r in rows})
    contracts = list(dict.fromkeys(str(r["contract"]) for r in rows))
    chart: alt.Chart = alt.Chart(_data(values)).mark_line(point=True).encode(
        x=alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("amount:Q", title=f"net paid ({currency})"),
        color=alt.Color("contract:N", title=None, sort=contracts,
                        scale=alt.Scale(domain=contracts, range=_colors(len(contracts))),
                        legend=alt.Legend(orient="bottom", labelLimit=360)),
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("contract:N"), alt.Tooltip("amount:Q", format=",.2f")],
    ).properties(title=title, width=WIDTH, height=HEIGHT)
    return chart


def trend_svg(rows: Sequence[Row], *, title: str, unit: str = "", baseline: Decimal | float | None = None,
              target: Decimal | float | None = None, id_prefix: str = "t") -> str:
    return svg(trend_chart(rows, title=title, unit=unit, baseline=baseline, target=target), id_prefix)


def payments_svg(rows: Sequence[Row], *, title: str, currency: str, id_prefix: str = "p") -> str:
    return svg(payments_chart(rows, title=title, currency=currency), id_prefix)


def net_paid_svg(rows: Sequence[Row], *, title: str, currency: str, id_prefix: str = "n") -> str:
    return svg(net_paid_chart(rows, title=title, currency=currency), id_prefix)


def svg(chart: alt.TopLevelMixin, id_prefix: str = "c") -> str:
    """The chart as SVG text, its element ids prefixed so that several charts can share one page."""
    text: str = vl_convert.vegalite_to_svg(chart.to_dict())
    return _prefix_ids(text, id_prefix)


def png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """The chart as a PNG image (``scale`` 2 for sharp print)."""
    data: bytes = vl_convert.vegalite_to_png(chart.to_dict(), scale=scale)
    return data


def _prefix_ids(text: str, prefix: str) -> str:
    """Rename ``id="x"`` to ``id="<prefix>-x"`` and every reference to it (``url(#x)``, ``href="#x"``)."""
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    if not ids:
        return text
    pattern = re.compile(r'(\bid="|url\(#|href="#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=["\)])')
    return pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)


def _data(values: list[dict[str, Any]]) -> Any:
    """Inline data: the rows travel inside the specification (nothing is fetched)."""
    return alt.InlineData(values=values)


def _colors(count: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(max(1, count))]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _short(value: Decimal | float) -> str:
    """A baseline or target as written (97.8, 4.2, 120000), without float noise."""
    number = Decimal(str(value)).normalize()
    return f"{number:,f}"
