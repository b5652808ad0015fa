"""The demo's last act: both parties sign the Vested statements off, one line is disputed and resolved,
and the record verifies.

    sign_off_story(workdir, agreement_path, agreement, months, clock) -> RecordStory

Told with the same services the CLI calls (``vested user add``, ``sign``, ``dispute``, ``resolve``,
``verify``): a customer user, a supplier user and an auditor, each with a key pair in
``<workdir>/keys/`` (0600); every month signed by both parties; the supplier disputes the
availability credit of one month, both parties sign the resolution, then both sign the month.
Run again in the same folder, nothing is added twice (users, signatures and the dispute are
found in the record and kept).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.services import record, signoff
from vested.services.result import Result
from vested.services.workspace import Workspace, open_workspace
from vested.storage.record import VerifyResult

DISPUTED_MONTH = "2025-03"
DISPUTE = "the outage on the 12th was planned maintenance, announced a week ahead"
RESOLUTION = "agreed: planned maintenance announced ahead is not downtime; the credit stands as measured"


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    role: str
    party: str
    key_file: str


@dataclass(frozen=True)
class RecordStory:
    store: str
    """Where the record is (the SQLite file)."""
    users: tuple[DemoUser, ...]
    final: tuple[str, ...]
    """The months both parties signed."""
    dispute: str
    """The dispute raised and resolved, in words."""
    verified: VerifyResult | None
    problems: tuple[Diagnostic, ...]


def sign_off_story(workdir: Path, agreement_path: Path, agreement: Agreement, months: tuple[str, ...],
                   clock: Callable[[], datetime]) -> RecordStory:
    customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
    assert customer is not None and supplier is not None
    root = workdir / agreement.id
    keys = workdir / "keys"
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    people = (DemoUser("ana", "Ana Ortiz (Acme, vendor management)", "customer", customer.id, str(keys / "ana.key")),
              DemoUser("sam", "Sam Patel (DeskCo, account manager)", "supplier", supplier.id, str(keys / "sam.key")),
              DemoUser("audrey", "Audrey Lin (external auditor)", "auditor", customer.id, str(keys / "audrey.key")))
    problems: list[Diagnostic] = []

    def keep(result: Result[Any]) -> bool:
        problems.extend(d for d in result.diagnostics if d.is_error)
        return result.ok

    def ws(user: str) -> Workspace:
        return open_workspace(root, actor=user, clock=clock)

    known = {u.user_id for u in signoff.list_users(ws("ana")).value or ()}
    for person in people:
        if person.user_id not in known:
            keep(signoff.add_user(ws("ana"), agreement_path, person.user_id, person.name, person.party, person.role,
                                  person.key_file))
    final = []
    for month in months:
        state = signoff.status(ws("ana"), agreement_path, month).value
        if state is None:
            continue
        if month == DISPUTED_MONTH and state.state.status != "final" and not state.state.signed_by:
            line = next((label for label in signoff.status_lines(state) if "availability" in label), "1")
            disputed = signoff.dispute(ws("sam"), agreement_path, month, line, DISPUTE)
            if keep(disputed) and disputed.value is not None:
                [opened] = disputed.value.state.open_disputes
                for user in ("sam", "ana"):
                    keep(signoff.resolve(ws(user), agreement_path, month, opened.id, RESOLUTION))
        for user, party in (("ana", customer.id), ("sam", supplier.id)):
            current = signoff.status(ws(user), agreement_path, month).value
            if current is not None and party not in current.state.signed_by:
                keep(signoff.sign(ws(user), agreement_path, month, keys / f"{user}.key"))
        done = signoff.status(ws("ana"), agreement_path, month).value
        if done is not None and done.state.is_final:
            final.append(month)
    verified = record.verify(ws("audrey"))
    keep(verified)
    return RecordStory(str(root / "vested.db"), people, tuple(final),
                       f"{DISPUTED_MONTH}, line 'availability credits', by {supplier.id}: {DISPUTE}; resolved by both",
                       verified.value, tuple(problems))
