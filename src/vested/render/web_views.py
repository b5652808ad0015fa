"""The web app's view-models (portfolio, statement, ledger) and their one JSON form each.

Built by ``vested.services.views`` from the record; rendered as HTML by the web face's Jinja
templates and as JSON by the functions below (through ``vested.render.serialize``), so a page and
its ``.json`` twin always hold the same data. Nothing here reads the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vested.render.serialize import to_jsonable


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a user of the record, of one party, in one role."""

    user_id: str
    name: str
    party: str
    role: str


@dataclass(frozen=True)
class DisputeView:
    id: int
    revision: int
    party: str
    user: str
    line: str
    """The disputed line as people read it: ``3 (Availability credits)``."""
    comment: str
    resolved_by: tuple[str, ...]
    open: bool
    period: str = ""


@dataclass(frozen=True)
class PeriodRow:
    period: str
    revision: int
    status: str
    signed_by: tuple[str, ...]
    awaiting: tuple[str, ...]
    open_disputes: int


@dataclass(frozen=True)
class AgreementCard:
    """One agreement of the portfolio, as the viewer's party sees it."""

    agreement_id: str
    title: str
    customer: str
    supplier: str
    versions: tuple[str, ...]
    """The registered versions' hashes, oldest first."""
    periods: tuple[PeriodRow, ...]
    last_settled: str | None
    last_final: str | None
    awaiting_you: tuple[str, ...]
    """The periods waiting for the viewer's party's signature (empty for an auditor)."""
    open_disputes: tuple[DisputeView, ...]


@dataclass(frozen=True)
class Portfolio:
    viewer: Viewer
    agreements: tuple[AgreementCard, ...]


@dataclass(frozen=True)
class LineView:
    number: int
    term_id: str
    label: str
    payer: str
    payee: str
    amount: str
    """Exact, as the statement records it (a decimal string)."""
    amount_text: str
    """As people read it: thousands separators, the agreement's places."""
    formula: str
    calculation: str
    notes: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SignatureView:
    revision: int
    signer: str
    party: str
    seq: int


@dataclass(frozen=True)
class StatementPage:
    """One revision of a period's statement, its sign-off, and what the viewer may do to it."""

    viewer: Viewer
    agreement_id: str
    title: str
    period: str
    revision: int
    current_revision: int
    revisions: tuple[int, ...]
    currency: str
    names: dict[str, str]
    lines: tuple[LineView, ...]
    net_text: tuple[str, ...]
    rounding: str
    status: str
    """The current revision's status (``proposed``, ``partly-signed``, ``disputed``, ``final``), or ``superseded``."""
    signed_by: tuple[str, ...]
    awaiting: tuple[str, ...]
    disputes: tuple[DisputeView, ...]
    signatures: tuple[SignatureView, ...]
    statement_hash: str
    agreement_hash: str
    inputs_hash: str
    proposed_by: str
    reason: str | None
    may: dict[str, bool] = field(default_factory=dict)
    """sign, dispute, resolve: what the rules let the viewer do now (the services check again when they do it)."""
    refusals: dict[str, str] = field(default_factory=dict)
    """Why not, for each action the viewer may not do."""
    resolvable: tuple[int, ...] = ()
    """The open disputes the viewer's party has not yet signed the resolution of."""
    statement: dict[str, Any] = field(default_factory=dict)
    """The statement as recorded (its ``statement`` section), for the JSON twin."""


@dataclass(frozen=True)
class EntryRow:
    seq: int
    kind: str
    actor: str
    at: str
    hash: str
    prev_hash: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class VerifyView:
    ok: bool
    entries: int
    head: str | None
    files: int
    signatures: int
    first_break: str | None


@dataclass(frozen=True)
class LedgerPage:
    viewer: Viewer
    entries: tuple[EntryRow, ...]
    after: int
    limit: int
    total: int
    next_after: int | None
    """Where the next page starts (None on the last page)."""
    previous_after: int | None
    verified: VerifyView | None


def viewer_json(viewer: Viewer) -> dict[str, Any]:
    return to_jsonable(viewer)  # type: ignore[no-any-return]


def portfolio_json(view: Portfolio) -> dict[str, Any]:
    return {"viewer": viewer_json(view.viewer), "agreements": to_jsonable(view.agreements)}


def statement_page_json(page: StatementPage) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(page)
    data["viewer"] = viewer_json(page.viewer)
    return data


def ledger_json(page: LedgerPage) -> dict[str, Any]:
    return to_jsonable(page)  # type: ignore[no-any-return]
