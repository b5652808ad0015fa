"""The agreement: the ten Vested elements as immutable records.

An :class:`Agreement` is what ``vested.adapters.load`` builds from a YAML file. Pricing terms live
in ``vested.core.terms``; everything else an agreement says (parties, vision, workload, metrics,
outcomes, governance, transformation, exit, special concerns, arithmetic policy) is here.
"""

from __future__ import annotations

from dataclasses import field
from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.formula_types import FormulaText, Parameter, Rule, Table
from vested.core.measures import Dataset, Measure
from vested.core.money import round_amount
from vested.core.records import RECORD
from vested.core.terms import Term
from vested.core.values import Identifier, Month, Number, Period, Positive, Share

FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Party:
    """One party to the agreement."""

    id: Identifier
    """Short id used everywhere else in the file (payer, payee, data owner, ...)."""
    name: str
    """The party's legal or trading name."""
    role: Literal["customer", "supplier", "other"]
    """customer (buys the outcome), supplier (delivers it) or other (auditor, facilitator)."""
    description: str = ""
    """What the party brings to the relationship."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Vision:
    """Rule 1: the shared vision and statement of intent both parties sign up to."""

    shared_vision: str
    """One or two sentences both parties can repeat: what success looks like for both."""
    statement_of_intent: str = ""
    """How the parties intend to work together to reach the vision."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class WorkloadItem:
    """Rule 2: one responsibility in the statement of objectives (the WHAT, never the HOW)."""

    what: str
    """The result the owner is responsible for, stated as an objective."""
    owner: Identifier
    """The party responsible (a party id)."""
    how: str | None = None
    """A prescribed method. Leave it out: prescribing how is the Outsourcing Paradox (lint)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Metric:
    """A quantity measured (or reported) for each period; outcomes and pricing terms refer to it."""

    id: Identifier
    """Short id that outcomes, terms and facts files use."""
    description: str = ""
    """What is measured, in words."""
    unit: str = "number"
    """Unit of the value: count, percent, money, hours, seconds, score, index, ..."""
    kind: Literal["number", "boolean", "timestamp", "series"] = "number"
    """number (default), boolean (yes/no), timestamp (ISO 8601) or series (a list of numbers)."""
    minimum: Number | None = None
    """Smallest value allowed; a fact below it is refused."""
    maximum: Number | None = None
    """Largest value allowed; a fact above it is refused."""
    owner: Identifier | None = None
    """Party that owns the data (a party id)."""
    source: str | None = None
    """Where the data comes from (system, report, survey)."""
    measure: Measure | None = None
    """How the value is computed from a dataset each period (see `datasets`)."""
    reported_by: Identifier | None = None
    """For a value reported directly rather than measured (a survey score): the party that reports it."""
    formula: FormulaText | None = None
    """A derived metric: its value each period is this formula over other metrics and parameters
    ("orders × perfect_rate"); the facts do not give it."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Baseline:
    """Where an outcome stood before the agreement: the level to improve on."""

    value: Number
    """The measured value, in the metric's unit."""
    period: Period
    """The period the baseline was measured in (2024, 2024-Q4 or 2024-12)."""
    source: str = ""
    """Where the baseline figure comes from."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Measurement:
    """Rule 3: the four questions of performance management for one outcome."""

    data_owner: Identifier
    """Who owns the data (a party id)."""
    data_source: str
    """Where the data comes from (system, report, survey)."""
    calculation: str
    """How the value is calculated from the data, in words or as a formula."""
    frequency: Literal["daily", "weekly", "monthly", "quarterly", "annually"] = "monthly"
    """How often the value is measured and reported."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Outcome:
    """Rule 3: a desired outcome, clearly defined and measurable."""

    id: Identifier
    """Short id that terms refer to."""
    statement: str
    """The outcome in plain words, as the customer wants it."""
    metric: Identifier
    """The metric (a metric id) whose value measures this outcome."""
    direction: Literal["higher", "lower"]
    """Whether a higher or a lower value is better."""
    target: Number
    """The value that counts as success, in the metric's unit."""
    weight: Share = Decimal(0)
    """Weight in the overall score; top-level outcome weights add up to 100%."""
    baseline: Baseline | None = None
    """Where the outcome stood before the agreement."""
    measurement: Measurement | None = None
    """Who owns the data, where it comes from, how it is calculated and how often."""
    parent: Identifier | None = None
    """For a supporting (lower-level) outcome: the top-level outcome it serves."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Forum:
    """A governance meeting with its cadence."""

    name: str
    """Name of the meeting (e.g. quarterly business review)."""
    frequency: Literal["weekly", "monthly", "quarterly", "semi-annually", "annually"]
    """How often it meets."""
    tier: str = ""
    """The governance tier that holds it (operational, tactical, strategic)."""
    members: tuple[Identifier, ...] = ()
    """Parties that attend (party ids)."""
    purpose: str = ""
    """What the meeting decides or reviews."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class DecisionRight:
    """Who decides what."""

    decision: str
    """The decision (e.g. approve a change to a target)."""
    owners: tuple[Identifier, ...]
    """Parties whose approval is required (party ids); both parties for joint decisions."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Governance:
    """Rule 5: insight, not oversight. Tiers, cadence and decision rights."""

    tiers: tuple[str, ...] = ()
    """Governance tiers, from operational to strategic."""
    cadence: tuple[Forum, ...] = ()
    """The meetings and how often they happen."""
    decision_rights: tuple[DecisionRight, ...] = ()
    """Who decides what."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Transformation:
    """Rule 5: how the agreement keeps improving: innovation and change control."""

    innovation: str = ""
    """How innovations are proposed, evaluated and rewarded."""
    change_control: str = ""
    """How a change (a new baseline, target or term) is approved by both parties."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Exit:
    """Rule 5: how the relationship ends well."""

    notice: str = ""
    """Notice period and who may give it."""
    transition: str = ""
    """How services, data and knowledge pass on at the end."""
    triggers: tuple[str, ...] = ()
    """Events that allow either party to exit."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Rounding:
    """How amounts are rounded (once, in one place, as declared here)."""

    mode: Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"] = "half_up"
    """Rounding mode (the names of Python's decimal modes)."""
    step: Positive = Decimal("0.01")
    """Round to a multiple of this step, a number above zero (0.01 = cents, 1 = whole units, 0.05 = nickels)."""
    apply: Literal["per_line", "per_statement"] = "per_line"
    """per_line: each statement line is rounded and the net is their sum; per_statement: lines keep
    full precision and only the net is rounded."""

    def round(self, amount: Decimal) -> Decimal:
        return round_amount(amount, self.mode, self.step)


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Conversion:
    """How amounts in another currency become the agreement's currency."""

    from_currency: str = Field(alias="from", pattern=r"^[A-Z]{3}$", description="The other currency (ISO 4217 code).")
    rate: Number | Identifier = Field(
        description="Units of the agreement's currency per unit of the other one: a number, or a metric id "
        "whose value each period is the rate."
    )


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Policy:
    """The arithmetic policy: currency, rounding and tier boundaries."""

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="Currency of every amount (ISO 4217 code).")
    rounding: Rounding = field(default_factory=Rounding)
    """How amounts are rounded."""
    tier_boundaries: Literal["lower_inclusive", "upper_inclusive"] = "lower_inclusive"
    """Which end of a tier includes its boundary: lower_inclusive means from <= x < to; upper_inclusive
    means from < x <= to. A term may override it."""
    conversions: tuple[Conversion, ...] = ()
    """Currencies other terms may use, each with its conversion rate."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Silence:
    """A lint rule switched off for this agreement, with the reason."""

    rule: str
    """The rule's code (e.g. activity-trap)."""
    reason: str = Field(min_length=1, description="Why the rule does not apply here (required).")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class LintSettings:
    """Settings of the Vested lint for this agreement."""

    max_outcomes: int = Field(default=5, ge=1, description="Most top-level outcomes before Measurement Minutiae warns.")
    silence: tuple[Silence, ...] = ()
    """Rules switched off, each with a reason."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Calendar:
    """When the agreement runs."""

    start: Month
    """First month of the agreement, written YYYY-MM (2025-01); a quarter or a year is refused."""
    months: int = Field(default=12, ge=1, le=1200, description="Length of the agreement in months.")
    time_zone: str = "UTC"
    """Time zone that defines period boundaries (an IANA name such as Europe/London)."""
    fiscal_year_start: int = Field(default=1, ge=1, le=12,
                                   description="Month the fiscal year starts (1 = January); sets quarters and years.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Agreement:
    """A Vested agreement: the ten elements as data."""

    vested: Literal[1] = Field(description="Format version of this file (1).")
    id: Identifier
    """Short id of the agreement."""
    title: str
    """Title of the agreement."""
    parties: tuple[Party, ...]
    """The parties: at least one customer and one supplier."""
    summary: str = ""
    """A paragraph on what the agreement is for."""
    calendar: Calendar | None = None
    """When the agreement starts and how long it runs."""
    vision: Vision | None = None
    """Shared vision and statement of intent (rule 1)."""
    workload: tuple[WorkloadItem, ...] = ()
    """Statement of objectives: who is responsible for what (rule 2)."""
    datasets: tuple[Dataset, ...] = ()
    """Measurement data the parties exchange, with their columns (rule 3)."""
    metrics: tuple[Metric, ...] = ()
    """Quantities measured each period (rule 3)."""
    outcomes: tuple[Outcome, ...] = ()
    """Desired outcomes (rule 3)."""
    parameters: tuple[Parameter, ...] = ()
    """Named values and formulas that formulas refer to (see docs/formulas.md)."""
    tables: tuple[Table, ...] = ()
    """Band tables that formulas read with lookup(table, value)."""
    rules: tuple[Rule, ...] = ()
    """Conditions every period's facts must meet ("perfect_orders <= orders")."""
    pricing: tuple[Term, ...] = ()
    """The pricing model: composable terms evaluated each period (rule 4)."""
    governance: Governance | None = None
    """Relationship management (rule 5)."""
    transformation: Transformation | None = None
    """Innovation and change control (rule 5)."""
    exit: Exit | None = None
    """Exit management (rule 5)."""
    special_concerns: tuple[str, ...] = ()
    """Anything else both parties want written down (rule 5)."""
    policy: Policy = field(default_factory=Policy)
    """Currency, rounding and tier boundaries."""
    lint: LintSettings = field(default_factory=LintSettings)
    """Settings of the Vested lint."""

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def party_with_role(self, role: str) -> Party | None:
        matches = [p for p in self.parties if p.role == role]
        return matches[0] if len(matches) == 1 else None

    def dataset(self, dataset_id: str) -> Dataset | None:
        return next((d for d in self.datasets if d.id == dataset_id), None)

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.id == metric_id), None)

    def outcome(self, outcome_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == outcome_id), None)

    def term(self, term_id: str) -> Term | None:
        return next((t for t in self.pricing if t.id == term_id), None)

    def parameter(self, parameter_id: str) -> Parameter | None:
        return next((p for p in self.parameters if p.id == parameter_id), None)

    def table(self, table_id: str) -> Table | None:
        return next((t for t in self.tables if t.id == table_id), None)
