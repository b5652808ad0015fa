"""The shared record through the services: every action as every role, exactly the allowed ones succeed;
settling again is a new revision; a statement reproduces from the store alone; verify finds a changed byte.

The table of what each role may do is written here from the rules (docs/record.md, "Roles"), not
from the code: customers and suppliers act for their own party only, an auditor reads, verifies
and exports, and nobody acts for the other party.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import ws
from tests.test_settle import AGREEMENT, TICKETS
from vested.services import record, running, signoff
from vested.services.result import Result

ROLES = {"customer": ("cust", "c"), "supplier": ("supp", "s"), "auditor": ("aud", "c")}
ALLOWED = {  # action -> the roles that may do it
    "ingest": {"customer", "supplier"},
    "settle": {"customer", "supplier"},
    "sign": {"customer", "supplier"},
    "dispute": {"customer", "supplier"},
    "resolve": {"customer", "supplier"},
    "add own user": {"customer", "supplier"},
    "add user of the other party": set(),
    "add auditor": {"customer", "supplier"},
    "history": {"customer", "supplier", "auditor"},
    "verify": {"customer", "supplier", "auditor"},
    "export": {"customer", "supplier", "auditor"},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the desk agreement, its tickets, three users, January and February settled."""
    folder = tmp_path_factory.mktemp("record")
    (folder / "desk.yaml").write_text(AGREEMENT, encoding="utf-8")
    data = folder / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")
    (folder / "later.csv").write_text("ticket_id,opened_at,fixed\n6,2025-04-05T10:00:00Z,true\n", encoding="utf-8")
    project = folder / "project"
    assert running.ingest(ws(project, "setup"), folder / "desk.yaml", "tickets", str(data)).ok
    for user, (party, role, acting) in {"cust": ("c", "customer", "setup"), "supp": ("s", "supplier", "setup"),
                                        "aud": ("c", "auditor", "cust")}.items():
        added = signoff.add_user(ws(project, acting), folder / "desk.yaml", user, user, party, role, folder / f"{user}.key")
        assert added.ok, added.diagnostics
    assert running.settle(ws(project, "cust"), folder / "desk.yaml", ["2025-01", "2025-02"]).ok
    assert signoff.dispute(ws(project, "supp"), folder / "desk.yaml", "2025-02", "1", "the fee is wrong").ok
    return folder


