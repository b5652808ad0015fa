"""Roles: who may do what to an agreement's shared record.

    authorise(user, action, parties, statement=None, *, target=None) -> Refusal | None

The rules (docs/record.md, "Roles"):

* Every user belongs to one party and has one role. A ``customer`` user must belong to the
  agreement's customer party and a ``supplier`` user to its supplier party: **nobody acts for the
  other party**, so a user whose role and party disagree, or whose party is not in the agreement,
  is refused everything.
* An ``auditor`` only reads, verifies and exports.
* Either party may register an agreement version, ingest measurements, propose a settlement (the
  first revision of a period's statement), revise it, propose and approve amendments and record
  decisions: all of these are later checked by the other party's signature or approval.
* Signing: either party may sign first; a party signs a revision once; nothing is signed while a
  dispute of it is open, and a final statement is not signed again (it is revised instead).
* Disputing: a party that has not signed the current revision may dispute one of its lines until
  it is final. Resolving: either party, while a dispute is open (each signs the resolution once;
  the store refuses a second one).
* Adding a user: a party adds users of its own party with its own role; either party may add an
  auditor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vested.core.signoff import Parties, SignoffState

ROLES = ("customer", "supplier", "auditor")
ACTIONS = ("register-agreement", "add-user", "ingest", "propose", "sign", "dispute", "resolve", "revise",
           "propose-amendment", "approve-amendment", "record-decision", "read", "verify", "export")
READ_ONLY = frozenset({"read", "verify", "export"})
STATEMENT_ACTIONS = frozenset({"propose", "sign", "dispute", "resolve", "revise"})


@dataclass(frozen=True)
class Member:
    """A user as the rules see them: who, of which party, in which role."""

    id: str
    party: str
    role: str


@dataclass(frozen=True)
class Refusal:
    """Why ``user`` may not do ``action``."""

    user: str
    action: str
    reason: str

    @property
    def message(self) -> str:
        return f"{self.user} may not {self.action}: {self.reason}"


def authorise(user: Member, action: str, parties: Parties, statement: SignoffState | None = None, *,
              target: Member | None = None) -> Refusal | None:
    """None when ``user`` may do ``action`` on the agreement of ``parties``; else the :class:`Refusal`.

    ``statement``: the state of the period's statement, for the statement actions (None: not proposed).
    ``target``: the user being added, for ``add-user``.
    """

    def refuse(reason: str) -> Refusal:
        return Refusal(user.id, action, reason)

    if action not in ACTIONS:
        return refuse(f"unknown action; known: {', '.join(ACTIONS)}")
    if user.role not in ROLES:
        return refuse(f"unknown role {user.role!r}; known: {', '.join(ROLES)}")
    if user.role != "auditor":
        own = parties.customer if user.role == "customer" else parties.supplier
        if user.party != own:
            other = " (the other party)" if user.party in parties else ""
            return refuse(f"a {user.role} user acts for party {own}, but {user.id} belongs to {user.party}{other}")
    if action in READ_ONLY:
        return None
    if user.role == "auditor":
        return refuse("an auditor may only read, verify and export")
    if action == "add-user":
        return _add_user(user, target, refuse)
    if action in STATEMENT_ACTIONS:
        return _statement_action(user, action, statement, refuse)
    return None


def _add_user(user: Member, target: Member | None, refuse: Callable[[str], Refusal]) -> Refusal | None:
    if target is None:
        return refuse("say which user is added")
    if target.role == "auditor":
        return None
    if target.party != user.party or target.role != user.role:
        return refuse(f"a party adds only its own users; {target.id} would be a {target.role} of {target.party}")
    return None


def _statement_action(user: Member, action: str, statement: SignoffState | None, refuse: Callable[[str], Refusal]) -> Refusal | None:
    if action == "propose":
        return refuse(f"revision {statement.revision} is already proposed; revise it") if statement is not None else None
    if statement is None:
        return refuse("no statement of this period is proposed")
    if action == "revise":
        return None
    if action == "resolve":
        return None if statement.open_disputes else refuse(f"revision {statement.revision} has no open dispute")
    if statement.is_final:
        return refuse(f"revision {statement.revision} is final; a change is a new revision")
    if user.party in statement.signed_by:
        return refuse(f"{user.party} has already signed revision {statement.revision}")
    if action == "sign" and statement.open_disputes:
        return refuse(f"revision {statement.revision} has an open dispute; resolve it first")
    return None
