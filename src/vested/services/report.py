"""The board pack of an agreement: what a governance meeting reads about the months settled.

    board_pack(ws, agreement, months=None, scenario=None, against=None, levers="best") -> Result[PackView]

It reads like its table of contents: load the agreement (its version hash) -> read the record's
history of the months (statements, signatures, sign-off; ``services.record.history``) -> score each
month from the facts its statement was settled from -> the comparison: another contract settled in
its own record (``against``), else the scenario's status quo (``services.deal.economics``), else the
same months a year earlier -> the supplier's cost to serve, where a scenario gives it -> the caps
and corridors that bound -> disputes and decisions -> the frozen :class:`~vested.render.pack.PackView`.

Nothing is measured again: every figure comes from the statements both parties were asked to sign
(their JSON holds each month's facts and each term's figures, such as ``cap_binds``). The date the
pack was made is the workspace's clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from vested.core.canonical import text_hash
from vested.core.diagnostics import Diagnostic, warning
from vested.core.model import Agreement
from vested.core.money import ZERO
from vested.core.periods import add_months, parse_month
from vested.core.scorecard import TREND_PERIODS, build_scorecard
from vested.core.signoff import Disputed, Parties, Resolved
from vested.core.statement import NetAmount, Statement, StatementLine
from vested.render.pack import (
    Binding,
    Comparison,
    Decision,
    DisputeView,
    PackMonth,
    PackView,
    Resolution,
    Signature,
    Signoff,
    Summary,
)
from vested.services import deal
from vested.services.deal import LeverChoice
from vested.services.record import history
from vested.services.result import Refused, Result
from vested.services.signoff import DOCUMENT, loaded, parties_of, recording, refusal
from vested.services.workspace import FOLDER, Workspace


@dataclass(frozen=True)
class Against:
    """Another agreement (the task-based contract) settled in its own record, to compare with."""

    agreement: str | Path
    ws: Workspace


@dataclass(frozen=True)
class Settled:
    """One period as the record holds it: the current revision's text, and its sign-off (if kept)."""

    period: str
    text: str
    revision: int
    agreement_hash: str
    signoff: Signoff | None = None


def board_pack(ws: Workspace, agreement: str | Path, months: Sequence[str] | None = None, scenario: str | Path | None = None,
               against: Against | None = None, levers: LeverChoice = "best") -> Result[PackView]:
    """The board pack of ``months`` (default: every month settled) of an agreement in the workspace's record."""
    return recording(ws, lambda: _board_pack(ws, agreement, months, scenario, against, levers))


def _board_pack(ws: Workspace, ref: str | Path, months: Sequence[str] | None, scenario: str | Path | None,
                against: Against | None, levers: LeverChoice) -> Result[PackView]:
    agreement, text = loaded(ref)
    parties = parties_of(agreement)
    notes: list[Diagnostic] = []
    settled = read_settled(ws, ref, agreement)
    chosen = choose_months(agreement, settled, months, notes)
    statements = {period: statement_of(json.loads(settled[period].text)) for period in chosen}
    scorecards = score_months(agreement, settled, chosen)
    pack_months = tuple(PackMonth(p, statements[p], settled[p].revision, settled[p].agreement_hash, scorecards.get(p),
                                  settled[p].signoff) for p in chosen)
    summary = summarise(ws, agreement, ref, parties, settled, chosen, scenario, against, levers, notes)
    disputes, decisions = governance_acts(ws, agreement, chosen)
    version = text_hash(text)
    if any(m.agreement_hash != version for m in pack_months):
        notes.append(warning("version", f"some statements were settled from another version of {agreement.id} than "
                             f"the file given ({version[:12]}); the pack lists the versions they cite", "", (), DOCUMENT))
    head = None if ws.store_url == FOLDER else ws.record.head()
    view = PackView(
        agreement_id=agreement.id, title=agreement.title, names={p.id: p.name for p in agreement.parties},
        currency=agreement.policy.currency, step=agreement.policy.rounding.step, version_hash=version,
        made=ws.now().date().isoformat(), months=pack_months, summary=summary,
        bindings=bindings(pack_months, parties), disputes=disputes, decisions=decisions,
        decision_rights=tuple((r.decision, tuple(r.owners)) for r in (agreement.governance.decision_rights
                                                                       if agreement.governance else ())),
        units={m.id: m.unit for m in agreement.metrics}, description=agreement.summary.strip(),
        record=(f"the shared record: {head.seq} ledger entries, head {head.hash}" if head else "the project folder (files)"),
        notes=tuple(d.message for d in notes))
    return Result(view, tuple(notes))


