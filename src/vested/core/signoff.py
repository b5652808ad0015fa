"""Sign-off: the lifecycle of one period's statement, computed from its events.

    statement_status(events, parties) -> SignoffState | None
    signing_payload(agreement_id, period, revision, ...) -> bytes   (what a signature signs)

The rules (docs/record.md, "Sign-off"):

* A statement is **proposed** (revision 1). A new revision (``Proposed`` with a higher number and a
  reason) **supersedes** the previous one: signatures and disputes of an older revision no longer
  count, and the new revision needs both signatures again.
* Each of the two parties signs a revision at most once. After one signature the revision is
  **partly-signed**; it is **final** when the customer party and the supplier party have both
  signed the *same* revision and no dispute of it is open.
* Either party may **dispute** a line of a revision (its index or its label, with a comment); the
  revision is **disputed** while any of its disputes is open, and a dispute is closed only when
  *both* parties have signed its resolution.

The status is a function of the events alone, so every reader (the store, a verifier of an export
bundle, the web app) computes the same one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vested.core.canonical import canonical_text

STATUSES = ("proposed", "partly-signed", "disputed", "final")


@dataclass(frozen=True)
class Parties:
    """The two parties of an agreement whose signatures make a statement final (party ids)."""

    customer: str
    supplier: str

    def __contains__(self, party: object) -> bool:
        return party in (self.customer, self.supplier)


@dataclass(frozen=True)
class Proposed:
    """A revision of the statement: 1 when first proposed, each later one supersedes the one before."""

    revision: int
    statement_hash: str
    party: str
    reason: str | None = None


@dataclass(frozen=True)
class Signed:
    revision: int
    party: str
    user: str


@dataclass(frozen=True)
class Disputed:
    """A party disputes one line (its index or its label); ``dispute`` is the dispute's id (its ledger seq)."""

    dispute: int
    revision: int
    party: str
    user: str
    line: int | str
    comment: str


@dataclass(frozen=True)
class Resolved:
    """One party signs the resolution of a dispute; it is closed when both parties have."""

    dispute: int
    party: str
    user: str
    comment: str


Event = Proposed | Signed | Disputed | Resolved


@dataclass(frozen=True)
class Dispute:
    id: int
    revision: int
    party: str
    line: int | str
    comment: str
    resolved_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SignoffState:
    """Where a statement is: its current revision, its status, who signed it, its open disputes."""

    revision: int
    status: str
    signed_by: frozenset[str]
    """The parties that signed the current revision."""
    open_disputes: tuple[Dispute, ...]
    superseded: tuple[int, ...]
    """Earlier revisions, each superseded by the one after it."""
    statement_hash: str

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    def awaiting(self, parties: Parties) -> tuple[str, ...]:
        """The parties whose signature the current revision still needs."""
        return tuple(p for p in (parties.customer, parties.supplier) if p not in self.signed_by)


def statement_status(events: Iterable[Event], parties: Parties) -> SignoffState | None:
    """The state of a statement after ``events`` (in ledger order); None when it was never proposed.

    Events of a revision other than the current one, and signatures or resolutions of anyone but the
    two parties, do not count (the store refuses to record them; a verifier may still meet them).
    """
    current: Proposed | None = None
    superseded: list[int] = []
    signed: set[str] = set()
    disputes: dict[int, Dispute] = {}
    for event in events:
        if isinstance(event, Proposed):
            if current is not None:
                if event.revision <= current.revision:
                    continue  # an older or repeated revision never replaces a newer one
                superseded.append(current.revision)
            current, signed, disputes = event, set(), {}
        elif current is None:
            continue
        elif isinstance(event, Signed):
            if event.revision == current.revision and event.party in parties:
                signed.add(event.party)
        elif isinstance(event, Disputed):
            if event.revision == current.revision and event.party in parties:
                disputes[event.dispute] = Dispute(event.dispute, event.revision, event.party, event.line, event.comment)
        elif event.dispute in disputes and event.party in parties:
            old = disputes[event.dispute]
            disputes[event.dispute] = Dispute(old.id, old.revision, old.party, old.line, old.comment,
                                              old.resolved_by | {event.party})
    if current is None:
        return None
    open_disputes = tuple(d for d in disputes.values() if not {parties.customer, parties.supplier} <= d.resolved_by)
    both = {parties.customer, parties.supplier} <= signed
    status = "disputed" if open_disputes else "final" if both else "partly-signed" if signed else "proposed"
    return SignoffState(current.revision, status, frozenset(signed), open_disputes, tuple(superseded), current.statement_hash)


def signing_payload(agreement_id: str, period: str, revision: int, statement_hash: str, agreement_hash: str,
                    inputs_hash: str, signer: str) -> bytes:
    """The exact bytes a statement signature signs: canonical text of these fields (UTF-8).

    ``purpose`` keeps a statement signature from being replayed as a signature of anything else.
    """
    return canonical_text({
        "purpose": "vested statement signature", "agreement_id": agreement_id, "period": period, "revision": revision,
        "statement_hash": statement_hash, "agreement_hash": agreement_hash, "inputs_hash": inputs_hash, "signer": signer,
    }).encode("utf-8")
