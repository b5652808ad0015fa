"""The sign-off lifecycle, computed from events: proposed → partly-signed → final; disputes; revisions."""

from __future__ import annotations

import json

from vested.core.signoff import Disputed, Parties, Proposed, Resolved, Signed, signing_payload, statement_status

P = Parties(customer="buyer", supplier="seller")
R1 = Proposed(1, "h1", "seller")
R2 = Proposed(2, "h2", "seller", "late tickets")


def test_nothing_proposed_has_no_status() -> None:
    assert statement_status([], P) is None
    assert statement_status([Signed(1, "buyer", "ann")], P) is None


def test_proposed_then_one_signature_then_both_is_final() -> None:
    state = statement_status([R1], P)
    assert state is not None and (state.status, state.signed_by, state.revision) == ("proposed", frozenset(), 1)
    state = statement_status([R1, Signed(1, "seller", "sam")], P)
    assert state is not None and (state.status, state.signed_by) == ("partly-signed", frozenset({"seller"}))
    assert state.awaiting(P) == ("buyer",)
    state = statement_status([R1, Signed(1, "seller", "sam"), Signed(1, "buyer", "ann")], P)
    assert state is not None and state.status == "final" and state.is_final and state.awaiting(P) == ()


def test_two_signatures_of_one_party_are_not_final() -> None:
    state = statement_status([R1, Signed(1, "buyer", "ann"), Signed(1, "buyer", "abe")], P)
    assert state is not None and state.status == "partly-signed"


def test_a_stranger_signature_does_not_count() -> None:
    state = statement_status([R1, Signed(1, "buyer", "ann"), Signed(1, "auditor-co", "aud")], P)
    assert state is not None and state.status == "partly-signed" and state.signed_by == frozenset({"buyer"})


def test_signatures_of_different_revisions_are_not_final() -> None:
    state = statement_status([R1, Signed(1, "buyer", "ann"), R2, Signed(2, "seller", "sam")], P)
    assert state is not None
    assert (state.revision, state.status, state.signed_by, state.superseded) == (2, "partly-signed", frozenset({"seller"}), (1,))
    assert state.statement_hash == "h2"


def test_a_new_revision_supersedes_a_final_one_and_needs_both_signatures_again() -> None:
    events = [R1, Signed(1, "buyer", "ann"), Signed(1, "seller", "sam"), R2]
    state = statement_status(events, P)
    assert state is not None and (state.status, state.revision, state.signed_by) == ("proposed", 2, frozenset())
    state = statement_status([*events, Signed(2, "seller", "sam"), Signed(2, "buyer", "ann")], P)
    assert state is not None and state.status == "final"


def test_a_late_signature_of_the_old_revision_does_not_count() -> None:
    state = statement_status([R1, R2, Signed(1, "buyer", "ann")], P)
    assert state is not None and state.signed_by == frozenset()


def test_a_dispute_stays_open_until_both_parties_sign_the_resolution() -> None:
    disputed = [R1, Signed(1, "seller", "sam"), Disputed(3, 1, "buyer", "ann", "availability credit", "outage was planned")]
    state = statement_status(disputed, P)
    assert state is not None and state.status == "disputed"
    assert [(d.id, d.line, d.party) for d in state.open_disputes] == [(3, "availability credit", "buyer")]
    half = statement_status([*disputed, Resolved(3, "buyer", "ann", "agreed: planned")], P)
    assert half is not None and half.status == "disputed" and half.open_disputes[0].resolved_by == frozenset({"buyer"})
    both = [*disputed, Resolved(3, "buyer", "ann", "agreed"), Resolved(3, "seller", "sam", "agreed")]
    state = statement_status(both, P)
    assert state is not None and (state.status, state.open_disputes) == ("partly-signed", ())
    state = statement_status([*both, Signed(1, "buyer", "ann")], P)
    assert state is not None and state.status == "final"


def test_a_disputed_revision_with_both_signatures_is_not_final() -> None:
    events = [R1, Signed(1, "seller", "sam"), Disputed(3, 1, "buyer", "ann", 0, "why"), Signed(1, "buyer", "ann")]
    state = statement_status(events, P)
    assert state is not None and state.status == "disputed"


def test_a_new_revision_leaves_the_old_revisions_disputes_behind() -> None:
    events = [R1, Disputed(2, 1, "buyer", "ann", 4, "wrong"), R2]
    state = statement_status(events, P)
    assert state is not None and (state.status, state.open_disputes) == ("proposed", ())


def test_an_older_revision_never_replaces_a_newer_one() -> None:
    state = statement_status([R1, R2, R1], P)
    assert state is not None and state.revision == 2


def test_signing_payload_is_canonical_text_of_exactly_these_fields() -> None:
    data = signing_payload("a", "2025-06", 2, "s" * 64, "g" * 64, "i" * 64, "ann")
    assert json.loads(data) == {"purpose": "vested statement signature", "agreement_id": "a", "period": "2025-06", "revision": 2,
                                "statement_hash": "s" * 64, "agreement_hash": "g" * 64, "inputs_hash": "i" * 64, "signer": "ann"}
    assert data == (json.dumps(json.loads(data), indent=2, sort_keys=True) + "\n").encode()
    assert signing_payload("a", "2025-06", 2, "s" * 64, "g" * 64, "i" * 64, "bob") != data
