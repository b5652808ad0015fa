"""The ledger: an append-only hash chain of everything that happened to a shared record.

    next_entry(previous, kind, payload, actor, at) -> Entry     (the entry that follows ``previous``)
    verify_chain(entries) -> ChainBreak | None                  (the first break, or None)

Each entry names the hash of the entry before it (the first names :data:`GENESIS_HASH`), and its
own hash is the canonical hash (``vested.core.canonical``) of exactly these six fields::

    {"seq": int, "prev_hash": str, "kind": str, "payload": {...}, "actor": str, "at": str}

``seq`` counts from 1 without gaps; ``at`` is an ISO 8601 UTC instant with microseconds
(``2025-07-01T09:30:00.000000+00:00``, see :func:`format_instant`); ``payload`` is canonical data
(what ``canonical_data`` returns: only strings, integers, booleans, null, arrays and objects).
Changing any byte of any entry changes its hash, so the entry after it no longer follows.
The store (``vested.storage.record``) keeps the chain; this module only computes and checks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vested.core.canonical import canonical_data, canonical_hash

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry (seq 1)."""

KINDS = frozenset({
    "agreement-registered",  # a version of an agreement's YAML text
    "user-added",  # a person of a party (or an auditor), with their public key
    "batch-ingested",  # a batch of measurements (its Parquet file, by content hash)
    "batch-superseded",  # a later batch replaces an earlier one, with a reason
    "statement-proposed",  # revision 1 of a period's statement
    "statement-signed",  # one party's signature on one revision
    "statement-disputed",  # one party disputes a line of a revision
    "dispute-resolved",  # one party signs the resolution of a dispute
    "statement-revised",  # a new revision superseding the previous one, with a reason
    "amendment-proposed",  # a proposed new version of an agreement
    "amendment-approved",  # one party approves an amendment
    "decision-recorded",  # a governance decision, as data
})
"""Every kind of entry; an entry of another kind is a programming error."""

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")


class LedgerError(ValueError):
    """An entry that cannot be made (unknown kind, instant not in UTC with microseconds): a programming error."""


@dataclass(frozen=True)
class Entry:
    """One ledger entry. ``hash`` is :func:`entry_hash` of the other six fields."""

    seq: int
    prev_hash: str
    kind: str
    payload: Mapping[str, Any]
    actor: str
    at: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain does not hold: at entry ``seq``, ``expected`` was not ``found``."""

    seq: int
    problem: str
    """``seq`` (a gap or reorder), ``prev-hash`` (does not name the entry before) or ``hash`` (content changed)."""
    expected: str
    found: str

    @property
    def message(self) -> str:
        what = {"seq": "sequence number", "prev-hash": "previous hash", "hash": "own hash"}[self.problem]
        return f"ledger entry {self.seq}: {what} is {self.found}, expected {self.expected}"


def format_instant(instant: datetime) -> str:
    """The ledger's form of an aware instant: UTC, microseconds, ``+00:00``."""
    if instant.tzinfo is None:
        raise LedgerError(f"{instant.isoformat()} has no time zone; the ledger records UTC instants")
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(seq: int, prev_hash: str, kind: str, payload: Mapping[str, Any], actor: str, at: str) -> str:
    """The canonical hash of an entry's six fields (its ``hash``)."""
    return canonical_hash({"seq": seq, "prev_hash": prev_hash, "kind": kind, "payload": payload, "actor": actor, "at": at})


def next_entry(previous: Entry | None, kind: str, payload: Mapping[str, Any], actor: str, at: str | datetime) -> Entry:
    """The entry after ``previous`` (None: the first entry of a chain)."""
    if kind not in KINDS:
        raise LedgerError(f"unknown ledger entry kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    if not actor:
        raise LedgerError("a ledger entry needs an actor")
    stamp = format_instant(at) if isinstance(at, datetime) else at
    if not INSTANT.match(stamp):
        raise LedgerError(f"instant {stamp!r} is not UTC with microseconds (like 2025-07-01T09:30:00.000000+00:00)")
    data = canonical_data(payload)
    seq = previous.seq + 1 if previous is not None else 1
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    return Entry(seq, prev_hash, kind, data, actor, stamp, entry_hash(seq, prev_hash, kind, data, actor, stamp))


def check_entry(previous: Entry | None, entry: Entry) -> ChainBreak | None:
    """Whether ``entry`` follows ``previous`` (None: it must be the first) and its hash is its own."""
    seq = previous.seq + 1 if previous is not None else 1
    if entry.seq != seq:
        return ChainBreak(entry.seq, "seq", str(seq), str(entry.seq))
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    if entry.prev_hash != prev_hash:
        return ChainBreak(entry.seq, "prev-hash", prev_hash, entry.prev_hash)
    own = entry_hash(entry.seq, entry.prev_hash, entry.kind, entry.payload, entry.actor, entry.at)
    if entry.hash != own:
        return ChainBreak(entry.seq, "hash", own, entry.hash)
    return None


def verify_chain(entries: Iterable[Entry]) -> ChainBreak | None:
    """The first break in ``entries`` (in the order given, starting at seq 1), or None when the chain holds.

    Streams: memory stays constant however long the chain is.
    """
    previous: Entry | None = None
    for entry in entries:
        problem = check_entry(previous, entry)
        if problem is not None:
            return problem
        previous = entry
    return None
