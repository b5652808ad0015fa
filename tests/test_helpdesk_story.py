"""The help-desk story from the seed, as assertions on the example files.

    Under the task-based contract the supplier's best choice leaves the remote-support investment
    out; under the Vested agreement the supplier's best choice includes it, both parties end up
    better off than the status quo, and the customer's investment pays back in about six months.

Each claim is computed here, independently, from the YAML files: a small model of the scenario
(drivers, lever effects, costs) and of the three kinds of term the two agreements use (per unit,
fixed fee, gainshare, service credits), searched over every combination of levers. Then vested's
own answers (align, compare, economics) must agree with it.
"""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ws
from vested.adapters.load import load_agreement
from vested.services import deal

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
D = Decimal


def read(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def fraction(text: Any) -> Decimal:
    """'8%' -> 0.08, '-65%' -> -0.65; a number as it is."""
    return D(str(text).strip().rstrip("%")) / (100 if str(text).strip().endswith("%") else 1)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


class World:
    """The scenario file, read without vested: drivers per month for any set of levers, and costs."""

    def __init__(self, scenario: dict[str, Any]):
        self.months = scenario["periods"]["months"]
        start = str(scenario["periods"]["start"])
        self.rate = fraction(scenario["discount_rate"])
        self.base = {}
        for name, spec in scenario["drivers"].items():
            assert set(spec) <= {"value", "description", "uncertain"}, "the model here reads constant drivers only"
            self.base[name] = D(str(spec["value"]))
        self.levers = {lever["id"]: lever for lever in scenario["levers"]}
        self.start = {}
        for lever_id, lever in self.levers.items():
            starts = str(lever.get("starts", start))
            self.start[lever_id] = (int(starts[:4]) - int(start[:4])) * 12 + int(starts[5:]) - int(start[5:])
        self.customer_costs = scenario["customer"]["costs"]
        self.fixed_cost = D(str(scenario["supplier"]["fixed_cost"]))
        self.unit_costs = {k: D(str(v)) for k, v in scenario["supplier"]["unit_costs"].items()}

    def drivers(self, month: int, levers: tuple[str, ...]) -> dict[str, Decimal]:
        """Relative effects multiply, absolute ones add: base × Π(1 + relative) + Σ add."""
        values = {}
        for name, base in self.base.items():
            factor, shift = D(1), D(0)
            for lever_id in levers:
                effect = self.levers[lever_id]["effects"].get(name)
                if effect is None or self.start[lever_id] > month:
                    continue
                if isinstance(effect, dict):
                    shift += D(str(effect.get("add", 0)))
                    factor *= 1 + fraction(effect.get("relative", 0))
                else:
                    factor *= 1 + fraction(effect)
            values[name] = base * factor + shift
        return values

    def lever_costs(self, month: int, levers: tuple[str, ...], payer: str) -> Decimal:
        total = D(0)
        for lever_id in levers:
            lever, start = self.levers[lever_id], self.start[lever_id]
            if "running_cost" in lever and lever["running_cost"]["paid_by"] == payer and month >= start:
                total += D(str(lever["running_cost"]["amount"]))
            if "investment" in lever and lever["investment"]["paid_by"] == payer and month == start:
                total += D(str(lever["investment"]["amount"]))
        return total


def pays(agreement: dict[str, Any], d: dict[str, Decimal]) -> Decimal:
    """What the customer pays the supplier in a month: each term by its published formula."""
    total, fees = D(0), {}
    for term in agreement["pricing"]:
        kind = term["type"]
        if kind == "per_unit":
            amount = cents(D(str(term["rate"])) * d[term["quantity"]])
        elif kind == "fixed_fee":
            amount = fees[term["id"]] = cents(D(str(term["amount"])))
        elif kind == "gainshare":  # first-dollar sharing once savings clear the corridor, capped
            baseline = D(str(term["baseline"]))
            savings = baseline - d[term["actual"]]
            corridor = fraction(term.get("minimum_savings_rate", 0)) * baseline
            shared = fraction(term["sharing_rate"]) * savings if savings > 0 and savings >= corridor else D(0)
            amount = cents(min(shared, fraction(term["cap"]) * baseline))
        elif kind == "service_credits":  # a tier's credit % of the fee, lower bound inclusive, monthly cap
            base = fees[term["base"]["term"]]
            credit = D(0)
            for level in term["service_levels"]:
                value = d[level["metric"]]
                for tier in level["tiers"]:
                    if ("from" not in tier or value >= D(str(tier["from"]))) and ("to" not in tier or value < D(str(tier["to"]))):
                        credit += cents(fraction(tier["credit"]) * base)
                        break
            amount = -min(credit, cents(fraction(term["monthly_cap"]) * base))
        else:
            raise AssertionError(f"the model here does not know term type {kind}")
        total += amount
    return total


def flows(world: World, agreement: dict[str, Any], levers: tuple[str, ...]) -> tuple[list[Decimal], list[Decimal]]:
    """Each month's cash flow of the customer (minus everything it spends) and of the supplier (margin)."""
    customer, supplier = [], []
    for month in range(world.months):
        d = world.drivers(month, levers)
        paid = pays(agreement, d)
        own = sum((D(str(c.get("per_unit", 1))) * d[c["driver"]] for c in world.customer_costs), D(0))
        serve = world.fixed_cost + sum((rate * d[name] for name, rate in world.unit_costs.items()), D(0))
        customer.append(-(paid + own + world.lever_costs(month, levers, "customer")))
        supplier.append(paid - serve - world.lever_costs(month, levers, "supplier"))
    return customer, supplier


def npv(world: World, cash: list[Decimal]) -> Decimal:
    """Month k's flow discounted k months at the monthly equivalent of the annual rate."""
    return sum((flow / (1 + world.rate) ** (D(k) / 12) for k, flow in enumerate(cash, start=1)), D(0))


WORLD = World(read("scenario.yaml"))
TASK_BASED, VESTED = read("task-based.yaml"), read("vested.yaml")
COMBINATIONS = [tuple(c) for r in range(len(WORLD.levers) + 1) for c in itertools.combinations(WORLD.levers, r)]


def results(agreement: dict[str, Any]) -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    """(customer NPV, supplier NPV) of every combination of levers."""
    found = {}
    for levers in COMBINATIONS:
        customer, supplier = flows(WORLD, agreement, levers)
        found[levers] = (npv(WORLD, customer), npv(WORLD, supplier))
    return found


def suppliers_best(found: dict[tuple[str, ...], tuple[Decimal, Decimal]]) -> tuple[str, ...]:
    ranked = sorted(found, key=lambda levers: found[levers][1], reverse=True)
    assert found[ranked[0]][1] - found[ranked[1]][1] > 1, "the supplier's best choice should be clear"
    return ranked[0]


@pytest.fixture(scope="module")
def task_based() -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    return results(TASK_BASED)


@pytest.fixture(scope="module")
def vested() -> dict[tuple[str, ...], tuple[Decimal, Decimal]]:
    return results(VESTED)


def test_under_the_task_based_contract_the_supplier_leaves_remote_support_out(task_based: Any) -> None:
    best = suppliers_best(task_based)
    assert "remote_support" not in best
    report = deal.align(ws(), EXAMPLES / "task-based.yaml", EXAMPLES / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    assert set(report.value.supplier_best.levers) == set(best)
    assert abs(report.value.supplier_best.supplier_npv - task_based[best][1]) < D("0.01")
    # ... although remote support is part of what is best for both together: misaligned.
    joint = max(task_based, key=lambda levers: sum(task_based[levers]))
    assert "remote_support" in joint
    assert report.value.misaligned and set(report.value.joint_best.levers) == set(joint)


def test_under_the_vested_agreement_the_supplier_chooses_remote_support(vested: Any) -> None:
    best = suppliers_best(vested)
    assert "remote_support" in best
    report = deal.align(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    assert set(report.value.supplier_best.levers) == set(best)
    assert abs(report.value.supplier_best.supplier_npv - vested[best][1]) < D("0.01")
    assert abs(report.value.supplier_best.customer_npv - vested[best][0]) < D("0.01")
    assert not report.value.misaligned


def test_under_the_vested_agreement_both_beat_the_status_quo(task_based: Any, vested: Any) -> None:
    status_quo = task_based[()]  # the task-based contract as it runs today, no levers
    customer, supplier = vested[suppliers_best(vested)]
    assert customer > status_quo[0] and supplier > status_quo[1]
    report = deal.compare(ws(), EXAMPLES / "task-based.yaml", EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    assert report.value.status_quo_note == "task-based.yaml with no levers"
    task, vest = report.value.positions
    assert vest.verdict == "win-win"
    assert abs(vest.customer_change - (customer - status_quo[0])) < D("0.01")
    assert abs(vest.supplier_change - (supplier - status_quo[1])) < D("0.01")
    assert task.verdict == "lose-lose" and task.value_created == 0  # the supplier keeps things as they are


def test_the_customers_investment_pays_back_in_about_six_months(vested: Any) -> None:
    best = suppliers_best(vested)
    without = tuple(lever for lever in best if lever != "remote_support")
    with_it, _ = flows(WORLD, VESTED, best)
    before, _ = flows(WORLD, VESTED, without)
    lever = WORLD.levers["remote_support"]
    assert lever["investment"]["paid_by"] == "customer"
    investment, start = D(str(lever["investment"]["amount"])), WORLD.start["remote_support"]
    # the customer's incremental flows from the month it invests, the investment itself left out
    incremental = [a - b + (investment if month == start else 0)
                   for month, (a, b) in enumerate(zip(with_it, before, strict=True))][start:]
    position, months = -investment, None
    for month, flow in enumerate(incremental):
        if position + flow >= 0:
            months = month + (-position) / flow  # linear within the month
            break
        position += flow
    assert months is not None and 4 <= months <= 8
    report = deal.economics(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml")
    assert report.value.economics is not None, report.diagnostics
    (remote,) = [i for i in report.value.economics.investments if i.lever == "remote_support"]
    assert remote.payback_months is not None and abs(remote.payback_months - months) < D("1e-9")


def test_the_example_agreements_still_check_clean() -> None:
    vested = load_agreement(EXAMPLES / "vested.yaml")
    assert vested.ok and vested.diagnostics == ()
    task = load_agreement(EXAMPLES / "task-based.yaml")
    assert task.ok and {d.code for d in task.diagnostics} == {"activity-trap"}