# -- the record -------------------------------------------------------------------------------------


def read_settled(ws: Workspace, ref: str | Path, agreement: Agreement) -> dict[str, Settled]:
    """Every settled period of the agreement: from the record's history (with sign-off), or the folder's files."""
    if ws.store_url == FOLDER:
        found = {}
        for period in ws.store.settled_periods(agreement.id):
            text = ws.store.statement_text(agreement.id, period)
            if text is not None:
                cited = json.loads(text)["inputs"]["agreement"]["sha256"]
                found[period] = Settled(period, text, 1, cited)
        return found
    told = history(ws, ref)
    if told.value is None:
        raise Refused(told.diagnostics)
    users = {u.user_id: u.name for u in ws.record.users()}
    times = ledger_times(ws)
    parties = parties_of(agreement)
    found = {}
    for p in told.value.periods:
        current = p.revisions[-1]
        signatures = tuple(Signature(s.party, s.signer, users.get(s.signer, s.signer), times.get(s.seq, ""), s.signature,
                                     s.payload_hash) for s in p.signatures if s.revision == current.revision)
        signoff = Signoff(p.state.status, p.state.revision, tuple(sorted(p.state.signed_by)), p.state.awaiting(parties),
                          signatures, p.state.superseded, tuple(r.reason for r in p.revisions[1:] if r.reason))
        found[p.period] = Settled(p.period, current.text, current.revision, current.agreement_hash, signoff)
    return found


def ledger_times(ws: Workspace) -> dict[int, str]:
    """When each ledger entry was recorded, by its seq."""
    return {entry.seq: entry.at for entry in ws.record.entries()}


def choose_months(agreement: Agreement, settled: Mapping[str, Settled], months: Sequence[str] | None,
                  notes: list[Diagnostic]) -> list[str]:
    """The months asked for that are settled (every settled month when none are asked for); refused when none is."""
    if months is None:
        chosen = sorted(settled, key=parse_month)
    else:
        chosen = [m for m in months if m in settled]
        missing = [m for m in months if m not in settled]
        if missing and chosen:
            notes.append(warning("not-settled", f"not settled, so not in the pack: {', '.join(missing)}",
                                 "settle them first: vested settle AGREEMENT --period YYYY-MM", (), DOCUMENT))
    if not chosen:
        asked = f" in {months[0]}{' to ' + months[-1] if len(months) > 1 else ''}" if months else ""
        raise refusal(f"{agreement.id} has no settled month{asked} in this record, so there is no pack to make",
                      "settle the months first (vested settle AGREEMENT --from A --to B), or choose --project/--store")
    return chosen


def statement_of(data: Mapping[str, Any]) -> Statement:
    """The statement of a settled month's JSON (as ``settle`` wrote it) as the core record."""
    s = data["statement"]
    lines = tuple(StatementLine(
        term_id=line["term_id"], term_type=line.get("term_type", ""), label=line["label"], payer=line["payer"],
        payee=line["payee"], amount=Decimal(line["amount"]), exact=Decimal(line["exact"]), formula=line["formula"],
        calculation=line["calculation"], inputs=tuple((str(k), str(v)) for k, v in line.get("inputs", ())),
        notes=tuple(line.get("notes", ()))) for line in s["lines"])
    net = tuple(NetAmount(n["payer"], n["payee"], Decimal(n["amount"])) for n in s["net"])
    figures = {term: {k: _figure(v) for k, v in found.items()} for term, found in s.get("figures", {}).items()}
    return Statement(s["agreement_id"], s.get("period"), s["currency"], lines, net, s["rounding"], figures)


