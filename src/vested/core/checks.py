"""What an agreement must mean, beyond its shape: a registry of small named validations.

Each ``validate_<rule>(agreement)`` yields diagnostics; ``VALIDATIONS`` runs them in order.
The format's types have already guaranteed the structure; these rules check references,
arithmetic that must add up, tier tables, and the relations between a term's parameters.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from vested.core.bands import Bounds, band_problems
from vested.core.checks_data import validate_datasets, validate_measures
from vested.core.checks_formula import FORMULA_VALIDATIONS
from vested.core.derived import formulas_in, reference_offset
from vested.core.diagnostics import Diagnostic, Path, error, warning
from vested.core.facts import MAX_DIGITS, did_you_mean
from vested.core.formula import names_in
from vested.core.model import Agreement
from vested.core.money import ONE, ZERO, percent, show
from vested.core.periods import LAST_YEAR, add_months, is_month, month_index
from vested.core.pricing import term_order
from vested.core.terms.common import ShareSplit
from vested.core.terms.credits import ServiceCreditPool, ServiceCredits
from vested.core.terms.delivery import LateDeliveryPenalty
from vested.core.terms.fees import TieredVolume
from vested.core.terms.incentive import AwardFee, CostPlusIncentiveFee, FixedPriceIncentive
from vested.core.terms.outcomes import MarginMatching
from vested.core.terms.sharing import TargetCost
from vested.core.values import Duration

Validation = Callable[[Agreement], Iterator[Diagnostic]]


def term_path(agreement: Agreement, index: int, *rest: str | int) -> Path:
    return ("pricing", index, *rest)


def _numbers(value: Any, path: Path) -> Iterator[tuple[Path, Decimal | int]]:
    """Every number in a record, with its path as written in the file (aliases such as `from`)."""
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        yield path, value
    elif isinstance(value, Duration):
        yield path, value.amount
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _numbers(item, (*path, i))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        declared = getattr(type(value), "__pydantic_fields__", {})
        for f in dataclasses.fields(value):
            info = declared.get(f.name)
            yield from _numbers(getattr(value, f.name), (*path, (info.alias if info and info.alias else f.name)))


def validate_magnitudes(agreement: Agreement) -> Iterator[Diagnostic]:
    """No number is absurdly large: a typo of extra zeros, or a figure no arithmetic can price to the cent."""
    for path, number in _numbers(agreement, ()):
        if abs(number) >= 10**MAX_DIGITS:
            yield error("too-large", f"{number:f} is too large for an agreement (more than {MAX_DIGITS} digits "
                        "before the decimal point)", "check for extra zeros", path)


def validate_parties(agreement: Agreement) -> Iterator[Diagnostic]:
    """An agreement is between a customer and a supplier."""
    roles = Counter(p.role for p in agreement.parties)
    for role in ("customer", "supplier"):
        if roles[role] == 0:
            yield error("parties", f"there is no {role} among the parties", f"add a party with `role: {role}`", ("parties",))


def validate_unique_ids(agreement: Agreement) -> Iterator[Diagnostic]:
    """Ids are unique within parties, metrics, outcomes and pricing terms."""
    for section, items in (("parties", agreement.parties), ("metrics", agreement.metrics),
                           ("outcomes", agreement.outcomes), ("pricing", agreement.pricing)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                yield error("duplicate-id", f"{section} id {item.id!r} is used twice (also at item {seen[item.id] + 1})",
                            "give each one its own id", (section, i, "id"))
            seen.setdefault(item.id, i)


def _missing(kind: str, name: str, known: Sequence[str], path: Path) -> Diagnostic:
    return error(f"unknown-{kind}", f"{kind} {name!r} is not defined", did_you_mean(name, list(known)) or f"define it under {kind}s", path)


def validate_references(agreement: Agreement) -> Iterator[Diagnostic]:
    """Every party, metric, outcome and term referred to by id is defined, and of the right kind."""
    parties = [p.id for p in agreement.parties]
    metrics = {m.id: m for m in agreement.metrics}
    outcomes = [o.id for o in agreement.outcomes]
    terms = [t.id for t in agreement.pricing]

    def party(name: str | None, path: Path) -> Iterator[Diagnostic]:
        if name is not None and name not in parties:
            yield _missing("party", name, parties, path)

    for i, item in enumerate(agreement.workload):
        yield from party(item.owner, ("workload", i, "owner"))
    for i, metric in enumerate(agreement.metrics):
        yield from party(metric.owner, ("metrics", i, "owner"))
    for i, outcome in enumerate(agreement.outcomes):
        if outcome.metric not in metrics:
            yield _missing("metric", outcome.metric, list(metrics), ("outcomes", i, "metric"))
        elif metrics[outcome.metric].kind != "number":
            yield error("metric-kind", f"outcome {outcome.id!r} is measured by {outcome.metric!r}, which is not a number",
                        "an outcome's metric must be a number", ("outcomes", i, "metric"))
        if outcome.parent == outcome.id:
            yield error("unknown-outcome", f"outcome {outcome.id!r} is its own parent",
                        "a supporting outcome's parent is another, top-level outcome", ("outcomes", i, "parent"))
        elif outcome.parent is not None and outcome.parent not in outcomes:
            yield _missing("outcome", outcome.parent, [o for o in outcomes if o != outcome.id], ("outcomes", i, "parent"))
        if outcome.measurement is not None:
            yield from party(outcome.measurement.data_owner, ("outcomes", i, "measurement", "data_owner"))
    if agreement.governance:
        for i, forum in enumerate(agreement.governance.cadence):
            for j, member in enumerate(forum.members):
                yield from party(member, ("governance", "cadence", i, "members", j))
        for i, right in enumerate(agreement.governance.decision_rights):
            for j, owner in enumerate(right.owners):
                yield from party(owner, ("governance", "decision_rights", i, "owners", j))
    for i, conversion in enumerate(agreement.policy.conversions):
        if isinstance(conversion.rate, str) and conversion.rate not in metrics:
            yield _missing("metric", conversion.rate, list(metrics), ("policy", "conversions", i, "rate"))
    for i, term in enumerate(agreement.pricing):
        yield from party(term.payer, term_path(agreement, i, "payer"))
        yield from party(term.payee, term_path(agreement, i, "payee"))
        if term.payer is not None and term.payer == term.payee:
            yield error("parties", f"term {term.id!r} has the same payer and payee ({term.payer!r})",
                        "a payment flows between two parties: correct the payer or the payee",
                        term_path(agreement, i, "payee"))
        for ref in term.references():
            path = term_path(agreement, i, *ref.path)
            if ref.kind == "metric":
                if ref.id not in metrics:
                    yield _missing("metric", ref.id, list(metrics), path)
                elif ref.expect != "any" and metrics[ref.id].kind != ref.expect:
                    yield error("metric-kind", f"{ref.id!r} is a {metrics[ref.id].kind} metric; this needs a {ref.expect}",
                                f"declare a {ref.expect} metric (kind: {ref.expect})", path)
            elif ref.kind == "outcome" and ref.id not in outcomes:
                yield _missing("outcome", ref.id, outcomes, path)
            elif ref.kind == "term" and ref.id == term.id:
                yield error("unknown-term", f"term {term.id!r} refers to its own amount",
                            "refer to another term, a metric or a fixed amount", path)
            elif ref.kind == "term" and ref.id not in terms:
                yield _missing("term", ref.id, [t for t in terms if t != term.id], path)


def validate_term_cycles(agreement: Agreement) -> Iterator[Diagnostic]:
    """Terms that read each other's amounts must not go round in a circle."""
    _, cycles = term_order(agreement.pricing)
    index = {t.id: i for i, t in enumerate(agreement.pricing)}
    for cycle in cycles:
        first, second = cycle[0], cycle[1]
        term = agreement.pricing[index[first]]
        where = next((ref.path for ref in term.references() if ref.kind == "term" and ref.id == second), None)
        offset = None
        if where is None:  # the amount is read in one of the term's formulas
            where, offset = next(((path, reference_offset(f.node, second)) for f, path in formulas_in(term)
                                  if second in (n.name for n in names_in(f.node))), ((), None))
        yield error("cycle", f"terms read each other's amounts in a cycle: {' → '.join(cycle)}",
                    "one of them must use a fixed amount or a metric instead", term_path(agreement, index[first], *where),
                    offset=offset)


