"""The board pack: the frozen view-model a governance meeting reads, and its HTML rendering.

    render_pack_html(PackView) -> str          (self-contained: inline CSS and SVG, no script)

Where it sits: after **settle** and **sign-off**; ``vested.services.report.board_pack`` fills a
:class:`PackView` from the record, and this module only renders it (no I/O). The PDF
(``vested.render.pack_pdf``) is this HTML laid out by WeasyPrint, so both show the same pack. The
page comes from the Jinja2 templates in ``templates/pack/`` (autoescaped: every text from an
agreement or a record is data, never markup); the figures and sentences it shows are made here,
with the agreement's rounding for money (``show_money`` at its step).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vested.core.money import CENT, HUNDRED, ZERO, show, show_money
from vested.core.periods import add_months, month_index
from vested.core.scorecard import Scorecard
from vested.core.statement import Statement

# -- the view-model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One party's signature of a statement's current revision, as the record holds it."""

    party: str
    signer: str
    """The user id of the signer."""
    name: str
    """The signer's name, as the record's user has it."""
    at: str
    """When it was recorded (the ledger entry's time, ISO 8601)."""
    signature: str
    """The Ed25519 signature (base64)."""
    payload_hash: str


@dataclass(frozen=True)
class Signoff:
    """Where one period's statement stands in the record."""

    status: str
    """proposed, partly-signed, disputed or final."""
    revision: int
    signed_by: tuple[str, ...]
    awaiting: tuple[str, ...]
    signatures: tuple[Signature, ...]
    superseded: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()
    """Why each later revision superseded the one before it."""


@dataclass(frozen=True)
class Resolution:
    party: str
    user: str
    comment: str
    at: str


@dataclass(frozen=True)
class DisputeView:
    """A line of a statement disputed by one party, and the resolutions signed for it."""

    period: str
    revision: int
    party: str
    user: str
    line: str
    comment: str
    at: str
    resolutions: tuple[Resolution, ...]
    open: bool


@dataclass(frozen=True)
class Decision:
    """A governance act in the record (a recorded decision, an amendment proposed or approved)."""

    kind: str
    at: str
    actor: str
    text: str


@dataclass(frozen=True)
class PackMonth:
    """One settled period: its statement (the current revision), its scorecard, its sign-off."""

    period: str
    statement: Statement
    revision: int
    agreement_hash: str
    """The agreement version the statement was settled from (its text's SHA-256)."""
    scorecard: Scorecard | None = None
    signoff: Signoff | None = None
    """None when the record keeps no sign-off (a project kept as files)."""


@dataclass(frozen=True)
class Comparison:
    """What the pack's months are set against: another contract (as settled, or as a scenario
    forecasts it), or the same months a year earlier. Amounts cover exactly ``periods``."""

    kind: str
    """``settled`` (another agreement, settled in its own record), ``scenario`` (its status quo, as the
    scenario forecasts it) or ``previous year``."""
    label: str
    """What it is, in words (e.g. "the task-based contract helpdesk-task-based, as settled")."""
    periods: tuple[str, ...]
    paid_now: Decimal
    """What the customer paid under this agreement in ``periods``."""
    paid_then: Decimal
    """What it paid (or would have paid) under the comparison in ``periods``."""
    cost_now: Decimal | None = None
    """The supplier's cost to serve in ``periods`` under this agreement, where a scenario gives it."""
    cost_then: Decimal | None = None
    by_period: tuple[tuple[str, Decimal, Decimal], ...] = ()
    """(period, paid now, paid then), for the chart."""
    agreement_id: str = ""
    """The other agreement's id (empty for the previous year)."""

    @property
    def customer_saving(self) -> Decimal:
        """Positive when the customer paid less under this agreement."""
        return self.paid_then - self.paid_now

    @property
    def margin_now(self) -> Decimal | None:
        return None if self.cost_now is None else self.paid_now - self.cost_now

    @property
    def margin_then(self) -> Decimal | None:
        return None if self.cost_then is None else self.paid_then - self.cost_then

    @property
    def margin_gain(self) -> Decimal | None:
        """Positive when the supplier's margin is higher under this agreement."""
        if self.margin_now is None or self.margin_then is None:
            return None
        return self.margin_now - self.margin_then


