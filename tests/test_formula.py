"""The formula language: parsing, units, exact values, explanations, and errors at line and column."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import PARTIES, agreement, diagnostics, price
from vested.core.formula import Binary, Call, FormulaError, If, Name, Num, parse_formula
from vested.core.formula_eval import Band, Formula, TableSpec, evaluate, lookup, units_of

D = Decimal


class Names:
    """A scope of fixed names, for the evaluator on its own."""

    boundaries = "lower_inclusive"

    def __init__(self, **values: tuple[str, str]):
        self.values = {name: (D(value), unit) for name, (value, unit) in values.items()}
        self.tables = {"size": TableSpec("percent", (Band(D(3000), D(5000), None, D("0.05"), D("0.039")),
                                                     Band(D(5000), None, D("0.02"), None, None)))}

    def unit(self, name: str) -> str | None:
        return self.values[name][1] if name in self.values else None

    def value(self, name: str) -> Decimal:
        return self.values[name][0]

    def table(self, name: str) -> TableSpec | None:
        return self.tables.get(name)

    def known(self) -> list[str]:
        return list(self.values)

    def known_tables(self) -> list[str]:
        return list(self.tables)


SCOPE = Names(orders=("4000", "number"), cost=("46000", "money"), quality=("0.8", "percent"),
              benchmark=("1000000", "money"), max_rate=("0.5", "percent"))


def value_of(text: str, scope: Names = SCOPE) -> tuple[object, str]:
    return evaluate(Formula(text, parse_formula(text)), scope)


# -- parsing -------------------------------------------------------------------------------------------


def test_precedence_and_contract_symbols() -> None:
    node = parse_formula("1 − 0.6 × quality")
    assert isinstance(node, Binary) and node.op == "-"
    assert isinstance(node.right, Binary) and node.right.op == "*"
    assert isinstance(node.left, Num) and node.left.value == 1
    percent = parse_formula("2.5%")
    assert isinstance(percent, Num) and percent.value == D("0.025") and percent.percent


def test_if_then_else_and_calls_and_backticked_names() -> None:
    node = parse_formula("if `fleet-fee` >= 10 then min(a, b, c) else clamp(x, 1, 2)")
    assert isinstance(node, If)
    assert isinstance(node.condition, Binary) and isinstance(node.condition.left, Name)
    assert node.condition.left.name == "fleet-fee"
    assert isinstance(node.then, Call) and len(node.then.args) == 3


@pytest.mark.parametrize(("text", "offset", "fragment"), [
    ("max_rate * (quality", 19, "expected ')'"),
    ("orders ** 2", 8, "unexpected '*'"),
    ("1,500,000 * rate", 1, "unexpected ','"),
    ("clamp(x, 1)", 0, "clamp takes 3 arguments"),
    ("maxx(a, b)", 0, "unknown function 'maxx'"),
    ("if a > b then 1", 15, "expected 'else'"),
    ("a < b < c", 6, "comparisons cannot be chained"),
    ("", 0, "the formula is empty"),
    ("a = 'x'", 4, "unexpected character"),
])
def test_syntax_errors_say_where(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert fragment in caught.value.message
    assert caught.value.offset == offset


def test_unknown_function_suggests_the_close_one() -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula("maxx(a, b)")
    assert caught.value.hint == "did you mean 'max'?"


# -- units -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "unit"), [
    ("cost / orders", "money"),          # cost per order
    ("cost / benchmark", "percent"),     # a share of one amount in another
    ("max_rate × quality", "percent"),
    ("orders × quality", "number"),
    ("1 − 0.6 × quality", "percent"),
    ("cost + 500", "money"),             # a bare number takes the unit of what it meets
    ("benchmark × 2%", "money"),
    ("orders > 10 and quality >= 70%", "bool"),
    ("lookup(size, orders)", "percent"),
])
def test_units_follow_the_arithmetic(text: str, unit: str) -> None:
    assert units_of(parse_formula(text), SCOPE) == unit


@pytest.mark.parametrize(("text", "offset", "fragment"), [
    ("cost + orders", 5, "mixes an amount of money with a plain number"),
    ("cost × benchmark", 5, "money times money"),
    ("benchmark + 2%", 10, "mixes an amount of money with a percentage"),
    ("if orders then 1 else 2", 3, "must be true or false"),
    ("cost > quality", 5, "mixes an amount of money with a percentage"),
    ("lookup(sizes, orders)", 7, "'sizes' is not a table"),
])
def test_units_that_cannot_be_meant_are_refused_at_the_operator(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as caught:
        units_of(parse_formula(text), SCOPE)
    assert fragment in caught.value.message
    assert caught.value.offset == offset


# -- values and explanations -------------------------------------------------------------------------------


def test_values_are_exact_decimals_with_the_numbers_put_in() -> None:
    assert value_of("max_rate × quality") == (D("0.40"), "max_rate × quality = 50% × 80% = 40%")
    result, how = value_of("cost / orders")
    assert result == D("11.5") and how == "cost / orders = 46,000 / 4,000 = 11.5"
    assert value_of("0.1 + 0.2")[0] == D("0.3")


def test_clamp_min_max_and_if() -> None:
    assert value_of("clamp(1 − 0.6 × quality, 40%, 60%)")[0] == D("0.52")  # 1 − 0.48
    low = Names(quality=("0.5", "percent"))
    assert value_of("clamp(1 − 0.6 × quality, 40%, 60%)", low)[0] == D("0.6")  # 0.7 held at 60%
    assert value_of("min(7.5% × cost, 4% × benchmark)")[0] == D("3450")  # 3,450 < 40,000
    assert value_of("if orders > 5000 then 1 else 2")[0] == 2


def test_linear_band_interpolates_inside_the_band() -> None:
    table = SCOPE.tables["size"]
    # 5.0% + (4,000 − 3,000) / (5,000 − 3,000) × (3.9% − 5.0%) = 4.45%
    assert lookup(table, D(4000), "lower_inclusive") == D("0.0445")
    assert lookup(table, D(3000), "lower_inclusive") == D("0.05")
    assert lookup(table, D(5000), "lower_inclusive") == D("0.02")  # the next band owns its boundary
    assert lookup(table, D(5000), "upper_inclusive") == D("0.039")
    with pytest.raises(FormulaError, match="no band"):
        lookup(table, D(2999), "lower_inclusive")


def test_division_by_zero_points_at_the_divisor() -> None:
    empty = Names(cost=("100", "money"), orders=("0", "number"))
    with pytest.raises(FormulaError) as caught:
        value_of("cost / orders", empty)
    assert caught.value.offset == 7 and "division by zero" in caught.value.message


# -- in an agreement: located at line and column -------------------------------------------------------------

HEAD = "vested: 1\nid: f\ntitle: Formulas\n" + PARTIES


def located(text: str) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.location.line, d.location.column, d.hint) for d in diagnostics(text, lint=False)
            if d.is_error and d.location is not None]


def test_an_unknown_name_is_located_inside_the_formula_with_a_suggestion() -> None:
    text = HEAD + """metrics:
  - {id: spend, unit: money}
  - {id: quality, unit: percent}