def _figure(value: Any) -> Any:
    """A figure as written in the JSON: numbers are strings there; flags and the rest stay as they are."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if isinstance(value, list):
        return [_figure(v) for v in value]
    return value


def score_months(agreement: Agreement, settled: Mapping[str, Settled], months: Sequence[str]) -> dict[str, Any]:
    """Each month's scorecard, from the facts its statement (and the trend's earlier ones) was settled from."""
    if not agreement.outcomes:
        return {}
    wanted = {add_months(m, -back) for m in months for back in range(TREND_PERIODS + 1)}
    facts = {p: {k: Decimal(v) for k, v in json.loads(settled[p].text)["inputs"]["facts"].items()}
             for p in wanted if p in settled}
    return {m: build_scorecard(agreement, m, facts) for m in months}


def paid_by_month(settled: Mapping[str, Settled], periods: Sequence[str], parties: Parties) -> dict[str, Decimal]:
    """What the customer paid the supplier (net) in each of ``periods`` that is settled."""
    return {p: statement_of(json.loads(settled[p].text)).owed(parties.customer, parties.supplier)
            for p in periods if p in settled}


# -- the executive summary ---------------------------------------------------------------------------


def summarise(ws: Workspace, agreement: Agreement, ref: str | Path, parties: Parties, settled: Mapping[str, Settled],
              months: Sequence[str], scenario: str | Path | None, against: Against | None, levers: LeverChoice,
              notes: list[Diagnostic]) -> Summary:
    paid = paid_by_month(settled, months, parties)
    said: list[str] = []
    cost, cost_note, status_quo = None, "no scenario gives the supplier's cost to serve (give --scenario)", None
    if scenario is not None:
        cost, cost_note, status_quo = scenario_costs(ws, ref, scenario, months, levers, notes)
    comparison = None
    if against is not None:
        comparison = against_settled(against, months, paid, notes)
    elif status_quo is not None:
        comparison = with_paid_now(status_quo, paid)
    else:
        comparison = previous_year(settled, months, paid, parties)
        if comparison is None:
            said.append("nothing to compare with: no scenario with a status quo, no --against contract, "
                        "and none of these months was settled a year earlier")
    if comparison is not None and cost is not None:
        now = cost.get("now")
        # the scenario's cost under the other contract is only its cost when that contract is the scenario's status quo
        same = status_quo is not None and status_quo.agreement_id == comparison.agreement_id
        then = cost.get("then") if same else None
        if comparison.kind == "settled" and not same:
            said.append(f"the scenario's status quo is not {comparison.agreement_id}, so the supplier's cost under it is not shown")
        comparison = Comparison(comparison.kind, comparison.label, comparison.periods, comparison.paid_now,
                                comparison.paid_then, _over(now, comparison.periods), _over(then, comparison.periods),
                                comparison.by_period, comparison.agreement_id)
    total_cost = _over(cost.get("now") if cost else None, months)
    return Summary(parties.customer, parties.supplier, tuple(months), sum(paid.values(), ZERO), total_cost, cost_note,
                   comparison, tuple(said))


def _over(by_period: Mapping[str, Decimal] | None, periods: Sequence[str]) -> Decimal | None:
    """The sum over ``periods``, or None unless every one has a value."""
    if by_period is None or any(p not in by_period for p in periods):
        return None
    return sum((by_period[p] for p in periods), ZERO)


def scenario_costs(ws: Workspace, ref: str | Path, scenario: str | Path, months: Sequence[str], levers: LeverChoice,
                   notes: list[Diagnostic]) -> tuple[dict[str, dict[str, Decimal]] | None, str, Comparison | None]:
    """The supplier's cost per month under this agreement (``now``) and the status quo (``then``), as the scenario
    estimates them, and the status quo's forecast as a comparison; the note says where the cost comes from."""
    run = deal.economics(ws, ref, scenario, levers)
    notes.extend(d for d in run.diagnostics if not d.is_error)
    if run.value is None or not run.ok:
        notes.extend(warning(d.code, f"the scenario cannot be evaluated: {d.message}", d.hint, (), DOCUMENT)
                     for d in run.diagnostics if d.is_error)
        return None, "the scenario could not be evaluated against this agreement", None
    e = run.value.economics
    costs = {"now": {p.period: p.money.supplier_cost + p.money.supplier_investment for p in e.periods}}
    outside = [m for m in months if m not in costs["now"]]
    levers_text = ", ".join(e.levers) if e.levers else "none"
    note = f"scenario {e.scenario_id}, with levers {levers_text} ({run.value.lever_choice})"
    if outside:
        note = f"scenario {e.scenario_id} does not cover {', '.join(outside)}"
    status_quo_path, missing = deal.resolve_status_quo(scenario, _scenario_loaded(scenario), None)
    if status_quo_path is None or missing:
        return costs, note, None
    sq = deal.economics(ws, status_quo_path, scenario, "none")
    if sq.value is None or not sq.ok:
        notes.append(warning("scenario", f"the status quo {Path(status_quo_path).name} cannot be evaluated on the scenario",
                             "", (), DOCUMENT))
        return costs, note, None
    then = {p.period: p for p in sq.value.economics.periods}
    costs["then"] = {p: q.money.supplier_cost + q.money.supplier_investment for p, q in then.items()}
    covered = [m for m in months if m in then]
    if not covered:
        return costs, note, None
    paid_then = {m: then[m].money.customer_pays for m in covered}
    label = f"the status quo “{sq.value.agreement.title}”, as scenario {e.scenario_id} forecasts it"
    return costs, note, Comparison("scenario", label, tuple(covered), ZERO, sum(paid_then.values(), ZERO),
                                   by_period=tuple((m, ZERO, paid_then[m]) for m in covered),
                                   agreement_id=sq.value.agreement.id)


