"""Benchmark: appending to and verifying the store's ledger, on SQLite and PostgreSQL.

    python -m benchmarks.ledger [--entries 100000] [--backends sqlite,postgres] [--url URL]

For each backend, in a fresh store: append N decisions with ``Store.record_decision`` (one
transaction each: read the head, hash the entry, insert the ledger row and the decision row), and
verify the whole store with ``verify_store`` when it holds N/4, N/2 and N entries (to show verify
is linear). The reference is a plain loop inserting the very same rows (the ledger's and the
decisions') into another fresh store, one transaction per entry as well, with no head read and no
hashing; verify's reference is a plain SELECT of every ledger and decision row. Prints entries per
second and the ratios. Timings are wall clock (``time.perf_counter``). docs/performance.md has the
figures measured.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import select

from vested.storage.record import Store, open_store, schema, verify_store

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AT = datetime(2025, 7, 1, tzinfo=UTC)


@dataclass
class Figures:
    backend: str
    entries: int
    append_seconds: float = 0.0
    insert_seconds: float = 0.0
    read_seconds: float = 0.0
    verify: dict[int, float] = field(default_factory=dict)
    """Entries in the store -> seconds to verify it."""
    verified: bool = True


@contextlib.contextmanager
def fresh_store(backend: str, url: str, folder: Path, name: str) -> Iterator[Store]:
    """An empty store of its own: a new SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if backend == "sqlite":
        with open_store(f"sqlite:///{folder / name / 'vested.db'}") as store:
            yield store
        return
    schema_name = f"vested_bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema_name}"')
    try:
        with open_store(f"{url}?options=-csearch_path%3D{schema_name}") as store:
            yield store
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema_name}" CASCADE')
        admin.dispose()


def run_backend(backend: str, entries: int, url: str, folder: Path, out: bool = True) -> Figures:
    figures = Figures(backend, entries)
    checkpoints = sorted({entries // 4, entries // 2, entries} - {0})
    with fresh_store(backend, url, folder, "append") as store:
        done = 0
        for checkpoint in checkpoints:
            start = time.perf_counter()
            for n in range(done, checkpoint):
                store.record_decision("bench", {"n": n}, "bench", AT)
            figures.append_seconds += time.perf_counter() - start
            done = checkpoint
            start = time.perf_counter()
            result = verify_store(store)
            figures.verify[checkpoint] = time.perf_counter() - start
            figures.verified = figures.verified and result.ok and result.entries == checkpoint
            if out:
                print(f"  {backend}: {checkpoint:>7} entries appended; verified in {figures.verify[checkpoint]:.2f} s", flush=True)
        start = time.perf_counter()
        with store.engine.connect() as connection:
            ledger_rows = [dict(r) for r in connection.execute(select(schema.ledger).order_by(schema.ledger.c.seq)).mappings()]
            decision_rows = [dict(r) for r in connection.execute(select(schema.decisions).order_by(schema.decisions.c.seq)).mappings()]
        figures.read_seconds = time.perf_counter() - start
    with fresh_store(backend, url, folder, "insert") as reference:
        insert_ledger, insert_decision = schema.ledger.insert(), schema.decisions.insert()
        start = time.perf_counter()
        for ledger_row, decision_row in zip(ledger_rows, decision_rows, strict=True):
            with reference.engine.begin() as connection:
                connection.execute(insert_ledger, ledger_row)
                connection.execute(insert_decision, decision_row)
        figures.insert_seconds = time.perf_counter() - start
    return figures


def report(all_figures: list[Figures]) -> str:
    lines = ["", f"{'backend':<10} {'entries':>8} {'append/s':>10} {'insert/s':>10} {'append÷insert':>14} {'verify/s':>10} "
             f"{'read/s':>10} {'verify÷read':>12}"]
    for f in all_figures:
        verify_seconds = f.verify[f.entries]
        lines.append(f"{f.backend:<10} {f.entries:>8} {f.entries / f.append_seconds:>10.0f} {f.entries / f.insert_seconds:>10.0f} "
                     f"{f.append_seconds / f.insert_seconds:>14.2f} {f.entries / verify_seconds:>10.0f} "
                     f"{f.entries / f.read_seconds:>10.0f} {verify_seconds / f.read_seconds:>12.1f}")
    lines.append("")
    lines.append("verify time by size (linear: seconds per 1000 entries stay level)")
    for f in all_figures:
        steps = ", ".join(f"{n}: {s:.2f} s ({1000 * s / n:.3f} s/1k)" for n, s in sorted(f.verify.items()))
        lines.append(f"  {f.backend:<10} {steps}")
    lines.append("all verified" if all(f.verified for f in all_figures) else "A STORE DID NOT VERIFY")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--url", default=POSTGRES, help="the PostgreSQL server's database URL")
    args = parser.parse_args(argv)
    all_figures = []
    with tempfile.TemporaryDirectory(prefix="vested-ledger-bench-") as folder:
        for backend in args.backends.split(","):
            print(f"{backend}: appending {args.entries} entries", flush=True)
            all_figures.append(run_backend(backend, args.entries, args.url, Path(folder)))
    print(report(all_figures))
    return 0 if all(f.verified for f in all_figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