@dataclass(frozen=True)
class Summary:
    """The executive summary's figures over the pack's months (the customer pays, the supplier earns)."""

    customer: str
    supplier: str
    periods: tuple[str, ...]
    paid: Decimal
    """Net paid by the customer to the supplier: the supplier's revenue."""
    cost: Decimal | None = None
    """The supplier's cost to serve (with the levers' running costs and investments), as a scenario estimates it."""
    cost_note: str = ""
    """Where the cost comes from (the scenario and the levers in effect), or why there is none."""
    comparison: Comparison | None = None
    notes: tuple[str, ...] = ()
    """Why a figure is not shown (no scenario, no earlier year settled, ...)."""

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.paid - self.cost


@dataclass(frozen=True)
class Binding:
    """A cap or corridor of one term, and the months in which it bound (read from the statements' figures)."""

    term_id: str
    label: str
    limit: str
    """Which limit: ``cap``, ``monthly cap``, ``rolling cap`` or ``corridor``."""
    supplier_earns: bool
    """True when the term pays the supplier (a gain share): a binding cap stops its reward; else the
    term pays the customer (a credit or a shared loss): a binding cap stops the supplier's penalty."""
    months: tuple[str, ...]
    of: int
    """How many months the pack covers."""

    last: str = ""
    """The pack's last month."""

    @property
    def every_month(self) -> bool:
        return len(self.months) == self.of

    @property
    def since(self) -> str | None:
        """The first month of an unbroken run of binding months up to the pack's last (None: no such run, or every month)."""
        if self.every_month or not self.months or self.months[-1] != self.last:
            return None
        run = [self.months[-1]]
        for earlier in reversed(self.months[:-1]):
            if add_months(run[-1], -1) != earlier:
                break
            run.append(earlier)
        return run[-1] if len(run) > 1 else None


@dataclass(frozen=True)
class PackView:
    """Everything a board pack shows, filled by ``vested.services.report.board_pack``."""

    agreement_id: str
    title: str
    names: Mapping[str, str]
    """Party id -> name."""
    currency: str
    step: Decimal
    """The agreement's rounding step: money shows its places."""
    version_hash: str
    """The SHA-256 of the agreement file the pack was made from."""
    made: str
    """The date the pack was made (from the workspace clock), ISO 8601."""
    months: tuple[PackMonth, ...]
    summary: Summary
    bindings: tuple[Binding, ...] = ()
    disputes: tuple[DisputeView, ...] = ()
    decisions: tuple[Decision, ...] = ()
    decision_rights: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(decision, owner party ids), as the agreement's governance declares them."""
    units: Mapping[str, str] = field(default_factory=dict)
    """Metric id -> unit."""
    description: str = ""
    record: str = ""
    """Which record the pack read (its ledger head, or "project folder")."""
    notes: tuple[str, ...] = ()

    def name(self, party: str) -> str:
        return self.names.get(party, party)

    @property
    def period_text(self) -> str:
        first, last = self.months[0].period, self.months[-1].period
        count = len(self.months)
        return first if count == 1 else f"{first} to {last} ({count} months)"

    @property
    def cited_versions(self) -> tuple[str, ...]:
        """The agreement versions the statements cite, in the order first met."""
        return tuple(dict.fromkeys(m.agreement_hash for m in self.months))


# -- figures and sentences --------------------------------------------------------------------------


def amount(view: PackView, value: Decimal | None) -> str:
    """Money at the agreement's rounding step, with its currency."""
    return "—" if value is None else f"{show_money(value, view.step)} {view.currency}"