def _scenario_loaded(scenario: str | Path) -> Any:
    from vested.adapters.scenario_load import load_scenario

    return load_scenario(scenario)


def against_settled(against: Against, months: Sequence[str], paid: Mapping[str, Decimal],
                    notes: list[Diagnostic]) -> Comparison | None:
    """The other contract as settled in its own record, over the months both have settled."""
    other, _ = loaded(against.agreement)
    theirs = paid_by_month(read_settled(against.ws, against.agreement, other), months, parties_of(other))
    both = [m for m in months if m in theirs and m in paid]
    if not both:
        notes.append(warning("against", f"{other.id} has none of these months settled in its record, so there is no "
                             "comparison", "give its project: --against-project DIR", (), DOCUMENT))
        return None
    return Comparison("settled", f"“{other.title}”, as settled", tuple(both),
                      sum((paid[m] for m in both), ZERO), sum((theirs[m] for m in both), ZERO),
                      by_period=tuple((m, paid[m], theirs[m]) for m in both), agreement_id=other.id)


def previous_year(settled: Mapping[str, Settled], months: Sequence[str], paid: Mapping[str, Decimal],
                  parties: Parties) -> Comparison | None:
    """The same months a year earlier, where those are settled too (compared month for month)."""
    earlier = paid_by_month(settled, [add_months(m, -12) for m in months], parties)
    both = [m for m in months if add_months(m, -12) in earlier]
    if not both:
        return None
    return Comparison("previous year", "the same months a year earlier", tuple(both), sum((paid[m] for m in both), ZERO),
                      sum((earlier[add_months(m, -12)] for m in both), ZERO),
                      by_period=tuple((m, paid[m], earlier[add_months(m, -12)]) for m in both))


def with_paid_now(comparison: Comparison, paid: Mapping[str, Decimal]) -> Comparison:
    """A scenario's comparison with what the customer actually paid in its months."""
    now = sum((paid[m] for m in comparison.periods), ZERO)
    return Comparison(comparison.kind, comparison.label, comparison.periods, now, comparison.paid_then,
                      by_period=tuple((m, paid[m], then) for m, _, then in comparison.by_period),
                      agreement_id=comparison.agreement_id)


