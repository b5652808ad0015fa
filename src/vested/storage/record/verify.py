"""Verification: the ledger's chain, and every artefact it records, checked end to end.

    verify_store(store, files, expected_head=None) -> VerifyResult
    check_entries(entries, texts=None) -> (count, head, first break)   (shared with the bundle's verifier)

What is checked (docs/record.md, "What verify proves"):

1. **The chain**: seqs 1, 2, 3... without gaps, each entry naming its predecessor's hash, each hash
   the canonical hash of its six fields; with ``expected_head``, the last hash is the one published.
2. **The signatures**: each ``statement-signed`` entry's signature verifies with the public key its
   signer's ``user-added`` entry recorded, over :func:`vested.core.signoff.signing_payload` of the
   revision its ``statement-proposed``/``statement-revised`` entry recorded.
3. **The rows**: every table row is what its entry recorded (``payload_of`` of the row equals the
   entry's payload; a text's stored hash is its hash), and every such entry has its row.
4. **The files**: each batch's Parquet file in the files folder has the SHA-256 its entry recorded.

The first break (the lowest seq) is reported with its place and what was expected and found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vested.core.canonical import canonical_data, canonical_hash, text_hash
from vested.core.ledger import Entry, check_entry
from vested.core.signoff import signing_payload
from vested.keys import verify_signature
from vested.storage.record.files import sha256_file
from vested.storage.record.records import RECORDED, RECORDED_BY_KIND, Recorded, payload_of
from vested.storage.record.store import PAGE, Store

TEXT_HASHES = ("version_hash", "statement_hash", "manifest_hash", "decision_hash")
"""Payload fields that name a text by its hash (a bundle carries the texts)."""


@dataclass(frozen=True)
class Break:
    """One place where the record does not hold."""

    seq: int
    where: str
    expected: str
    found: str

    @property
    def message(self) -> str:
        return f"entry {self.seq}: {self.where}: expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head: str | None
    """The hash of the last entry: publish it, and a later verify with ``expected_head`` proves nothing was rewritten."""
    first_break: Break | None = None
    files: int = 0
    signatures: int = 0

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class EntryChecks:
    """The checks of entries in order: the chain and the signatures (and, given texts, the texts' hashes)."""

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self.texts = texts
        self.previous: Entry | None = None
        self.keys: dict[str, str] = {}
        self.revisions: dict[tuple[str, str, int], Mapping[str, Any]] = {}
        self.count = 0
        self.signatures = 0

    def check(self, entry: Entry) -> Break | None:
        chained = check_entry(self.previous, entry)
        if chained is not None:
            return Break(chained.seq, f"ledger ({chained.problem})", chained.expected, chained.found)
        self.previous = entry
        self.count += 1
        payload = entry.payload
        try:
            if entry.kind == "user-added":
                self.keys[str(payload["user_id"])] = str(payload["public_key"])
            elif entry.kind in ("statement-proposed", "statement-revised"):
                self.revisions[(payload["agreement_id"], payload["period"], payload["revision"])] = payload
            elif entry.kind == "statement-signed":
                found = self._signature(entry)
                if found is not None:
                    return found
            return self._texts(entry)
        except (KeyError, TypeError) as problem:
            return Break(entry.seq, f"ledger payload of {entry.kind}", "the fields of its kind", f"missing {problem}")

    def _signature(self, entry: Entry) -> Break | None:
        p = entry.payload
        revision = self.revisions.get((p["agreement_id"], p["period"], p["revision"]))
        if revision is None:
            return Break(entry.seq, "signature", f"a proposed revision {p['revision']} of {p['agreement_id']} {p['period']}", "none")
        key = self.keys.get(str(p["signer"]))
        if key is None:
            return Break(entry.seq, "signature", f"a user {p['signer']}", "none")
        data = signing_payload(p["agreement_id"], p["period"], p["revision"], revision["statement_hash"],
                               revision["agreement_hash"], revision["inputs_hash"], p["signer"])
        if p["payload_hash"] != text_hash(data.decode("utf-8")):
            return Break(entry.seq, "signature's payload hash", text_hash(data.decode("utf-8")), str(p["payload_hash"]))
        if not verify_signature(key, str(p["signature"]), data):
            return Break(entry.seq, f"signature of {p['signer']}", "a valid Ed25519 signature by the signer's key",
                         _short(p["signature"]))
        self.signatures += 1
        return None

    def _texts(self, entry: Entry) -> Break | None:
        if self.texts is None:
            return None
        for field in TEXT_HASHES:
            if field in entry.payload:
                digest = str(entry.payload[field])
                text = self.texts.get(digest)
                if text is None:
                    return Break(entry.seq, f"text of {field}", f"a text with hash {digest}", "none")
                if text_hash(text) != digest:
                    return Break(entry.seq, f"text of {field}", digest, text_hash(text))
        return None


def check_entries(entries: Iterable[Entry], texts: Mapping[str, str] | None = None) -> tuple[EntryChecks, Break | None]:
    checks = EntryChecks(texts)
    for entry in entries:
        found = checks.check(entry)
        if found is not None:
            return checks, found
    return checks, None


def verify_store(store: Store, files: str | Path | None = None, expected_head: str | None = None) -> VerifyResult:
    """Verify the whole store (see the module's docstring); ``files``: its files folder (default: the store's)."""
    folder = Path(files) if files is not None else store.files
    recorded: dict[int, tuple[str, str]] = {}  # seq -> (kind, payload hash) of entries that write a row

    def remember(entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            if entry.kind in RECORDED_BY_KIND:
                recorded[entry.seq] = (entry.kind, canonical_hash(entry.payload))
            yield entry

    checks, first = check_entries(remember(store.entries()))
    head = checks.previous.hash if checks.previous is not None else None
    breaks = [first] if first is not None else []
    if first is None and expected_head is not None and head != expected_head:
        breaks.append(Break(checks.count, "ledger head", expected_head, str(head)))
    files_checked = 0
    for table in RECORDED:
        for row in _rows(store, table):
            found, checked_file = _check_row(store, table, row, recorded, folder)
            files_checked += checked_file
            if found is not None:
                breaks.append(found)
                break
    breaks.extend(Break(seq, f"{RECORDED_BY_KIND[kind].table.name} row", f"the row its {kind} entry recorded", "no row")
                  for seq, (kind, _) in sorted(recorded.items())[:1])
    first_break = min(breaks, key=lambda b: b.seq) if breaks else None
    return VerifyResult(checks.count, head, first_break, files_checked, checks.signatures)


def _rows(store: Store, recorded: Recorded) -> Iterator[Mapping[Any, Any]]:
    table, last = recorded.table, 0
    while True:
        with store.engine.connect() as connection:
            rows = connection.execute(select(table).where(table.c.seq > last).order_by(table.c.seq).limit(PAGE)).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def _check_row(store: Store, recorded: Recorded, row: Mapping[Any, Any], entries: dict[int, tuple[str, str]],
               folder: Path | None) -> tuple[Break | None, int]:
    seq, name = int(row["seq"]), recorded.table.name
    kind, payload_hash = entries.pop(seq, ("", ""))
    if kind not in recorded.kinds:
        return Break(seq, f"{name} row {seq}", f"a {' or '.join(recorded.kinds)} entry {seq}", f"{kind or 'no'} entry"), 0
    payload = canonical_data(payload_of(recorded, row))
    if canonical_hash(payload) != payload_hash:
        entry = next(store.entries(after_seq=seq - 1))
        changed = sorted(k for k in set(payload) | set(entry.payload) if payload.get(k) != entry.payload.get(k))
        field = changed[0] if changed else "?"
        return Break(seq, f"{name} row {seq} ({field})", _short(entry.payload.get(field)), _short(payload.get(field))), 0
    for text, hashed in recorded.texts:
        if row[hashed] != text_hash(row[text]):
            return Break(seq, f"{name} row {seq} ({hashed} column)", text_hash(row[text]), str(row[hashed])), 0
    if name != "batches":
        return None, 0
    if folder is None:
        return Break(seq, f"batch file {row['file']}", "a files folder to check it in", "none"), 0
    path = folder / str(row["file"])
    if not path.is_file():
        return Break(seq, f"batch file {row['file']}", f"sha256 {row['sha256']}", "no file"), 0
    digest = sha256_file(path)
    if digest != row["sha256"]:
        return Break(seq, f"batch file {row['file']}", f"sha256 {row['sha256']}", f"sha256 {digest}"), 1
    return None, 1