def share(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return "—"
    return f"{show((part / whole * HUNDRED).quantize(Decimal('0.1')))}%"


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def customer_sentences(view: PackView) -> list[str]:
    s = view.summary
    customer, supplier = view.name(s.customer), view.name(s.supplier)
    said = [f"{customer} paid {supplier} {amount(view, s.paid)} net over {_months(len(s.periods))}, {_range(s.periods)}."]
    c = s.comparison
    if c is not None:
        same = "the same months" if c.periods == s.periods else f"the {_months(len(c.periods))} compared ({_span(c.periods)})"
        if c.paid_now != s.paid:
            said.append(f"In {same} it paid {amount(view, c.paid_now)}.")
        verb = "would have paid" if c.kind == "scenario" else "paid"
        saving = c.customer_saving
        direction = "less" if saving > 0 else "more" if saving < 0 else "the same"
        tail = f": {amount(view, abs(saving))} {direction} now ({share(abs(saving), c.paid_then)})" if saving else ": the same"
        if c.kind == "previous year":
            earlier = [add_months(p, -12) for p in c.periods]
            said.append(f"A year earlier ({_range(earlier)}) it paid {amount(view, c.paid_then)}{tail}.")
        else:
            said.append(f"Under {c.label}, it {verb} {amount(view, c.paid_then)} in {same}{tail}.")
    return said


def supplier_sentences(view: PackView) -> list[str]:
    s = view.summary
    supplier = view.name(s.supplier)
    said = [f"{possessive(supplier)} revenue under this agreement: {amount(view, s.paid)}."]
    if s.cost is not None and s.margin is not None:
        said.append(f"Its cost to serve, as estimated by {s.cost_note}: {amount(view, s.cost)}; margin {amount(view, s.margin)} "
                    f"({share(s.margin, s.paid)} of revenue).")
    elif s.cost_note:
        said.append(f"Its margin is not shown: {s.cost_note}.")
    c = s.comparison
    if c is not None and c.margin_then is not None and c.margin_gain is not None:
        gain = c.margin_gain
        direction = "higher" if gain > 0 else "lower" if gain < 0 else "the same"
        said.append(f"Under {c.label}: revenue {amount(view, c.paid_then)}, cost {amount(view, c.cost_then)}, margin "
                    f"{amount(view, c.margin_then)}; under this agreement its margin is "
                    + (f"{amount(view, abs(gain))} {direction}." if gain else "the same."))
    elif c is not None:
        change = c.paid_now - c.paid_then
        direction = "more" if change > 0 else "less" if change < 0 else "the same"
        said.append(f"Under {c.label} its revenue was {amount(view, c.paid_then)}"
                    + (f": {amount(view, abs(change))} {direction} now." if change else ": the same."))
    return said


def verdict(view: PackView) -> tuple[str, str]:
    """(class, sentence): whether both parties won against the comparison, in one line."""
    c = view.summary.comparison
    if c is None:
        return "none", "No comparison: give a scenario with a status quo, or --against a settled contract."
    customer, supplier = view.name(view.summary.customer), view.name(view.summary.supplier)
    if c.kind == "previous year":
        change = -c.customer_saving
        direction = "more" if change > 0 else "less" if change < 0 else "the same"
        return "none", (f"Against the same months a year earlier: {customer} paid {supplier} "
                        + (f"{amount(view, abs(change))} {direction}." if change else "the same.")
                        + " A year-on-year change is not a comparison with another contract: give --scenario or --against.")
    customer_won = c.customer_saving > 0
    gain = c.margin_gain
    if gain is None:
        return ("win" if customer_won else "loss",
                f"{customer} {'pays less' if customer_won else 'does not pay less'} than under {c.label}; "
                f"{possessive(supplier)} margin cannot be compared without the cost to serve (give --scenario).")
    supplier_won = gain > 0
    if customer_won and supplier_won:
        return "win", (f"Both parties won: {customer} paid {amount(view, c.customer_saving)} less than under {c.label}, "
                       f"and {possessive(supplier)} margin is {amount(view, gain)} higher.")
    who = [name for name, won in ((customer, customer_won), (supplier, supplier_won)) if not won]
    return "loss", f"Not a win for both: {' and '.join(who)} did not gain against {c.label}."


def binding_sentence(view: PackView, b: Binding) -> str:
    supplier = view.name(view.summary.supplier)
    where = f"The {b.limit} of {b.label!r} ({b.term_id})"
    if b.limit == "corridor" and b.supplier_earns:
        return (f"{where} held the shared savings at zero in {_count(b)}: savings inside the corridor earn "
                f"{supplier} nothing, so small improvements are not rewarded.")
    if b.limit == "corridor":
        return (f"{where} held the shared loss at zero in {_count(b)}: a loss inside the corridor costs "
                f"{supplier} nothing under this term.")
    if b.supplier_earns:
        if b.every_month:
            return (f"{where} binds in every month ({b.of} of {b.of}): {supplier} gains nothing under this term from "
                    "further improvement; raising the cap, or another term, is what would reward it.")
        if b.since is not None:
            return (f"{where} binds in every month since {b.since} ({_run(b)}): since then {supplier} has gained "
                    "nothing under this term from further improvement.")
        return f"{where} binds in {_count(b)}: in those months further improvement earned {supplier} nothing more under this term."
    if b.since is not None:
        return (f"{where} binds in every month since {b.since} ({_run(b)}): since then a worse result costs {supplier} "
                "nothing more under this term.")
    if b.every_month:
        return (f"{where} binds in every month ({b.of} of {b.of}): a worse result costs {supplier} nothing more "
                "under this term, so it no longer pushes the supplier to recover.")
    return f"{where} binds in {_count(b)}: in those months a worse result cost {supplier} nothing more under this term."


def _run(b: Binding) -> str:
    assert b.since is not None
    run = month_index(b.last) - month_index(b.since) + 1
    earlier = len(b.months) - run
    return f"the last {run} of {b.of} months" + (f", and {earlier} earlier" if earlier else "")


def _count(b: Binding) -> str:
    return f"{len(b.months)} of {b.of} months ({_span(b.months)})"


def _span(periods: Sequence[str]) -> str:
    if not periods:
        return ""
    return ", ".join(periods) if len(periods) <= 4 else f"{periods[0]} … {periods[-1]}"


def _range(periods: Sequence[str]) -> str:
    """Consecutive months as "A to B" (one month: itself); others as a list."""
    if len(periods) == 1:
        return periods[0]
    if month_index(periods[-1]) - month_index(periods[0]) + 1 == len(periods):
        return f"{periods[0]} to {periods[-1]}"
    return _span(periods)


def _months(count: int) -> str:
    return f"{count} month{'s' * (count != 1)}"


def figure_text(value: Any) -> str:
    """A statement figure as it reads (numbers with separators, yes/no for flags)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return show(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(figure_text(v) for v in value) + "]"
    return str(value)


def number(value: Decimal | None) -> str:
    """A measured value for reading: at most two decimals (the exact values are in the statements)."""
    if value is None:
        return "—"
    return show_money(value, CENT, trim=True)


def attainment(value: Decimal | None) -> str:
    if value is None:
        return "—"
    shown = value.quantize(Decimal("0.1"))
    return f"{shown if shown != 0 else abs(shown)}%"


def score(value: Decimal | None) -> str:
    return "—" if value is None else f"{min(value, HUNDRED).quantize(Decimal('0.1'))} / 100"


def customer_signed(line_payer: str, line_payee: str, amount_: Decimal, customer: str) -> Decimal:
    """A line's amount as the customer sees it: positive when it pays, negative when it receives."""
    return -amount_ if line_payee == customer else amount_


def total(values: Sequence[Decimal]) -> Decimal:
    return sum(values, ZERO)
