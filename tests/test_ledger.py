"""The ledger's hash chain: each entry's hash is SHA-256 of its six fields' canonical JSON, and any change breaks it.

Expected hashes are computed here with hashlib and json directly, following docs/record.md, not
with the module under test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from vested.core.ledger import GENESIS_HASH, KINDS, ChainBreak, Entry, LedgerError, entry_hash, next_entry, verify_chain

AT = "2025-07-01T09:30:00.000000+00:00"


def by_hand(seq: int, prev: str, kind: str, payload: dict[str, object], actor: str, at: str) -> str:
    text = json.dumps({"seq": seq, "prev_hash": prev, "kind": kind, "payload": payload, "actor": actor, "at": at},
                      indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain(n: int) -> list[Entry]:
    entries: list[Entry] = []
    for i in range(n):
        entries.append(next_entry(entries[-1] if entries else None, "decision-recorded", {"n": i, "note": "é"}, "ann", AT))
    return entries


def test_the_first_entry_follows_the_genesis_hash_and_hashes_as_documented() -> None:
    entry = next_entry(None, "agreement-registered", {"agreement_id": "a", "version_hash": "ab" * 32}, "ann", AT)
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)
    assert GENESIS_HASH == "0" * 64
    assert entry.hash == by_hand(1, "0" * 64, "agreement-registered", {"agreement_id": "a", "version_hash": "ab" * 32}, "ann", AT)
    assert entry.hash == entry_hash(1, GENESIS_HASH, entry.kind, entry.payload, "ann", AT)


def test_each_entry_names_the_hash_of_the_one_before() -> None:
    entries = chain(3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert entries[2].hash == by_hand(3, entries[1].hash, "decision-recorded", {"n": 2, "note": "é"}, "ann", AT)
    assert verify_chain(entries) is None
    assert verify_chain([]) is None


def test_payload_is_stored_as_canonical_data() -> None:
    entry = next_entry(None, "decision-recorded", {"amount": Decimal("1.50"), "day": datetime(2025, 6, 1, tzinfo=UTC)}, "ann", AT)
    assert entry.payload == {"amount": "1.50", "day": "2025-06-01T00:00:00+00:00"}
    with pytest.raises(TypeError):
        next_entry(None, "decision-recorded", {"ratio": 0.5}, "ann", AT)


def test_instants_are_utc_with_microseconds() -> None:
    local = datetime(2025, 7, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    assert next_entry(None, "decision-recorded", {}, "ann", local).at == AT
    for bad in ["2025-07-01T09:30:00+00:00", "2025-07-01T09:30:00.000000Z", "2025-07-01T11:30:00.000000+02:00"]:
        with pytest.raises(LedgerError, match="UTC with microseconds"):
            next_entry(None, "decision-recorded", {}, "ann", bad)
    with pytest.raises(LedgerError, match="no time zone"):
        next_entry(None, "decision-recorded", {}, "ann", datetime(2025, 7, 1))


def test_unknown_kind_and_missing_actor_are_refused() -> None:
    with pytest.raises(LedgerError, match="unknown ledger entry kind 'statement-deleted'"):
        next_entry(None, "statement-deleted", {}, "ann", AT)
    with pytest.raises(LedgerError, match="actor"):
        next_entry(None, "decision-recorded", {}, "", AT)
    assert len(KINDS) == 12 and "statement-revised" in KINDS


def test_a_changed_payload_breaks_its_own_hash() -> None:
    entries = chain(4)
    entries[2] = dataclasses.replace(entries[2], payload={"n": 99, "note": "é"})
    found = verify_chain(entries)
    assert found == ChainBreak(3, "hash", by_hand(3, entries[1].hash, "decision-recorded", {"n": 99, "note": "é"}, "ann", AT),
                               entries[2].hash)
    assert "ledger entry 3: own hash" in found.message


def test_a_rehashed_entry_breaks_the_next_ones_link() -> None:
    entries = chain(4)
    old = entries[1]
    forged = next_entry(entries[0], "decision-recorded", {"n": 1, "note": "forged"}, "ann", AT)
    entries[1] = forged
    assert verify_chain(entries) == ChainBreak(3, "prev-hash", forged.hash, old.hash)


def test_a_gap_and_a_reorder_are_found_at_their_place() -> None:
    entries = chain(5)
    assert verify_chain([*entries[:2], *entries[3:]]) == ChainBreak(4, "seq", "3", "4")
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    assert verify_chain(swapped) == ChainBreak(3, "seq", "2", "3")
    assert verify_chain(entries[1:]) == ChainBreak(2, "seq", "1", "2")
    assert verify_chain([entries[0], entries[0]]) == ChainBreak(1, "seq", "2", "1")


def test_changing_any_field_changes_the_hash() -> None:
    entry = chain(1)[0]
    for field, value in [("actor", "bob"), ("at", "2025-07-01T09:30:00.000001+00:00"), ("kind", "user-added")]:
        changed = dataclasses.replace(entry, **{field: value})
        assert verify_chain([changed]) == ChainBreak(1, "hash",
                                                     entry_hash(1, GENESIS_HASH, changed.kind, changed.payload, changed.actor,
                                                                changed.at), entry.hash)


def test_docs_name_every_kind_and_the_genesis_hash() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "record.md").read_text(encoding="utf-8")
    assert [kind for kind in sorted(KINDS) if f"`{kind}`" not in doc] == []
    assert "64 zeros" in doc and '{"seq", "prev_hash", "kind", "payload", "actor", "at"}' in doc
