"""The export bundle: one self-contained JSON file that anyone can verify offline, without the store.

    export_bundle(store, files, path) -> VerifyResult   (verifies the store first; writes nothing if it does not verify)
    verify_bundle(path) -> VerifyResult

The bundle is canonical JSON::

    {"format": "vested-bundle", "version": 1, "head": "<hash of the last entry>",
     "ledger": [{"seq", "prev_hash", "kind", "payload", "actor", "at", "hash"}, ...],
     "texts": {"<sha256>": "<text>", ...}}

The ledger's payloads already carry everything small: the users' public keys, the statements'
hashes, the signatures, the batches' content hashes and file names. ``texts`` holds every text an
entry names by hash: agreement versions, statements, batch manifests, amendments and decisions. The
batches' Parquet files are not included (they can be gigabytes); their SHA-256 in the ledger lets
a holder of the files check them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vested.core.canonical import canonical_text
from vested.core.ledger import Entry
from vested.storage.record.records import RECORDED, StoreError
from vested.storage.record.store import Store
from vested.storage.record.verify import Break, VerifyResult, check_entries, verify_store

FORMAT = "vested-bundle"
VERSION = 1


def export_bundle(store: Store, files: str | Path | None, path: str | Path) -> VerifyResult:
    """Write the bundle of ``store`` to ``path`` (atomically); refused when the store does not verify."""
    result = verify_store(store, files)
    if not result.ok:
        assert result.first_break is not None
        raise StoreError(f"the store does not verify, so no bundle was written: {result.first_break.message}")
    texts: dict[str, str] = {}
    with store.engine.connect() as connection:
        for recorded in RECORDED:
            for text, hashed in recorded.texts:
                for body, digest in connection.execute(select(recorded.table.c[text], recorded.table.c[hashed])):
                    texts[digest] = body
    ledger = [{"seq": e.seq, "prev_hash": e.prev_hash, "kind": e.kind, "payload": e.payload, "actor": e.actor, "at": e.at,
               "hash": e.hash} for e in store.entries()]
    document = {"format": FORMAT, "version": VERSION, "head": result.head, "ledger": ledger, "texts": texts}
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(canonical_text(document))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return result


def verify_bundle(path: str | Path) -> VerifyResult:
    """Verify a bundle offline: its chain, its signatures, and every text its entries name."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        return VerifyResult(0, None, Break(0, f"bundle {path}", "a vested bundle (JSON)", str(problem)))
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION:
        return VerifyResult(0, None, Break(0, f"bundle {path}", f"format {FORMAT} version {VERSION}", "another document"))
    try:
        entries = [_entry(item) for item in document["ledger"]]
        texts = {str(k): str(v) for k, v in document["texts"].items()}
    except (KeyError, TypeError, AttributeError, ValueError) as problem:
        return VerifyResult(0, None, Break(0, f"bundle {path}", "a ledger and texts", f"malformed: {problem}"))
    checks, first = check_entries(entries, texts)
    head = checks.previous.hash if checks.previous is not None else None
    if first is None and document.get("head") != head:
        first = Break(checks.count, "bundle head", str(document.get("head")), str(head))
    return VerifyResult(checks.count, head, first, 0, checks.signatures)


def _entry(item: Any) -> Entry:
    if not isinstance(item["payload"], dict):
        raise ValueError(f"entry {item.get('seq')}: the payload is not an object")
    return Entry(int(item["seq"]), str(item["prev_hash"]), str(item["kind"]), item["payload"], str(item["actor"]),
                 str(item["at"]), str(item["hash"]))
