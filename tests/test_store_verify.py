"""Verify finds one changed byte in each kind of place, and passes an untouched store; bundles verify offline.

Each test builds a small record (agreement, users, a batch, a signed and disputed statement, an
amendment, a decision), changes one byte somewhere with plain SQL or a file write, as someone
with access to the database or the files folder could, and expects the break at that place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_store import AT, World, store_url, world  # noqa: F401 - the fixtures, shared
from vested.core.canonical import canonical_text, text_hash
from vested.core.ledger import entry_hash
from vested.storage.record import export_bundle, verify_bundle, verify_store
from vested.storage.record.records import StoreError

MANIFEST = {"rows": 2, "source": "tickets-june.csv", "columns": {"opened_at": "timestamp"}}


@pytest.fixture
def record(world: World, tmp_path: Path) -> Iterator[World]:  # noqa: F811 - the fixture imported above
    store = world.store
    data = tmp_path / "june.parquet"
    data.write_bytes(b"PAR1" + bytes(range(200)) + b"PAR1")
    store.register_batch("tickets", "june", MANIFEST, data, "sam", AT)  # seq 6
    world.propose('{"lines": [{"label": "fee", "amount": "100.00"}]}\n')  # seq 7
    world.sign("sam")  # seq 8
    store.add_dispute("helpdesk", "2025-06", 1, "ann", "fee", "too high", AT)  # seq 9
    amendment = store.propose_amendment("helpdesk", world.version, "vested: 1\nid: helpdesk\n", "simpler", "ann", AT)  # 10
    store.approve_amendment(amendment, "sam", AT)  # 11
    store.record_decision("helpdesk", {"what": "keep the fee"}, "ann", AT)  # 12
    yield world


def flip(value: str, at: int | None = None) -> str:
    """``value`` with one character changed (its lowest bit flipped)."""
    i = len(value) // 2 if at is None else at
    return value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1:]


def tamper(record: World, table: str, column: str, seq: int, at: int | None = None) -> None:
    with record.store.engine.begin() as connection:
        old = connection.execute(text(f"SELECT {column} FROM {table} WHERE seq = :seq"), {"seq": seq}).scalar_one()
        connection.execute(text(f"UPDATE {table} SET {column} = :new WHERE seq = :seq"), {"new": flip(old, at), "seq": seq})


def test_an_untouched_store_verifies(record: World) -> None:
    result = verify_store(record.store, record.files)
    assert result.ok, result.first_break
    head = record.store.head()
    assert head is not None
    assert (result.entries, result.head, result.files, result.signatures) == (12, head.hash, 1, 1)
    assert verify_store(record.store, record.files, expected_head=head.hash).ok


def test_a_published_head_catches_a_rewritten_or_shortened_history(record: World) -> None:
    result = verify_store(record.store, record.files, expected_head="a" * 64)
    assert result.first_break is not None and result.first_break.where == "ledger head"


@pytest.mark.parametrize("table, column, seq, where", [
    ("users", "name", 2, "users row 2 (name)"),
    ("users", "public_key", 3, "users row 3 (public_key)"),
    ("agreement_versions", "text", 1, "agreement_versions row 1 (version_hash)"),
    ("statements", "text", 7, "statements row 7 (statement_hash)"),
    ("statements", "inputs_hash", 7, "statements row 7 (inputs_hash)"),
    ("batches", "manifest", 6, "batches row 6 (manifest_hash)"),
    ("signatures", "signature", 8, "signatures row 8 (signature)"),
    ("disputes", "comment", 9, "disputes row 9 (comment)"),
    ("amendments", "text", 10, "amendments row 10 (version_hash)"),
    ("decisions", "decision", 12, "decisions row 12 (decision_hash)"),
])
def test_a_changed_byte_in_a_row_is_found_at_its_row(record: World, table: str, column: str, seq: int, where: str) -> None:
    tamper(record, table, column, seq)
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where) == (seq, where), found


def test_a_stored_hash_that_no_longer_matches_its_text_is_found(record: World) -> None:
    tamper(record, "agreement_versions", "version_hash", 1, 0)
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where) == (1, "agreement_versions row 1 (version_hash column)")


def test_a_changed_byte_in_a_batch_file_is_found(record: World) -> None:
    batch = record.store.batches("tickets")[0]
    path = record.files / batch.file
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where) == (6, f"batch file {batch.file}")
    assert found.expected == f"sha256 {batch.sha256}" and found.found.startswith("sha256 ")
    path.unlink()
    found = verify_store(record.store, record.files).first_break
    assert found is not None and found.found == "no file"


def test_a_changed_byte_in_a_ledger_entry_breaks_the_chain_there(record: World) -> None:
    tamper(record, "ledger", "payload", 5)  # the payload of user-added abe
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where) == (5, "ledger (hash)")
    assert "entry 5: ledger (hash)" in found.message


def test_a_changed_entry_hash_is_found_at_the_entry(record: World) -> None:
    tamper(record, "ledger", "hash", 4, 0)
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where) == (4, "ledger (hash)")


def test_a_deleted_row_is_found(record: World) -> None:
    with record.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM decisions WHERE seq = 12"))
    found = verify_store(record.store, record.files).first_break
    assert found is not None and (found.seq, found.where, found.found) == (12, "decisions row", "no row")


def test_a_bundle_verifies_offline_and_holds_the_record(record: World, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    exported = export_bundle(record.store, record.files, path)
    record.store.close()  # no store from here on
    result = verify_bundle(path)
    assert result.ok, result.first_break
    assert (result.entries, result.head, result.signatures) == (12, exported.head, 1)
    document = json.loads(path.read_text(encoding="utf-8"))
    kinds = [e["kind"] for e in document["ledger"]]
    assert kinds[:2] == ["agreement-registered", "user-added"] and len(kinds) == 12
    assert text_hash(canonical_text(MANIFEST)) in document["texts"]
    assert document["ledger"][1]["payload"]["public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def rehash_from(document: dict, index: int) -> None:
    """Recompute every hash from ``index`` on, as a forger rewriting the bundle would."""
    ledger = document["ledger"]
    for i in range(index, len(ledger)):
        e = ledger[i]
        e["prev_hash"] = ledger[i - 1]["hash"] if i else "0" * 64
        e["hash"] = entry_hash(e["seq"], e["prev_hash"], e["kind"], e["payload"], e["actor"], e["at"])
    document["head"] = ledger[-1]["hash"]


def test_a_forged_signature_in_a_rehashed_bundle_is_found(record: World, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    export_bundle(record.store, record.files, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    signed = document["ledger"][7]
    assert signed["kind"] == "statement-signed"
    signed["payload"]["signature"] = flip(signed["payload"]["signature"], 10)
    rehash_from(document, 7)
    path.write_text(json.dumps(document), encoding="utf-8")
    found = verify_bundle(path).first_break
    assert found is not None and (found.seq, found.where) == (8, "signature of sam")


def test_a_changed_text_or_entry_in_a_bundle_is_found(record: World, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    export_bundle(record.store, record.files, path)
    original = json.loads(path.read_text(encoding="utf-8"))
    statement_hash = original["ledger"][6]["payload"]["statement_hash"]
    document = json.loads(json.dumps(original))
    document["texts"][statement_hash] = flip(document["texts"][statement_hash])
    path.write_text(json.dumps(document), encoding="utf-8")
    found = verify_bundle(path).first_break
    assert found is not None and (found.seq, found.where) == (7, "text of statement_hash")
    document = json.loads(json.dumps(original))
    document["ledger"][2]["actor"] = "mallory"
    path.write_text(json.dumps(document), encoding="utf-8")
    found = verify_bundle(path).first_break
    assert found is not None and (found.seq, found.where) == (3, "ledger (hash)")
    document = json.loads(json.dumps(original))
    del document["ledger"][-1]
    path.write_text(json.dumps(document), encoding="utf-8")
    found = verify_bundle(path).first_break
    assert found is not None and found.where == "bundle head"
    path.write_text("not json", encoding="utf-8")
    found = verify_bundle(path).first_break
    assert found is not None and found.expected == "a vested bundle (JSON)"


def test_a_store_that_does_not_verify_is_not_exported(record: World, tmp_path: Path) -> None:
    tamper(record, "users", "name", 2)
    with pytest.raises(StoreError, match="does not verify, so no bundle was written: entry 2"):
        export_bundle(record.store, record.files, tmp_path / "export.json")
    assert not (tmp_path / "export.json").exists()


def test_an_empty_store_verifies(tmp_path: Path) -> None:
    from vested.storage.record import open_store

    with open_store(f"sqlite:///{tmp_path / 'vested.db'}") as store:
        result = verify_store(store)
        assert result.ok and (result.entries, result.head) == (0, None)

