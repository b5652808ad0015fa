"""Percentiles by rank: exact, in memory bounded by the distinct values rather than by the rows.

``QUANTILE_CONT`` (DuckDB) keeps every value of a month in memory, and DuckDB cannot spill that
state to disk: 100 million durations need about 1 GB. A percentile by rank needs only one row per
distinct value, in steps every engine can spill:

1. count each distinct value per month (``GROUP BY month, value``);
2. for a window wider than a month, add up the counts of the months of each window (a join of that
   much smaller table to the windows, not of the rows);
3. a running count per month in value order (``SUM(times) OVER (PARTITION BY month ORDER BY v)``),
   and the month's total ``n``;
4. per month: ``n`` and the values at the 0-based ranks ⌊q (n − 1)⌋ and ⌈q (n − 1)⌉ — the value at
   rank k is the smallest whose running count exceeds k.

:mod:`vested.measure.combine` interpolates between the two values in ``Decimal`` as
``quantile_cont`` / ``percentile_cont`` do (linear interpolation between the closest ranks), so both
methods give the same numbers. The ranks are compared in integers, with q = a / b:
``upto > ⌊q (n − 1)⌋`` is ``upto · b > a (n − 1)`` and ``upto > ⌈q (n − 1)⌉`` is
``(upto − 1) · b ≥ a (n − 1)`` for a whole ``upto``, so no engine rounds a decimal on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlglot import exp

from vested.measure.fragments import all_of, local
from vested.measure.plan import Query


def fraction_of(percentile: Decimal | int | float | str) -> Decimal:
    """The fraction q of a percentile (90 -> 0.9), exact: a percentile is a decimal number."""
    return Decimal(str(percentile)) / 100


@dataclass
class Ranking:
    """One histogram of a value over the rows a measure keeps, and the fractions asked of it."""

    value: exp.Expr
    keep: exp.Expr | None
    window: str | int
    """The measure's window: ``period`` (each month alone), ``quarter``, ``year`` or N months."""
    fractions: list[Decimal] = field(default_factory=list)

    def ask(self, fraction: Decimal) -> dict[str, str]:
        """The output columns of the query that carry ``fraction``'s ranks (``n``, ``low``, ``high``)."""
        if fraction not in self.fractions:
            self.fractions.append(fraction)
        index = self.fractions.index(fraction)
        return {"n": "n", "low": f"low{index}", "high": f"high{index}"}


def ranks_query(name: str, dataset: str, rows: exp.Subquery, ranking: Ranking, *,
                windows: exp.Expr | None, label: Callable[[exp.Expr], exp.Expr]) -> Query:
    """Per month measured: n and the values at the two ranks of each fraction (see the module doc).

    ``rows`` is the dataset's rows in the span with their ``__month`` (aliased ``r``); ``windows``
    a ``VALUES ... AS w(month, target)`` table joining each month to the months measured whose
    window holds it (None: each month is its own window); ``label`` turns a month of ``rows`` into
    its ``YYYY-MM`` label (the windows' targets are labels already).
    """
    value = ranking.value
    not_null = exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))
    kept = (exp.select(exp.alias_(local("__month", "r"), "month"), exp.alias_(value.copy(), "v"))
            .from_(rows).where(all_of(ranking.keep.copy() if ranking.keep is not None else None, not_null)))
    month, v = local("month", "k"), local("v", "k")
    counted = (exp.select(exp.alias_(month, "month"), exp.alias_(v, "v"), exp.alias_(exp.Count(this=exp.Star()), "times"))
               .from_(kept.subquery("k")).group_by(month.copy(), v.copy()))
    if windows is not None:
        target, cv = local("target", "w"), local("v", "c")
        counted = (exp.select(exp.alias_(target, "month"), exp.alias_(cv, "v"), exp.alias_(exp.Sum(this=local("times", "c")), "times"))
                   .from_(counted.subquery("c")).join(windows, on=exp.EQ(this=local("month", "c"), expression=local("month", "w")))
                   .group_by(target.copy(), cv.copy()))
    partition = [local("month", "h")]
    upto = exp.Window(this=exp.Sum(this=local("times", "h")), partition_by=partition,
                      order=exp.Order(expressions=[exp.Ordered(this=local("v", "h"))]))
    total = exp.Window(this=exp.Sum(this=local("times", "h")), partition_by=[p.copy() for p in partition])
    running = (exp.select(local("month", "h"), local("v", "h"), exp.alias_(_whole(upto), "upto"), exp.alias_(_whole(total), "n"))
               .from_(counted.subquery("h")))
    picks: list[exp.Expr] = []
    columns = ["month", "n"]
    for index, fraction in enumerate(ranking.fractions):
        a, b = fraction.as_integer_ratio()
        before = exp.Mul(this=exp.Literal.number(a), expression=exp.paren(exp.Sub(this=local("n", "u"), expression=exp.Literal.number(1))))
        low = exp.GT(this=exp.Mul(this=local("upto", "u"), expression=exp.Literal.number(b)), expression=before)
        high = exp.GTE(this=exp.Mul(this=exp.paren(exp.Sub(this=local("upto", "u"), expression=exp.Literal.number(1))),
                                    expression=exp.Literal.number(b)), expression=before.copy())
        picks += [_first_value(low, f"low{index}"), _first_value(high, f"high{index}")]
        columns += [f"low{index}", f"high{index}"]
    out_month = local("month", "u") if windows is not None else label(local("month", "u"))
    select = (exp.select(exp.alias_(out_month, "month"), exp.alias_(exp.Max(this=local("n", "u")), "n"), *picks)
              .from_(running.subquery("u")).group_by(local("month", "u")))
    return Query(name, dataset, "ranks", select, tuple(columns))


def _whole(count: exp.Expr) -> exp.Expr:
    """A running count as BIGINT (DuckDB sums BIGINT counts to HUGEINT, PostgreSQL to NUMERIC)."""
    return exp.cast(count, exp.DataType.build("BIGINT"))


def _first_value(condition: exp.Expr, alias: str) -> exp.Expr:
    """The smallest value whose running count satisfies ``condition``."""
    return exp.alias_(exp.Filter(this=exp.Min(this=local("v", "u")), expression=exp.Where(this=condition)), alias)


def windows_table(pairs: Sequence[tuple[exp.Expr, str]]) -> exp.Expr:
    """``VALUES (month, target), ... AS w(month, target)``: each month with a month measured whose window holds it."""
    return exp.values([(month, exp.Literal.string(target)) for month, target in pairs], alias="w", columns=["month", "target"])