def validate_outcome_weights(agreement: Agreement) -> Iterator[Diagnostic]:
    """Weights of the top-level outcomes, and of the outcomes under each parent, add up to 100%."""
    groups: dict[str | None, list[int]] = {}
    for i, outcome in enumerate(agreement.outcomes):
        groups.setdefault(outcome.parent, []).append(i)
    for parent, members in groups.items():
        weights = [agreement.outcomes[i].weight for i in members]
        if not any(weights):
            continue
        total = sum(weights, ZERO)
        if total != ONE:
            scope = "top-level outcomes" if parent is None else f"outcomes under {parent!r}"
            yield error("weights", f"the weights of the {scope} add up to {percent(total)}, not 100%",
                        "adjust the weights so they add up to 100%", ("outcomes", members[0], "weight"))


def validate_targets(agreement: Agreement) -> Iterator[Diagnostic]:
    """A target that is no better than its baseline is probably a typo in the direction."""
    for i, outcome in enumerate(agreement.outcomes):
        if outcome.baseline is None:
            continue
        better = outcome.target > outcome.baseline.value if outcome.direction == "higher" else outcome.target < outcome.baseline.value
        if not better and outcome.target != outcome.baseline.value:
            yield warning("target-direction", f"outcome {outcome.id!r} aims at {show(outcome.target)}, worse than its baseline "
                          f"{show(outcome.baseline.value)} for `direction: {outcome.direction}`",
                          "check the direction or the target", ("outcomes", i, "target"))


