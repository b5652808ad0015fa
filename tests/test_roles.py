"""Who may do what: every action × every role, from tables written from the rules in docs/record.md."""

from __future__ import annotations

import pytest

from vested.core.roles import ACTIONS, ROLES, Member, authorise
from vested.core.signoff import Disputed, Parties, Proposed, Signed, statement_status

P = Parties(customer="buyer", supplier="seller")
CUSTOMER = Member("ann", "buyer", "customer")
SUPPLIER = Member("sam", "seller", "supplier")
AUDITOR = Member("aud", "audit-co", "auditor")
USERS = {"customer": CUSTOMER, "supplier": SUPPLIER, "auditor": AUDITOR}

PROPOSED = statement_status([Proposed(1, "h", "seller")], P)
DISPUTED = statement_status([Proposed(1, "h", "seller"), Disputed(2, 1, "buyer", "ann", 0, "why")], P)
CONTEXT = {"propose": None, "sign": PROPOSED, "dispute": PROPOSED, "revise": PROPOSED, "resolve": DISPUTED}
"""The statement each statement action is tried on: one where the rules allow it to a party."""

Y, N = True, False
ALLOWED = {  # action: (customer, supplier, auditor)
    "register-agreement": (Y, Y, N),
    "add-user": (Y, Y, N),  # adding a user of one's own party
    "ingest": (Y, Y, N),
    "propose": (Y, Y, N),
    "sign": (Y, Y, N),
    "dispute": (Y, Y, N),
    "resolve": (Y, Y, N),
    "revise": (Y, Y, N),
    "propose-amendment": (Y, Y, N),
    "approve-amendment": (Y, Y, N),
    "record-decision": (Y, Y, N),
    "read": (Y, Y, Y),
    "verify": (Y, Y, Y),
    "export": (Y, Y, Y),
}


def test_the_table_covers_every_action_and_role() -> None:
    assert set(ALLOWED) == set(ACTIONS) and ROLES == ("customer", "supplier", "auditor")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_every_action_by_every_role(role: str, action: str) -> None:
    user = USERS[role]
    target = Member("new", user.party, user.role) if action == "add-user" else None
    refusal = authorise(user, action, P, CONTEXT.get(action), target=target)
    expected = ALLOWED[action][ROLES.index(role)]
    assert (refusal is None) == expected, refusal.message if refusal else "allowed"
    if refusal is not None:
        assert "auditor may only read, verify and export" in refusal.message


@pytest.mark.parametrize("action", ACTIONS)
def test_nobody_acts_for_the_other_party(action: str) -> None:
    """A customer-role user of the supplier's party, or of no party of the agreement, may do nothing at all."""
    for impostor in (Member("eve", "seller", "customer"), Member("mal", "buyer", "supplier"), Member("out", "other-co", "customer")):
        refusal = authorise(impostor, action, P, CONTEXT.get(action), target=Member("new", impostor.party, impostor.role))
        assert refusal is not None and "acts for party" in refusal.reason


def test_the_other_party_is_named_when_a_user_tries_to_act_for_it() -> None:
    refusal = authorise(Member("eve", "seller", "customer"), "sign", P, PROPOSED)
    assert refusal is not None
    assert refusal.message == "eve may not sign: a customer user acts for party buyer, but eve belongs to seller (the other party)"


S = {
    "none": None,
    "proposed": PROPOSED,
    "signed by me": statement_status([Proposed(1, "h", "seller"), Signed(1, "buyer", "ann")], P),
    "signed by them": statement_status([Proposed(1, "h", "seller"), Signed(1, "seller", "sam")], P),
    "disputed": DISPUTED,
    "final": statement_status([Proposed(1, "h", "seller"), Signed(1, "buyer", "ann"), Signed(1, "seller", "sam")], P),
}
STATES = tuple(S)
BY_STATE = {  # the customer's statement actions in each state: none, proposed, signed by me, signed by them, disputed, final
    "propose": (Y, N, N, N, N, N),  # only the first revision is proposed; later ones are revisions
    "sign": (N, Y, N, Y, N, N),  # once per party; never while disputed; a final statement is revised, not signed
    "dispute": (N, Y, N, Y, Y, N),  # by a party that has not signed; more than one dispute may be open
    "resolve": (N, N, N, N, Y, N),  # only while a dispute is open
    "revise": (N, Y, Y, Y, Y, Y),  # any proposed statement, a final one too (re-settled, needing both signatures)
}


@pytest.mark.parametrize("action", list(BY_STATE))
@pytest.mark.parametrize("state", STATES)
def test_statement_actions_by_the_statements_state(action: str, state: str) -> None:
    refusal = authorise(CUSTOMER, action, P, S[state])
    assert (refusal is None) == BY_STATE[action][STATES.index(state)], refusal.message if refusal else "allowed"


def test_refusals_say_why() -> None:
    assert authorise(CUSTOMER, "sign", P, S["signed by me"]).reason == "buyer has already signed revision 1"  # type: ignore[union-attr]
    assert "open dispute" in authorise(SUPPLIER, "sign", P, DISPUTED).reason  # type: ignore[union-attr]
    assert "is final" in authorise(SUPPLIER, "sign", P, S["final"]).reason  # type: ignore[union-attr]
    assert "already proposed; revise it" in authorise(SUPPLIER, "propose", P, PROPOSED).reason  # type: ignore[union-attr]
    assert "unknown action" in authorise(SUPPLIER, "delete", P).reason  # type: ignore[union-attr]
    assert "unknown role" in authorise(Member("x", "buyer", "admin"), "read", P).reason  # type: ignore[union-attr]


def test_a_party_adds_its_own_users_and_either_adds_an_auditor() -> None:
    assert authorise(CUSTOMER, "add-user", P, target=Member("abe", "buyer", "customer")) is None
    assert authorise(SUPPLIER, "add-user", P, target=Member("aud2", "audit-co", "auditor")) is None
    assert authorise(CUSTOMER, "add-user", P, target=Member("sid", "seller", "supplier")) is not None
    assert authorise(CUSTOMER, "add-user", P, target=Member("odd", "buyer", "supplier")) is not None
    assert authorise(CUSTOMER, "add-user", P) is not None
    assert authorise(AUDITOR, "add-user", P, target=Member("aud3", "audit-co", "auditor")) is not None


def test_docs_name_every_role_and_action() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "record.md").read_text(encoding="utf-8")
    assert [name for name in (*ROLES, *ACTIONS) if f"`{name}`" not in doc] == []
