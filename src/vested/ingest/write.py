"""Writing: the bad rows to a quarantine file, and the good rows as a batch (Parquet, then its manifest).

Both are written atomically (``vested.storage.folder``): a batch is visible only once its data file and
then its manifest are in place, so a killed ingest leaves no partial batch; the quarantine file is
moved into place only after the batch is written.
"""

from __future__ import annotations

import csv
import hashlib
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vested.adapters.csvsafe import neutralise_row
from vested.ingest.explain import explain
from vested.ingest.run import IngestRun
from vested.ingest.sql import ident, lit
from vested.storage.folder import atomic_write_file, remove_stale_temporaries, staged_file


def staged_quarantine(run: IngestRun, path: Path) -> AbstractContextManager[None]:
    """The bad rows with their original values and an `error` column (rows in file order).

    Written now, next to ``path``, and moved into place when the ``with`` block succeeds: the
    quarantine file appears only together with the batch of the good rows (never when writing it failed).
    A value a spreadsheet would run as a formula is written with a leading ``'`` (``vested.adapters.csvsafe``).
    """
    present = [c for c in run.columns if c.name is not None]
    error_name = "error" if all(c.spec.name != "error" for c in present) else "ingest_error"
    names = ", ".join(f"r.{c.name}" for c in present)
    cursor = run.con.execute(
        f"SELECT r.__row, {names}, list(p.col ORDER BY p.col, p.code), list(p.code ORDER BY p.col, p.code), "
        f"list(p.value ORDER BY p.col, p.code), list(p.detail ORDER BY p.col, p.code) "
        f"FROM raw r JOIN problems p ON p.row = r.__row GROUP BY ALL ORDER BY r.__row")

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            # RFC 4180 line ends: with "\n" alone, csv would not quote a value holding a lone "\r", and the row would split
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow([*(c.spec.name for c in present), error_name])
            for batch in iter(lambda: cursor.fetchmany(10_000), []):
                for row, *rest in batch:
                    values, (cols, codes, found, details) = rest[:len(present)], rest[len(present):]
                    errors = [f"{run.columns[i].spec.name}: {explain(code, run.columns[i], v, d, run)[0]}"
                              for i, code, v, d in zip(cols, codes, found, details, strict=True)]
                    writer.writerow(neutralise_row([*values, f"row {row}: " + "; ".join(errors)]))

    remove_stale_temporaries(path)  # what a killed ingest left next to this quarantine file (never one in flight)
    return staged_file(path, write)


def write_batch(run: IngestRun, batch_id: str, who: str, now: datetime, rows: int, quarantined: int) -> dict[str, Any]:
    """The typed rows as Parquet, then the manifest: the batch is visible only once both are in place."""
    data_file, _ = run.project.batch_paths(run.dataset.id, batch_id)
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
        "time_range": [time_text(first), time_text(last)],
    }
    try:
        run.project.commit_batch(run.dataset.id, batch_id, data_file, manifest)
    except BaseException:
        data_file.unlink(missing_ok=True)  # a data file without its manifest is invisible; do not leave it behind
        raise
    return manifest


def time_text(value: Any) -> str | None:
    """The first or last time of a batch, in the one form its time column's type has (see ``time_range``).

    A timestamp: the UTC instant, ``2025-06-01T08:00:00.000000+00:00`` (always with microseconds and
    the offset, as ``ingested_at``); a date: ``2025-06-01`` (a local day, no instant); a month (the
    ``reported`` dataset's period): ``2025-06``, as written. :func:`vested.services.settling.first_instant` reads them.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