def validate_metric_ranges(agreement: Agreement) -> Iterator[Diagnostic]:
    """A metric's minimum is not above its maximum."""
    for i, metric in enumerate(agreement.metrics):
        if metric.minimum is not None and metric.maximum is not None and metric.minimum > metric.maximum:
            yield error("range", f"metric {metric.id!r} has minimum {metric.minimum} above maximum {metric.maximum}",
                        "swap them", ("metrics", i, "minimum"))


def validate_currencies(agreement: Agreement) -> Iterator[Diagnostic]:
    """A term in another currency needs a declared conversion; mixed currencies never add up silently."""
    convertible = {c.from_currency for c in agreement.policy.conversions}
    for i, term in enumerate(agreement.pricing):
        if term.currency and term.currency != agreement.policy.currency and term.currency not in convertible:
            yield error("currency", f"term {term.id!r} is in {term.currency} but the agreement is in {agreement.policy.currency} "
                        "and there is no conversion", f"add `policy.conversions: [{{from: {term.currency}, rate: ...}}]`",
                        term_path(agreement, i, "currency"))


def validate_default_parties(agreement: Agreement) -> Iterator[Diagnostic]:
    """A term without payer or payee needs exactly one party with the default role."""
    for i, term in enumerate(agreement.pricing):
        payer_role, payee_role = term.default_direction()
        for field_name, role, given in (("payer", payer_role, term.payer), ("payee", payee_role, term.payee)):
            if given is None and sum(p.role == role for p in agreement.parties) > 1:
                yield error("parties", f"term {term.id!r} has no {field_name} and there is more than one {role}",
                            f"write `{field_name}:` on the term", term_path(agreement, i))


def _bands(problems_of: Sequence[Bounds], path: Path, what: str, *, allow_gaps: bool) -> Iterator[Diagnostic]:
    for problem in band_problems(problems_of, allow_gaps=allow_gaps):
        yield error(f"tier-{problem.kind}", f"{what}: {problem.message}",
                    "make each tier start where the previous one ends" if problem.kind != "empty" else "check from and to",
                    (*path, max(problem.first, problem.second)))  # the later band, listed after the one it contradicts


def _split(split: ShareSplit, path: Path, name: str) -> Iterator[Diagnostic]:
    if split.customer + split.supplier != ONE:
        yield error("shares", f"{name}: customer {percent(split.customer)} and supplier {percent(split.supplier)} "
                    f"add up to {percent(split.customer + split.supplier)}, not 100%",
                    "shares of one difference add up to 100%", path)


def validate_tier_tables(agreement: Agreement) -> Iterator[Diagnostic]:
    """Tier tables neither overlap nor (where every value must be priced) leave gaps."""
    for i, term in enumerate(agreement.pricing):
        if isinstance(term, TieredVolume):
            yield from _bands([t.bounds for t in term.tiers], term_path(agreement, i, "tiers"), f"tiers of {term.id!r}",
                              allow_gaps=False)
        elif isinstance(term, ServiceCredits):
            for j, level in enumerate(term.service_levels):
                yield from _bands([t.bounds for t in level.tiers], term_path(agreement, i, "service_levels", j, "tiers"),
                                  f"credit tiers of {term.id!r}", allow_gaps=True)
        elif isinstance(term, AwardFee):
            yield from _bands([b.bounds for b in term.bands], term_path(agreement, i, "bands"), f"rating bands of {term.id!r}",
                              allow_gaps=False)
        elif isinstance(term, TargetCost):
            yield from _bands([(r.lower, r.upper) for r in term.ranges], term_path(agreement, i, "ranges"),
                              f"share ranges of {term.id!r}", allow_gaps=False)


