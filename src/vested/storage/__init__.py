"""Storage: where the record lives, behind small interfaces the services and engines depend on.

Where it sits: faces -> services -> **storage** and engines (ingest, measure, simulate) -> core.
Two interfaces, each a :class:`typing.Protocol`, so an implementation is any object with the methods:

* :class:`BatchStore`: ingested measurement batches (their rows in Parquet files, their provenance);
* :class:`StatementStore`: the settled statement of each agreement and period.

Two implementations: :mod:`vested.storage.record` (the shared record: a SQLite or PostgreSQL
database with a hash-chained ledger, batch files named by their hash; the default), and
:mod:`vested.storage.folder` (files in a project folder, as vested kept them before the record; read
by ``vested store import``). The renderers never import this package; the core never does either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class StorageError(Exception):
    """The record cannot be read or written: a damaged file, a full disk, a folder that is not writable.

    Raised by a store; the services turn it into a diagnostic that names the place (``where``) and
    how to recover (``hint``), so the user never sees a traceback.
    """

    def __init__(self, message: str, hint: str, where: str):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where


@dataclass(frozen=True)
class Batch:
    """One ingested batch: its rows (a Parquet file) and its provenance (the manifest)."""

    dataset: str
    batch_id: str
    data_file: Path
    manifest: dict[str, Any]


class BatchStore(Protocol):
    """Ingested batches: read by measurement and settlement, written by ingest (one writer per dataset)."""

    @property
    def root(self) -> Path:
        """The project folder the batches are written under."""
        ...

    def batches(self, dataset: str) -> list[Batch]:
        """The visible (completely written) batches of a dataset, oldest first."""
        ...

    def batch(self, dataset: str, batch_id: str) -> Batch | None:
        """One visible batch, or None."""
        ...

    def batch_paths(self, dataset: str, batch_id: str) -> tuple[Path, Path]:
        """Where a new batch's data file and manifest are written."""
        ...

    def commit_batch(self, dataset: str, batch_id: str, data_file: Path, manifest: dict[str, Any]) -> None:
        """Make a batch visible: its data file (written at :meth:`batch_paths`) with its provenance."""
        ...

    def lock(self, dataset: str) -> AbstractContextManager[None]:
        """Hold the dataset's writer lock."""
        ...

    def remove_temporaries(self, dataset: str) -> list[Path]:
        """Delete what killed writers left behind (while holding :meth:`lock`)."""
        ...

    def all_batches(self) -> Iterator[Batch]:
        """Every visible batch of every dataset."""
        ...


class StatementStore(Protocol):
    """Settled statements, one per agreement and period, as canonical text (and the agreement texts they cite)."""

    def register_agreement(self, text: str, agreement_id: str) -> str:
        """Record this text as a version of the agreement (once); its version hash."""
        ...

    def read_statement(self, agreement_id: str, period: str) -> dict[str, Any] | None:
        """The settled period's data, or None when it is not settled."""
        ...

    def statement_text(self, agreement_id: str, period: str) -> str | None:
        """The settled period's canonical text as stored, or None."""
        ...

    def write_statement(self, agreement_id: str, period: str, text: str) -> str:
        """Record a settled period; returns where it went (a path or a reference)."""
        ...

    def settled_periods(self, agreement_id: str) -> list[str]:
        """The periods settled for an agreement, in no particular order."""
        ...

    def revision_order(self, agreement_id: str) -> dict[str, int] | None:
        """Each settled period's place in the order its current revision was recorded (None: not known)."""
        ...


class ProjectStore(BatchStore, StatementStore, Protocol):
    """Both interfaces, as a workspace holds them."""
