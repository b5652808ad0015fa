"""The shared record for people: users, a statement's sign-off, an agreement's history, a verification.

Each takes the values the record services return and gives a rich renderable or plain JSON data
(through ``vested.render.serialize``); nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from rich.console import Group
from rich.table import Table
from rich.text import Text

from vested.core.signoff import Parties, SignoffState
from vested.render.serialize import to_jsonable


class UserLike(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def role(self) -> str: ...


def users_table(users: Sequence[UserLike]) -> Table:
    table = Table(title="Users of the record")
    for column in ("user", "name", "party", "role"):
        table.add_column(column, overflow="fold")
    for user in users:
        table.add_row(user.user_id, user.name, user.party, user.role)
    return table


def users_json(users: Sequence[UserLike]) -> dict[str, Any]:
    return {"users": [{"user_id": u.user_id, "name": u.name, "party": u.party, "role": u.role} for u in users]}


def signoff_text(agreement_id: str, period: str, state: SignoffState, parties: Parties) -> Text:
    """One paragraph: the revision, its status, who signed, who is awaited, the open disputes."""
    text = Text(f"{agreement_id} {period} revision {state.revision}: {state.status}")
    signed = ", ".join(sorted(state.signed_by)) or "nobody yet"
    text.append(f"; signed by {signed}")
    awaiting = state.awaiting(parties)
    if awaiting and not state.open_disputes:
        text.append(f"; awaiting {', '.join(awaiting)}")
    for d in state.open_disputes:
        line = f"line {d.line + 1}" if isinstance(d.line, int) else f"line {d.line!r}"
        resolved = f" (resolution signed by {', '.join(sorted(d.resolved_by))})" if d.resolved_by else ""
        text.append(f"\n  dispute {d.id} by {d.party} on {line}: {d.comment}{resolved}")
    return text


def signoff_json(agreement_id: str, period: str, state: SignoffState, parties: Parties) -> dict[str, Any]:
    data: dict[str, Any] = {"agreement_id": agreement_id, "period": period, **to_jsonable(state),
                            "awaiting": list(state.awaiting(parties))}
    data["signed_by"] = sorted(state.signed_by)
    return data


class PeriodLike(Protocol):
    @property
    def period(self) -> str: ...
    @property
    def revisions(self) -> Sequence[Any]: ...
    @property
    def signatures(self) -> Sequence[Any]: ...
    @property
    def state(self) -> SignoffState: ...


def history_view(agreement_id: str, periods: Sequence[PeriodLike], entries: int, head: str | None) -> Group:
    table = Table(title=f"History of {agreement_id}: {entries} ledger entries, head {head[:16] if head else '—'}")
    for column, justify in (("period", "left"), ("revision", "right"), ("status", "left"), ("signed by", "left"),
                            ("statement", "left"), ("why this revision", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for p in periods:
        for r in p.revisions:
            current = r.revision == p.state.revision
            signers = sorted({s.party for s in p.signatures if s.revision == r.revision})
            table.add_row(p.period, str(r.revision), p.state.status if current else "superseded",
                          ", ".join(signers) or "—", r.statement_hash[:12], r.reason or "")
    return Group(table)


def history_json(agreement_id: str, periods: Sequence[PeriodLike], entries: int, head: str | None) -> dict[str, Any]:
    return {"agreement_id": agreement_id, "entries": entries, "head": head, "periods": [
        {"period": p.period, "status": p.state.status, "revision": p.state.revision,
         "signed_by": sorted(p.state.signed_by), "open_disputes": to_jsonable(p.state.open_disputes),
         "revisions": [{"revision": r.revision, "statement_hash": r.statement_hash, "agreement_hash": r.agreement_hash,
                        "inputs_hash": r.inputs_hash, "proposed_by": r.party, "reason": r.reason, "seq": r.seq}
                       for r in p.revisions],
         "signatures": [{"revision": s.revision, "signer": s.signer, "party": s.party, "seq": s.seq} for s in p.signatures]}
        for p in periods]}