def validate_incentive_terms(agreement: Agreement) -> Iterator[Diagnostic]:
    """FPIF and CPIF parameters that contradict each other."""
    for i, term in enumerate(agreement.pricing):
        if isinstance(term, FixedPriceIncentive):
            yield from _split(term.underrun_share, term_path(agreement, i, "underrun_share"), "underrun share")
            yield from _split(term.overrun_share, term_path(agreement, i, "overrun_share"), "overrun share")
            if term.ceiling_price < term.target_price:
                yield error("ceiling", f"ceiling price {show(term.ceiling_price)} is below the target price "
                            f"{show(term.target_price)} (target cost + target profit)",
                            "raise the ceiling to at least the target price", term_path(agreement, i, "ceiling_price"))
            if term.overrun_share.customer == 0:
                # Valid (the supplier simply bears every overrun), so a warning: the PTA has no value to report.
                yield warning("pta-undefined", "the point of total assumption is undefined: the customer's share of an "
                              "overrun is 0%, so the supplier bears every overrun from the first unit and the ceiling "
                              "binds only above the target price",
                              "nothing to fix if that is the deal; otherwise give the customer a share of overruns (e.g. 70/30)",
                            term_path(agreement, i, "overrun_share"))
        elif isinstance(term, CostPlusIncentiveFee):
            yield from _split(term.underrun_share, term_path(agreement, i, "underrun_share"), "underrun share")
            yield from _split(term.overrun_share, term_path(agreement, i, "overrun_share"), "overrun share")
            low, high = term.minimum_fee, term.maximum_fee
            if low is not None and high is not None and low > high:
                yield error("fee-range", f"minimum fee {show(low)} is above maximum fee {show(high)}",
                            "swap them", term_path(agreement, i, "minimum_fee"))
            elif (low is not None and term.target_fee < low) or (high is not None and term.target_fee > high):
                shown = f"[{show(low) if low is not None else '−∞'}, {show(high) if high is not None else '∞'}]"
                yield error("fee-range", f"target fee {show(term.target_fee)} is outside {shown}",
                            "the target fee lies between the minimum and maximum fee", term_path(agreement, i, "target_fee"))


def validate_weights_in_terms(agreement: Agreement) -> Iterator[Diagnostic]:
    """Award-fee factor weights, and pool allocations within a category, add up to 100%."""
    for i, term in enumerate(agreement.pricing):
        if isinstance(term, AwardFee):
            total = sum((f.weight for f in term.factors), ZERO)
            if total != ONE:
                yield error("weights", f"award-fee factor weights add up to {percent(total)}, not 100%",
                            "adjust the weights", term_path(agreement, i, "factors"))
        elif isinstance(term, ServiceCreditPool):
            for j, category in enumerate(term.categories):
                total = sum((level.allocation for level in category.service_levels), ZERO)
                if total != ONE:
                    yield error("weights", f"allocations of the service levels in category {category.id!r} add up to "
                                f"{percent(total)}, not 100%", "adjust the allocations",
                                term_path(agreement, i, "categories", j, "service_levels"))


def validate_term_details(agreement: Agreement) -> Iterator[Diagnostic]:
    """Smaller relations inside single terms."""
    terms = {t.id: t for t in agreement.pricing}
    for i, term in enumerate(agreement.pricing):
        if isinstance(term, LateDeliveryPenalty) and term.per is not None and term.per.seconds == 0:
            yield error("duration", "`per` must be longer than zero", "e.g. `per: 1 day`", term_path(agreement, i, "per"))
        if isinstance(term, MarginMatching) and term.applies_to in terms and isinstance(terms[term.applies_to], MarginMatching):
            yield error("margin-matching", "margin matching must apply to a price, not to another margin matching term",
                        "", term_path(agreement, i, "applies_to"))


def validate_calendar_span(agreement: Agreement) -> Iterator[Diagnostic]:
    """The agreement's months end within the supported calendar (its start is checked as a month already)."""
    calendar = agreement.calendar
    if calendar is None or not is_month(calendar.start):
        return
    last = add_months(calendar.start, calendar.months - 1)
    if not is_month(last):
        yield error("calendar", f"the agreement runs {calendar.months} months from {calendar.start}, to {last}, past the "
                    f"supported calendar's last month, {LAST_YEAR}-12",
                    f"start earlier or shorten `months` (at most {month_index(f'{LAST_YEAR}-12') - month_index(calendar.start) + 1} "
                    f"from this start)", ("calendar", "months"))


VALIDATIONS: tuple[Validation, ...] = (
    validate_calendar_span,
    validate_parties,
    validate_unique_ids,
    validate_references,
    validate_default_parties,
    validate_term_cycles,
    validate_outcome_weights,
    validate_targets,
    validate_metric_ranges,
    validate_currencies,
    validate_tier_tables,
    validate_incentive_terms,
    validate_weights_in_terms,
    validate_term_details,
    validate_datasets,
    validate_measures,
    *FORMULA_VALIDATIONS,
)
"""Every validation, in the order they run."""


def check_agreement(agreement: Agreement) -> list[Diagnostic]:
    """Run every validation; return all problems (an empty list means the agreement is sound).

    Absurdly large numbers stop the checks first: the other rules would only repeat them, or fail
    to show them.
    """
    too_large = list(validate_magnitudes(agreement))
    if too_large:
        return too_large
    return [d for validation in VALIDATIONS for d in validation(agreement)]