parameters:
  - {id: max_rate, value: 50%}
pricing:
  - id: savings
    type: gainshare
    baseline: 30000
    actual: spend
    sharing_rate: {formula: "max_rat × quality"}
"""
    # line 17: `    sharing_rate: {formula: "max_rat × quality"}`; the name starts after the quote, column 30
    assert located(text) == [("unknown-name", 17, 30, "did you mean 'max_rate'?")]


def test_a_syntax_error_in_a_folded_block_is_located_on_its_line() -> None:
    text = HEAD + """metrics:
  - id: cost
    unit: money
    formula: >
      base_cost +
      (extra_cost ×
"""
    [(code, line, column, _)] = located(text)
    assert (code, line) == ("formula", 12)
    assert column == len("      (extra_cost ×") + 1  # the end of the formula, where ')' is missing


def test_formulas_that_read_each_other_are_a_cycle_shown_with_the_cycle() -> None:
    text = HEAD + """parameters:
  - {id: a, value: "b × 2"}
  - {id: b, value: "c + 1"}
  - {id: c, value: "a - 1"}
pricing:
  - {id: fee, type: fixed_fee, amount: 1}
"""
    problems = [d for d in diagnostics(text, lint=False) if d.code == "formula-cycle"]
    assert len(problems) == 1
    assert "a → b → c → a" in problems[0].message
    assert problems[0].location is not None and (problems[0].location.line, problems[0].location.column) == (8, 21)


def test_a_parameter_cannot_read_a_term_amount_but_a_term_formula_can() -> None:
    text = HEAD + """parameters:
  - {id: share_of_fee, value: "fee × 10%"}
pricing:
  - {id: fee, type: fixed_fee, amount: 1000}
  - {id: bonus, type: per_unit, quantity: q, rate: 1}
"""
    assert any(code == "formula-term" for code, *_ in located(text))
    ok = HEAD + """metrics:
  - {id: spend, unit: money}
pricing:
  - {id: fee, type: fixed_fee, amount: 1000}
  - {id: share, type: gainshare, baseline: {formula: "fee × 3"}, actual: spend, sharing_rate: 50%}
"""
    priced = price(ok, "values: {spend: 2000}")
    assert priced.statement is not None
    assert priced.statement.lines[1].amount == D("500.00")  # 50% × (3 × 1,000 − 2,000)


def test_a_rate_formula_that_gives_money_is_refused_and_an_amount_that_gives_a_percentage() -> None:
    text = HEAD + """metrics:
  - {id: spend, unit: money}
pricing:
  - {id: s, type: gainshare, baseline: {formula: "50%"}, actual: spend, sharing_rate: {formula: "spend × 2"}}
"""
    codes = [(code, column) for code, _, column, _ in located(text)]
    assert ("formula-unit", 51) in codes  # baseline: a percentage where an amount is expected
    assert len([c for c, _ in codes if c == "formula-unit"]) == 2


def test_a_percent_table_value_without_percent_sign_above_one_is_refused() -> None:
    text = HEAD + """tables:
  - id: t
    bands: [{from: 0, value: 5}]
pricing:
  - {id: fee, type: fixed_fee, amount: 1}
"""
    assert [code for code, *_ in located(text)] == ["invalid-rate"]


def test_a_money_metric_computed_with_a_bare_number_asks_for_a_money_parameter() -> None:
    text = HEAD + """metrics:
  - {id: calls, unit: count}
  - {id: labour_cost, unit: money, formula: "calls × 48"}
pricing:
  - {id: labour, type: cost_plus, cost: labour_cost, fee_rate: 10%}
"""
    [(code, line, column, hint)] = located(text)
    assert (code, line, column) == ("formula-unit", 9, 46) and "unit: money" in hint


def test_a_derived_metric_is_computed_and_never_given_in_the_facts() -> None:
    text = HEAD + """metrics:
  - {id: calls, unit: count}
  - {id: labour_cost, unit: money, formula: "calls × 0.25 × hourly_rate"}
parameters:
  - {id: hourly_rate, value: 48, unit: money}
pricing:
  - {id: labour, type: cost_plus, cost: labour_cost, fee_rate: 10%}
"""
    priced = price(text, "values: {calls: 1000}")
    assert priced.statement is not None
    cost, fee = priced.statement.lines
    assert cost.amount == D("12000.00") and fee.amount == D("1200.00")  # 1,000 × 0.25 × 48; 10% of it
    assert "labour_cost = calls × 0.25 × hourly_rate = 1,000 × 0.25 × 48 = 12,000" in cost.calculation
    from vested.adapters.load import load_facts_text

    refused = load_facts_text(agreement(text), "values: {calls: 1000, labour_cost: 5}", "facts.yaml")
    assert [d.code for d in refused.diagnostics] == ["derived-metric"]


def test_a_negative_amount_at_risk_is_refused_where_it_is_written() -> None:
    text = HEAD + """metrics:
  - {id: spend, unit: money}
  - {id: quality, unit: percent}
outcomes:
  - {id: good, statement: Good, metric: quality, direction: higher, target: 90}
pricing:
  - {id: shared, type: gainshare, baseline: 100000, actual: spend, sharing_rate: 50%, losses: {sharing_rate: 50%}}
  - id: quality_at_risk
    type: outcome_incentive
    outcome: good
    kind: at_risk
    amount: {term: shared}
    curve: {zero_at: 50, full_at: 90}
"""
    priced = price(text, "values: {spend: 120000, quality: 60}")
    assert priced.statement is None
    [problem] = priced.diagnostics
    assert problem.code == "incentive-sign" and problem.path == ("pricing", 1, "amount")
    assert "-10,000" in problem.message  # the shared loss: 50% × 20,000 owed by the supplier
    fine = price(text, "values: {spend: 80000, quality: 60}")
    assert fine.statement is not None  # savings: 10,000 shared; 25% of it earned at 60


def test_the_vector_engine_refuses_a_negative_amount_at_risk_too() -> None:
    import numpy as np

    from vested.simulate import VectorEngine, VectorError

    text = HEAD + """metrics:
  - {id: spend, unit: money}
  - {id: quality, unit: percent}
outcomes:
  - {id: good, statement: Good, metric: quality, direction: higher, target: 90}
pricing:
  - {id: shared, type: gainshare, baseline: 100000, actual: spend, sharing_rate: 50%, losses: {sharing_rate: 50%}}
  - {id: at_risk, type: outcome_incentive, outcome: good, kind: at_risk, amount: {term: shared}, curve: {zero_at: 50, full_at: 90}}
"""
    engine = VectorEngine(agreement(text))
    with pytest.raises(VectorError, match="negative") as caught:
        engine.price({"spend": np.array([80000.0, 120000.0, 130000.0]), "quality": np.array([60.0, 60.0, 60.0])})
    assert caught.value.runs == 2
