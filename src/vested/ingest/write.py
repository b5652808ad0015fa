"""Writing: the bad rows to a quarantine file, and the good rows as a batch (Parquet, then its manifest).

Both are written atomically (``vested.project.atomic_write_file``): a batch is visible only once its
data file and then its manifest are in place, so a killed ingest leaves no partial batch.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vested.ingest.explain import explain
from vested.ingest.run import IngestRun
from vested.ingest.sql import ident, lit
from vested.project import atomic_write_bytes, atomic_write_file
from vested.render.serialize import dumps


def write_quarantine(run: IngestRun, path: Path) -> None:
    """The bad rows with their original values and an `error` column (rows in file order)."""
    present = [c for c in run.columns if c.name is not None]
    error_name = "error" if all(c.spec.name != "error" for c in present) else "ingest_error"
    names = ", ".join(f"r.{c.name}" for c in present)
    cursor = run.con.execute(
        f"SELECT r.__row, {names}, list(p.col ORDER BY p.col, p.code), list(p.code ORDER BY p.col, p.code), "
        f"list(p.value ORDER BY p.col, p.code), list(p.detail ORDER BY p.col, p.code) "
        f"FROM raw r JOIN problems p ON p.row = r.__row GROUP BY ALL ORDER BY r.__row")

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([*(c.spec.name for c in present), error_name])
            for batch in iter(lambda: cursor.fetchmany(10_000), []):
                for row, *rest in batch:
                    values, (cols, codes, found, details) = rest[:len(present)], rest[len(present):]
                    errors = [f"{run.columns[i].spec.name}: {explain(code, run.columns[i], v, d, run)[0]}"
                              for i, code, v, d in zip(cols, codes, found, details, strict=True)]
                    writer.writerow([*values, f"row {row}: " + "; ".join(errors)])

    atomic_write_file(path, write)


def write_batch(run: IngestRun, batch_id: str, who: str, now: datetime, rows: int, quarantined: int) -> dict[str, Any]:
    """The typed rows as Parquet, then the manifest: the batch is visible only once both are in place."""
    data_file, manifest_file = run.project.batch_paths(run.dataset.id, batch_id)
    typed = ", ".join(f"{c.typed()} AS {ident(c.spec.name)}" for c in run.columns)
    good = "SELECT * FROM raw WHERE __row NOT IN (SELECT row FROM problems)"
    data_hash = hashlib.sha256()

    def write(tmp: Path) -> None:
        run.con.execute(f"COPY (SELECT {typed} FROM ({good}) ORDER BY __row) TO {lit(str(tmp))} "
                        f"(FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false)")  # our own temp file: see atomic_write_file
        with tmp.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                data_hash.update(chunk)

    time = next(c for c in run.columns if c.spec.name == run.dataset.time)
    first, last = run.con.execute(f"SELECT min(t), max(t) FROM (SELECT {time.typed()} AS t FROM ({good}))").fetchone() or (None, None)
    atomic_write_file(data_file, write)
    manifest = {
        "batch_id": batch_id, "dataset": run.dataset.id, "agreement": run.agreement.id,
        "file": run.source.label, "format": run.source.format, "sha256": run.source.sha256, **run.source.details,
        "rows": rows, "quarantined": quarantined, "who": who,
        "ingested_at": now.astimezone(UTC).isoformat(timespec="microseconds"),
        "data_sha256": data_hash.hexdigest(),
        "columns": {c.spec.name: c.spec.type for c in run.columns},
        "time_range": [_iso(first), _iso(last)],
    }
    atomic_write_bytes(manifest_file, dumps(manifest).encode("utf-8"))
    return manifest


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)