# -- caps, corridors, disputes, decisions ------------------------------------------------------------

LIMITS = {"cap_binds": "cap", "monthly_cap_binds": "monthly cap", "rolling_cap_binds": "rolling cap"}


def bindings(months: Sequence[PackMonth], parties: Parties) -> tuple[Binding, ...]:
    """Each term's caps (its ``*_binds`` figures) and corridors (a line held at zero below one) that bound,
    and in which months; which way the term pays tells whose incentive the limit cuts."""
    found: dict[tuple[str, str], list[str]] = {}
    earns: dict[tuple[str, str], bool] = {}
    labels: dict[str, str] = {}
    for month in months:
        s = month.statement
        for line in s.lines:
            labels.setdefault(line.term_id, line.label)
        for term, figures in s.figures.items():
            lines = [line for line in s.lines if line.term_id == term]
            to_supplier = sum(((line.amount if line.payee == parties.supplier else -line.amount) for line in lines), ZERO)
            for key, limit in LIMITS.items():
                if figures.get(key) is True:
                    found.setdefault((term, limit), []).append(month.period)
                    earns[(term, limit)] = to_supplier >= 0
            for line in lines:  # a shared amount held at zero because the savings (or loss) fell inside the corridor
                if "corridor" in line.formula and line.amount == 0 and line.calculation != "no savings":
                    found.setdefault((term, "corridor"), []).append(month.period)
                    earns[(term, "corridor")] = "minimum-loss" not in line.formula
    last = months[-1].period if months else ""
    return tuple(Binding(term, labels.get(term, term), limit, earns[(term, limit)], tuple(periods), len(months), last)
                 for (term, limit), periods in found.items())


def governance_acts(ws: Workspace, agreement: Agreement, months: Sequence[str]) -> tuple[tuple[DisputeView, ...],
                                                                                         tuple[Decision, ...]]:
    """The disputes of the pack's months (open and resolved) and the record's decisions and amendments."""
    if ws.store_url == FOLDER:
        return (), ()
    parties = parties_of(agreement)
    times: dict[int, str] = {}
    resolved_at: dict[tuple[int, str], str] = {}
    decisions = []
    for entry in ws.record.entries():
        times[entry.seq] = entry.at
        payload = entry.payload
        if entry.kind == "dispute-resolved":
            resolved_at[(int(payload["dispute"]), str(payload["party"]))] = entry.at
        elif entry.kind in ("decision-recorded", "amendment-proposed") and payload.get("agreement_id") == agreement.id:
            text = str(payload.get("reason") or f"decision {str(payload.get('decision_hash', ''))[:12]}")
            decisions.append(Decision(entry.kind.replace("-", " "), entry.at, entry.actor, text))
        elif entry.kind == "amendment-approved":
            amendment = ws.record.amendment(int(payload["amendment"]))
            if amendment is not None and amendment.agreement_id == agreement.id:
                decisions.append(Decision("amendment approved", entry.at, entry.actor, amendment.reason))
    disputes = []
    for period in months:
        events = ws.record.statement_events(agreement.id, period)
        resolutions: dict[int, list[Resolution]] = {}
        for event in events:
            if isinstance(event, Resolved):
                resolutions.setdefault(event.dispute, []).append(
                    Resolution(event.party, event.user, event.comment, resolved_at.get((event.dispute, event.party), "")))
        for event in events:
            if isinstance(event, Disputed):
                signed = {r.party for r in resolutions.get(event.dispute, [])}
                line = f"line {event.line + 1}" if isinstance(event.line, int) else event.line
                disputes.append(DisputeView(period, event.revision, event.party, event.user, line, event.comment,
                                            times.get(event.dispute, ""), tuple(resolutions.get(event.dispute, ())),
                                            not {parties.customer, parties.supplier} <= signed))
    return tuple(disputes), tuple(decisions)