@pytest.fixture
def place(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(built, target)
    return target


def act(folder: Path, role: str, action: str) -> Result[object]:
    user, party = ROLES[role]
    agreement, project, w = folder / "desk.yaml", folder / "project", ws(folder / "project", user)
    if action == "ingest":
        return running.ingest(w, agreement, "tickets", str(folder / "later.csv"))
    if action == "settle":
        return running.settle(w, agreement, ["2025-03"])
    if action == "sign":
        return signoff.sign(w, agreement, "2025-01", folder / f"{user}.key")
    if action == "dispute":
        return signoff.dispute(w, agreement, "2025-01", "1", "not what we agreed")
    if action == "resolve":
        [opened] = signoff.status(w, agreement, "2025-02").value.state.open_disputes  # type: ignore[union-attr]
        return signoff.resolve(w, agreement, "2025-02", opened.id, "settled between us")
    if action == "add own user":
        return signoff.add_user(w, agreement, f"{user}2", "new", party, role, folder / "new.key")
    if action == "add user of the other party":
        other_role, (_, other_party) = next((r, v) for r, v in ROLES.items() if r not in (role, "auditor"))
        return signoff.add_user(w, agreement, "intruder", "new", other_party, other_role, folder / "new.key")
    if action == "add auditor":
        return signoff.add_user(w, agreement, "aud2", "new", "c", "auditor", folder / "new.key")
    if action == "history":
        return record.history(w, agreement)
    if action == "verify":
        return record.verify(w)
    assert action == "export"
    return record.export(ws(project, user), folder / "bundle.json")


def ledger_size(folder: Path) -> int:
    con = sqlite3.connect(folder / "project" / "vested.db")
    try:
        return int(con.execute("SELECT count(*) FROM ledger").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_exactly_the_allowed_actions_succeed(place: Path, role: str, action: str) -> None:
    before = ledger_size(place)
    result = act(place, role, action)
    allowed = role in ALLOWED[action]
    assert result.ok == allowed, (role, action, result.diagnostics)
    if not allowed:
        assert ledger_size(place) == before, "a refused action wrote nothing"
        assert result.errors and result.errors[0].code in {"refused", "key"}
    writes = action not in {"history", "verify", "export"}
    if allowed and writes:
        assert ledger_size(place) > before


def test_a_signature_with_the_other_users_key_is_refused(place: Path) -> None:
    result = signoff.sign(ws(place / "project", "supp"), place / "desk.yaml", "2025-01", place / "cust.key")
    assert not result.ok and "is not supp's signature" in result.errors[0].message


def test_a_statement_is_final_when_both_parties_sign_and_a_party_signs_once(place: Path) -> None:
    agreement, project = place / "desk.yaml", place / "project"
    first = signoff.sign(ws(project, "cust"), agreement, "2025-01", place / "cust.key")
    assert first.ok and first.value is not None and first.value.state.status == "partly-signed"
    again = signoff.sign(ws(project, "cust"), agreement, "2025-01", place / "cust.key")
    assert not again.ok and "already signed" in again.errors[0].message
    both = signoff.sign(ws(project, "supp"), agreement, "2025-01", place / "supp.key")
    assert both.ok and both.value is not None and both.value.state.is_final


def test_a_dispute_is_closed_when_both_sign_its_resolution(place: Path) -> None:
    agreement, project = place / "desk.yaml", place / "project"
    state = signoff.status(ws(project, "cust"), agreement, "2025-02").value
    assert state is not None and state.state.status == "disputed"
    [opened] = state.state.open_disputes
    assert not signoff.sign(ws(project, "cust"), agreement, "2025-02", place / "cust.key").ok  # open dispute
    one = signoff.resolve(ws(project, "supp"), agreement, "2025-02", opened.id, "agreed")
    assert one.value is not None and one.value.state.status == "disputed"
    two = signoff.resolve(ws(project, "cust"), agreement, "2025-02", opened.id, "agreed")
    assert two.value is not None and two.value.state.status == "proposed" and not two.value.state.open_disputes


def test_settling_again_from_other_inputs_is_a_new_revision_and_both_stay_readable(place: Path) -> None:
    agreement, project = place / "desk.yaml", place / "project"
    assert signoff.sign(ws(project, "cust"), agreement, "2025-01", place / "cust.key").ok
    assert signoff.sign(ws(project, "supp"), agreement, "2025-01", place / "supp.key").ok
    changed = place / "late.csv"  # a January ticket that arrived late changes January
    changed.write_text("ticket_id,opened_at,fixed\n9,2025-01-20T10:00:00Z,true\n", encoding="utf-8")
    assert running.ingest(ws(project, "supp"), agreement, "tickets", str(changed)).ok
    refused = running.settle(ws(project, "supp"), agreement, ["2025-01"])
    assert not refused.ok and refused.errors[0].code == "settled"
    assert running.settle(ws(project, "supp"), agreement, ["2025-01", "2025-02"], replace=True).ok
    seen = record.history(ws(project, "aud"), agreement).value
    assert seen is not None
    january = next(p for p in seen.periods if p.period == "2025-01")
    assert [r.revision for r in january.revisions] == [1, 2]
    assert january.revisions[1].reason and "replace" in january.revisions[1].reason
    assert january.state.status == "proposed" and january.state.superseded == (1,)  # the old signatures no longer count
    assert {s.revision for s in january.signatures} == {1}


def test_a_settled_month_reproduces_from_the_store_alone(place: Path) -> None:
    (place / "desk.yaml").unlink()  # not needed: the store holds the agreement version
    shutil.rmtree(place / "project" / "staging", ignore_errors=True)
    again = record.reproduce(ws(place / "project", "aud"), "desk", "2025-02")
    assert again.ok and again.value is not None and again.value.same
    assert again.value.recorded_hash == again.value.reproduced_hash


@pytest.mark.parametrize("where", ["statement row", "batch file", "agreement text", "signature", "ledger entry"])
def test_verify_finds_one_changed_byte(place: Path, where: str) -> None:
    project = place / "project"
    assert signoff.sign(ws(project, "cust"), place / "desk.yaml", "2025-01", place / "cust.key").ok
    assert record.verify(ws(project, "aud")).ok
    con = sqlite3.connect(project / "vested.db")
    try:
        if where == "statement row":
            con.execute("UPDATE statements SET text = replace(text, '1000', '1001') WHERE period = '2025-01'")
        elif where == "agreement text":
            con.execute("UPDATE agreement_versions SET text = replace(text, 'Desk', 'Dusk')")
        elif where == "signature":
            con.execute("UPDATE signatures SET signature = 'A' || substr(signature, 2)")
        elif where == "ledger entry":
            con.execute("UPDATE ledger SET actor = 'mallory' WHERE seq = 2")
        con.commit()
    finally:
        con.close()
    if where == "batch file":
        parquet = next((project / "files").rglob("*.parquet"))
        data = bytearray(parquet.read_bytes())
        data[len(data) // 2] ^= 1
        parquet.write_bytes(bytes(data))
    found = record.verify(ws(project, "aud"))
    assert not found.ok and found.errors[0].code == "verify" and "does not verify" in found.errors[0].message


def test_an_exported_bundle_verifies_offline_and_a_changed_one_does_not(place: Path) -> None:
    project = place / "project"
    exported = record.export(ws(project, "aud"), place / "bundle.json")
    assert exported.ok
    shutil.rmtree(project)  # offline: no store at all
    assert record.verify(ws(place / "nothing", "aud"), bundle=place / "bundle.json").ok
    text = (place / "bundle.json").read_text(encoding="utf-8")
    (place / "bundle.json").write_text(text.replace('"actor": "cust"', '"actor": "mallory"', 1), encoding="utf-8")
    assert not record.verify(ws(place / "nothing", "aud"), bundle=place / "bundle.json").ok


def test_an_old_project_folder_is_brought_in_without_loss(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tests.helpers import agreement as load
    from vested.ingest import ingest_file
    from vested.services.settling import settle_months
    from vested.storage.folder import open_project

    (tmp_path / "desk.yaml").write_text(AGREEMENT, encoding="utf-8")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")
    old = open_project(tmp_path / "old")
    agreement = load(AGREEMENT)
    assert ingest_file(agreement, old, "tickets", data, who="t", now=datetime(2025, 4, 1, tzinfo=UTC)).ok
    assert settle_months(ws(old), agreement, AGREEMENT, ["2025-01", "2025-02", "2025-03"]).ok
    imported = record.import_folder(ws(tmp_path / "new", "t"), tmp_path / "old", [tmp_path / "desk.yaml"])
    assert imported.ok and imported.value is not None
    assert (imported.value.batches, imported.value.statements) == (1, 3)
    for month in ("2025-01", "2025-02", "2025-03"):
        assert ws(tmp_path / "new").store.statement_text("desk", month) == old.statement_text("desk", month)
    assert record.reproduce(ws(tmp_path / "new"), "desk", "2025-03").value.same  # type: ignore[union-attr]
    assert record.verify(ws(tmp_path / "new")).ok


def test_a_month_recorded_again_after_the_next_one_is_a_broken_link_found_by_a_later_settle(place: Path) -> None:
    """As a `settle --replace` killed half-way leaves the record: January revised, February not."""
    import json

    agreement, project = place / "desk.yaml", place / "project"
    w = ws(project, "cust")
    text = w.store.statement_text("desk", "2025-01")
    assert text is not None
    data = json.loads(text)
    data["state_out"] = {"credits": {"history": ["999"]}}  # another state carried out of January
    w.store.write_statement("desk", "2025-01", json.dumps(data, indent=2, sort_keys=True) + "\n")
    refused = running.settle(ws(project, "cust"), agreement, ["2025-03"])
    assert not refused.ok and refused.errors[0].code == "chain"
    assert "2025-02 does not carry on from the state 2025-01 carried out" in refused.errors[0].message
