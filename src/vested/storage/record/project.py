"""The shared record as a project: the storage interfaces (batches, statements) over the SQL store.

    RecordProject(store, root, actor, clock)

What ingest, measurement and settlement see of the record: a batch is visible once it is
registered (its Parquet file copied into the store's files folder under its SHA-256, a ledger
entry); a settled month is a statement revision (a ledger entry); settling a month again from
other inputs (``--replace``) is a new revision that supersedes the old one, with the reason, and
both stay readable. A new batch's data file is written into ``staging/`` first and moved into the
record only when the batch is registered, so a killed ingest leaves nothing visible.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from vested.core.canonical import text_hash
from vested.storage import Batch, StorageError
from vested.storage.folder import folder_lock, is_temporary
from vested.storage.record.records import AgreementVersion, BatchRecord, StoreError
from vested.storage.record.store import Store

REPLACED = "settled again from other inputs (vested settle --replace)"


class RecordProject:
    """Batches and statements in the shared record, written as ``actor`` at the times ``clock`` gives."""

    def __init__(self, store: Store, root: Path, actor: str, clock: Callable[[], datetime]):
        self.record = store
        self.root = root
        self.actor = actor
        self.clock = clock

    @property
    def files(self) -> Path:
        assert self.record.files is not None, "a record project has a files folder"
        return self.record.files

    # -- batches ----------------------------------------------------------------------------------

    def _batch(self, found: BatchRecord) -> Batch:
        return Batch(found.dataset, found.batch_id, self.files / found.file, dict(found.manifest))

    def batches(self, dataset: str) -> list[Batch]:
        """The dataset's current batches (a superseded one is left out), oldest first."""
        found = [self._batch(b) for b in self._read(lambda: self.record.batches(dataset, current_only=True))]
        return sorted(found, key=lambda b: (str(b.manifest.get("ingested_at", "")), b.batch_id))

    def batch(self, dataset: str, batch_id: str) -> Batch | None:
        found = self._read(lambda: self.record.batches(dataset))
        return next((self._batch(b) for b in found if b.batch_id == batch_id), None)

    def all_batches(self) -> Iterator[Batch]:
        for found in self._read(lambda: self.record.batches()):
            if found.superseded_by is None:
                yield self._batch(found)

    def batch_paths(self, dataset: str, batch_id: str) -> tuple[Path, Path]:
        """Where ingest writes a new batch's data file (staged, until :meth:`commit_batch` records it)."""
        folder = self.root / "staging" / dataset
        return folder / f"{batch_id}.parquet", folder / f"{batch_id}.json"

    def commit_batch(self, dataset: str, batch_id: str, data_file: Path, manifest: dict[str, Any]) -> None:
        """Record the batch (its file copied in under its hash, a ledger entry), then drop the staged file."""
        try:
            self.record.register_batch(dataset, batch_id, manifest, data_file, self.actor, self.clock())
        except StoreError as exc:
            raise StorageError(str(exc), "see `vested history` for what the record holds", f"batch {dataset}/{batch_id}") from None
        data_file.unlink(missing_ok=True)

    def lock(self, dataset: str) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root / "staging" / dataset)

    def remove_temporaries(self, dataset: str) -> list[Path]:
        """Delete what killed ingests left in staging (call while holding :meth:`lock`: no writer is running)."""
        folder = self.root / "staging" / dataset
        removed = [p for p in folder.iterdir() if is_temporary(p) or p.suffix == ".parquet"] if folder.is_dir() else []
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    # -- agreements and statements ----------------------------------------------------------------

    def register_agreement(self, text: str, agreement_id: str) -> str:
        """Record this text as a version of the agreement (once); its version hash."""
        version: AgreementVersion = self._write(lambda: self.record.register_agreement(text, agreement_id, self.actor,
                                                                                   self.clock()))
        return version.version_hash

    def statement_text(self, agreement_id: str, period: str) -> str | None:
        found = self._read(lambda: self.record.statement(agreement_id, period))
        return found.text if found is not None else None

    def read_statement(self, agreement_id: str, period: str) -> dict[str, Any] | None:
        text = self.statement_text(agreement_id, period)
        if text is None:
            return None
        data: dict[str, Any] = json.loads(text)
        return data

    def write_statement(self, agreement_id: str, period: str, text: str) -> str:
        """Propose the month's statement: its first revision, or a new one superseding the current (with the reason)."""
        data = json.loads(text)
        inputs = data.get("inputs", {})
        current = self.statement_text(agreement_id, period)
        reason = REPLACED if current is not None and current != text else None
        record = self._write(lambda: self.record.propose_statement(
            agreement_id, period, text, text_hash(text), str(inputs.get("agreement", {}).get("sha256", "")),
            str(data.get("inputs_hash", "")), self.actor, self.clock(), reason=reason))
        return f"{agreement_id} {period} revision {record.revision}"

    def revision_order(self, agreement_id: str) -> dict[str, int]:
        """Each period's current revision's ledger seq (revisions come in period then revision order: the last wins)."""
        return {s.period: s.seq for s in self._read(lambda: self.record.statements(agreement_id))}

    def settled_periods(self, agreement_id: str) -> list[str]:
        return sorted({s.period for s in self._read(lambda: self.record.statements(agreement_id))})

    # -- errors -----------------------------------------------------------------------------------

    def _read(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except StoreError as exc:
            raise StorageError(str(exc), "check that the store answers: vested verify", "the store") from None

    def _write(self, write: Callable[[], Any]) -> Any:
        try:
            return write()
        except StoreError as exc:
            raise StorageError(str(exc), "see `vested history` for what the record holds", "the store") from None
