"""The Vested lint: warnings for the known failure patterns ("ailments") of outsourcing deals.

Each rule is a small named function with the Vested rule it protects and a rationale a user can
read (``vested explain RULE``). Rules warn; they never make an agreement invalid. An
agreement may silence a rule with a reason (``lint: {silence: [{rule: ..., reason: ...}]}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from vested.core.diagnostics import Diagnostic, error, warning
from vested.core.facts import did_you_mean
from vested.core.model import Agreement
from vested.core.terms.fees import PerUnit, TieredVolume


@dataclass(frozen=True)
class LintRule:
    code: str
    title: str
    vested_rule: int
    rationale: str
    find: Callable[[Agreement], Iterator[Diagnostic]]


def find_activity_trap(agreement: Agreement) -> Iterator[Diagnostic]:
    outcome_metrics = {o.metric for o in agreement.outcomes}
    for i, term in enumerate(agreement.pricing):
        if term.lint_kind() != "activity":
            continue
        if isinstance(term, PerUnit | TieredVolume) and (term.linked_outcome or term.quantity in outcome_metrics):
            continue
        counted = f" per unit of {term.quantity!r}" if isinstance(term, PerUnit | TieredVolume) else ""
        yield warning("activity-trap", f"term {term.id!r} pays{counted} for activity with no link to an outcome: the supplier "
                      "earns more when the customer needs more of it",
                      "pay for an outcome instead (a fee per working store, a gainshare), or link the quantity to an "
                      "outcome with `linked_outcome:`", ("pricing", i))


def find_measurement_minutiae(agreement: Agreement) -> Iterator[Diagnostic]:
    top = [i for i, o in enumerate(agreement.outcomes) if o.parent is None]
    limit = agreement.lint.max_outcomes
    if len(top) > limit:
        yield warning("measurement-minutiae", f"{len(top)} top-level outcomes (more than {limit}): measuring everything "
                      "dilutes attention from what matters", "keep a handful of top-level outcomes and make the rest "
                      "supporting outcomes (`parent:`), or raise lint.max_outcomes", ("outcomes", top[limit]))


def find_driving_blind(agreement: Agreement) -> Iterator[Diagnostic]:
    for i, outcome in enumerate(agreement.outcomes):
        missing = []
        if outcome.baseline is None:
            missing.append("a baseline")
        if outcome.measurement is None or not outcome.measurement.data_source.strip():
            missing.append("a data source")
        if missing:
            yield warning("driving-blind", f"outcome {outcome.id!r} has no {' and no '.join(m[2:] for m in missing)}: "
                          "progress cannot be shown", "add `baseline: {value, period}` and `measurement: {data_owner, "
                          "data_source, calculation, frequency}`", ("outcomes", i))


def find_zero_sum_game(agreement: Agreement) -> Iterator[Diagnostic]:
    kinds = [t.lint_kind() for t in agreement.pricing]
    if "penalty" in kinds and "upside" not in kinds:
        first = kinds.index("penalty")
        yield warning("zero-sum-game", "the pricing model has penalties but no shared upside: the supplier can only lose "
                      "by taking part in improvements", "add a gainshare, an outcome bonus or another upside term",
                      ("pricing", first))


PRESCRIPTIVE = re.compile(
    r"\b(must use|shall use|using (?:the|a|an)\b|by means of|step[- ]by[- ]step|headcount|number of (?:staff|agents|engineers)|"
    r"shall staff|must staff|on[- ]site visit for every|follow the procedure|per the procedure)\b",
    re.IGNORECASE,
)


def find_outsourcing_paradox(agreement: Agreement) -> Iterator[Diagnostic]:
    for i, item in enumerate(agreement.workload):
        if item.how:
            yield warning("outsourcing-paradox", "this workload item prescribes how the work is done",
                          "state the result wanted in `what` and let the supplier choose the how", ("workload", i, "how"))
        elif match := PRESCRIPTIVE.search(item.what):
            yield warning("outsourcing-paradox", f"this workload item prescribes how ({match.group(0)!r})",
                          "state the result wanted and let the supplier choose the how", ("workload", i, "what"))


def find_no_exit_plan(agreement: Agreement) -> Iterator[Diagnostic]:
    plan = agreement.exit
    if plan is None or not (plan.notice.strip() or plan.transition.strip() or plan.triggers):
        yield warning("no-exit-plan", "the agreement has no exit plan", "add `exit: {notice, transition, triggers}`", ())


def find_no_governance_cadence(agreement: Agreement) -> Iterator[Diagnostic]:
    if agreement.governance is None or not agreement.governance.cadence:
        yield warning("no-governance-cadence", "the agreement has no governance cadence (no regular meetings)",
                      "add `governance: {cadence: [{name, frequency}]}`", ("governance",) if agreement.governance else ())


RULES: tuple[LintRule, ...] = (
    LintRule("activity-trap", "Activity Trap", 1,
             "Rule 1 (outcome-based, not transaction-based): paying per call, per visit or per hour rewards the "
             "supplier for the customer's pain. The more problems, the more revenue; an improvement that removes work "
             "removes the supplier's income, so it is never proposed. Pay for the outcome (working stores, a running car) "
             "or share the savings, so that both parties gain when the work goes away.", find_activity_trap),
    LintRule("measurement-minutiae", "Measurement Minutiae", 3,
             "Rule 3 (clearly defined and measurable outcomes): measuring everything is measuring nothing. A long list "
             "of top-level metrics spreads effort and governance time thin and invites micromanagement. Keep a handful "
             "of desired outcomes at the top; track the rest as supporting measures beneath them.",
             find_measurement_minutiae),
    LintRule("driving-blind", "Driving Blind", 3,
             "Rule 3: an outcome without a baseline cannot show improvement, and one without a data source cannot be "
             "measured at all. Both parties must know where the figure starts, who owns the data, where it comes from, "
             "how it is calculated and how often.", find_driving_blind),
    LintRule("zero-sum-game", "Zero-Sum Game", 4,
             "Rule 4 (a pricing model with incentives that optimise the business): penalties alone make every "
             "improvement the customer's gain and every miss the supplier's loss. Without shared upside (a gainshare, "
             "a bonus, an incentive fee) the supplier has no reason to invest in growing the pie.", find_zero_sum_game),
    LintRule("outsourcing-paradox", "Outsourcing Paradox", 2,
             "Rule 2 (focus on the WHAT, not the HOW): a customer hires an expert and then tells it how to work. "
             "Prescribing methods, staffing or procedures blocks the supplier's innovation and shifts the risk of the "
             "method back to the customer.", find_outsourcing_paradox),
    LintRule("no-exit-plan", "No exit plan", 5,
             "Rule 5 (insight, not oversight, governance): every relationship ends. Without an agreed exit (notice, "
             "transition of services, data and knowledge) the end becomes a dispute, and the fear of it distorts "
             "behaviour during the term.", find_no_exit_plan),
    LintRule("no-governance-cadence", "No governance cadence", 5,
             "Rule 5: insight needs a rhythm. Without regular meetings at the operational, tactical and strategic "
             "tiers, problems surface late and the agreement drifts from its shared vision.", find_no_governance_cadence),
)
"""Every lint rule, in the order they run."""

RULES_BY_CODE = {rule.code: rule for rule in RULES}


def lint_agreement(agreement: Agreement) -> list[Diagnostic]:
    """Warnings for every failure pattern found, except rules the agreement silences (with a reason)."""
    silenced = set()
    problems: list[Diagnostic] = []
    for i, silence in enumerate(agreement.lint.silence):
        if silence.rule not in RULES_BY_CODE:
            problems.append(error("unknown-rule", f"there is no lint rule {silence.rule!r}",
                                  did_you_mean(silence.rule, list(RULES_BY_CODE)), ("lint", "silence", i, "rule")))
        silenced.add(silence.rule)
    for rule in RULES:
        if rule.code not in silenced:
            problems.extend(rule.find(agreement))
    return problems
