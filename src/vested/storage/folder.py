"""The folder store: ingested measurement batches and settled statements as files in a project folder.

One implementation of the storage interfaces of :mod:`vested.storage` (batches and statements).

Layout (everything under one folder, ``.vested/`` in the current folder by default, or ``--project DIR``)::

    batches/<dataset>/<batch_id>.parquet   the rows of one ingested batch
    batches/<dataset>/<batch_id>.json      its provenance: file, content hash, rows, who, when
    statements/<agreement_id>/<period>.json   a settled period (statement, state, input hash)

Every file is written atomically (a temporary file in the same folder, flushed and renamed), and a
batch becomes visible only when its manifest is renamed into place, after its Parquet file: a batch
without a manifest is ignored, so a process killed mid-ingest leaves nothing half-visible.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vested.core.canonical import canonical_text, text_hash
from vested.storage import Batch, StorageError

try:  # POSIX: ingests of one dataset are serialised with an advisory lock
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl; ingests are then not serialised
    fcntl = None  # type: ignore[assignment]

DEFAULT_FOLDER = ".vested"

STORAGE_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DECIMAL(38,9)", "boolean": "BOOLEAN",
                 "timestamp": "TIMESTAMPTZ", "date": "DATE"}
"""The SQL type each column type is stored as, in a batch's Parquet file (timestamps in UTC) and wherever
a dataset is read: ingest types the rows with it, measurement gives an empty dataset the same columns."""

NUMBER_PLACES = 9
"""Digits after the decimal point a ``number`` value is stored with (``DECIMAL(38,9)``); ingest refuses more."""
NUMBER_DIGITS = 29
"""Digits before the decimal point a ``number`` value can have (``DECIMAL(38,9)``); ingest refuses more."""

TEMPORARY_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write_file(path, write)


def atomic_write_file(path: Path, write: Callable[[Path], None]) -> None:
    """Have ``write`` fill a temporary file next to ``path``, make it durable, then rename it into place.

    The temporary file is ``.<name>.<random>.tmp`` in the same folder (a rename is atomic only within
    one file system); it is flushed to disk before the rename, and the folder after it. ``write``
    receives the temporary path and may use any writer (a DuckDB ``COPY`` for Parquet files).
    """
    with staged_file(path, write):
        pass


@contextlib.contextmanager
def staged_file(path: Path, write: Callable[[Path], None]) -> Iterator[None]:
    """Write the file now, put it in place only when the ``with`` block succeeds (else delete it).

    :func:`atomic_write_file` in two steps, for a file that must appear only if a later step works:
    an ingest's quarantine file is moved into place once the batch is written, never without it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    tmp = Path(name)
    try:
        if fcntl is not None:  # held while the file is written: a cleaner never takes a file in flight
            fcntl.flock(fd, fcntl.LOCK_EX)
        write(tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o666 & ~current_umask())  # mkstemp makes 0600; a project file is as readable as any other
        yield
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    sync_folder(path.parent)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete the temporary files a killed writer of ``path`` left next to it (``.<name>.<random>.tmp``).

    A writer holds an exclusive lock on its temporary file until it is renamed or removed, so a file
    whose lock can be taken has no writer any more: it is stale. Another process's file in flight
    is locked, and left alone. (Without ``fcntl`` nothing is removed.)
    """
    removed: list[Path] = []
    if fcntl is None or not path.parent.is_dir():
        return removed
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*{TEMPORARY_SUFFIX}"):
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # locked: its writer is alive
        try:
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def is_temporary(path: Path) -> bool:
    """A file an atomic write left behind when its process was killed (never a finished file)."""
    return path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``folder/.lock`` (created with the folder); released if the process dies."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks (files may be larger than memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: not every file system supports syncing a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Project:
    """A project folder. Create with :func:`open_project`."""

    root: Path

    @property
    def batches_dir(self) -> Path:
        return self.root / "batches"

    @property
    def statements_dir(self) -> Path:
        return self.root / "statements"

    def batch_paths(self, dataset: str, batch_id: str) -> tuple[Path, Path]:
        folder = self.batches_dir / dataset
        return folder / f"{batch_id}.parquet", folder / f"{batch_id}.json"

    def batches(self, dataset: str) -> list[Batch]:
        """The visible (fully written) batches of a dataset, oldest first.

        A batch is visible once its manifest is in place; temporary files (``.<name>.<random>.tmp``)
        and a Parquet file whose manifest was never written are ignored.
        """
        folder = self.batches_dir / dataset
        if not folder.is_dir():
            return []
        found = []
        for manifest_path in sorted(folder.glob("*.json")):
            if manifest_path.name.startswith("."):
                continue
            data_file = manifest_path.with_suffix(".parquet")
            if not data_file.is_file():
                continue
            manifest = read_json(manifest_path, "batch manifest")
            found.append(Batch(dataset, manifest_path.stem, data_file, manifest))
        return sorted(found, key=lambda b: (str(b.manifest.get("ingested_at", "")), b.batch_id))

    def batch(self, dataset: str, batch_id: str) -> Batch | None:
        """One visible batch, or None when it was never (completely) written."""
        data_file, manifest_path = self.batch_paths(dataset, batch_id)
        if not (manifest_path.is_file() and data_file.is_file()):
            return None
        manifest = read_json(manifest_path, "batch manifest")
        return Batch(dataset, batch_id, data_file, manifest)

    def commit_batch(self, dataset: str, batch_id: str, data_file: Path, manifest: dict[str, Any]) -> None:
        """The manifest next to the data file, written last: the batch is visible once it is in place."""
        atomic_write_bytes(self.batch_paths(dataset, batch_id)[1], canonical_text(manifest).encode("utf-8"))

    def register_agreement(self, text: str, agreement_id: str) -> str:
        """A folder keeps no agreement texts (each statement cites its agreement by hash)."""
        return text_hash(text)

    @contextlib.contextmanager
    def lock(self, dataset: str) -> Iterator[None]:
        """Hold the dataset's ingest lock (one writer at a time; the OS releases it if the process dies)."""
        with folder_lock(self.batches_dir / dataset):
            yield

    def remove_temporaries(self, dataset: str) -> list[Path]:
        """Delete what killed ingests left behind: temporary files, and data files whose manifest was never written.

        Call it while holding :meth:`lock`: then no ingest of the dataset is running, so none of these
        files is another process's work in flight.
        """
        folder = self.batches_dir / dataset
        found = list(folder.iterdir()) if folder.is_dir() else []
        removed = [p for p in found if is_temporary(p) or
                   (p.suffix == ".parquet" and not p.name.startswith(".") and not p.with_suffix(".json").is_file())]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def all_batches(self) -> Iterator[Batch]:
        if not self.batches_dir.is_dir():
            return
        for folder in sorted(p for p in self.batches_dir.iterdir() if p.is_dir()):
            yield from self.batches(folder.name)

    def statement_path(self, agreement_id: str, period: str) -> Path:
        return self.statements_dir / agreement_id / f"{period}.json"

    def statement_text(self, agreement_id: str, period: str) -> str | None:
        path = self.statement_path(agreement_id, period)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def read_statement(self, agreement_id: str, period: str) -> dict[str, Any] | None:
        path = self.statement_path(agreement_id, period)
        return read_json(path, "settled statement") if path.is_file() else None

    def write_statement(self, agreement_id: str, period: str, text: str) -> str:
        path = self.statement_path(agreement_id, period)
        atomic_write_bytes(path, text.encode("utf-8"))
        return str(path)

    def revision_order(self, agreement_id: str) -> dict[str, int] | None:
        """A folder of files does not know in which order its months were written."""
        return None

    def settled_periods(self, agreement_id: str) -> list[str]:
        folder = self.statements_dir / agreement_id
        return [p.stem for p in folder.glob("*.json") if not p.name.startswith(".")] if folder.is_dir() else []


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object the store wrote; a damaged one is a :class:`StorageError` naming the file and the way back."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise StorageError(f"the {what} {str(path)!r} is damaged (not UTF-8 text: {exc.reason})", recovery(path, what),
                           str(path)) from None
    except json.JSONDecodeError as exc:
        raise StorageError(f"the {what} {str(path)!r} is damaged (not valid JSON at line {exc.lineno}, column {exc.colno})",
                           recovery(path, what), str(path)) from None
    except OSError as exc:
        raise StorageError(f"cannot read the {what} {str(path)!r}: {exc.strerror or exc}",
                           "check the file's permissions and the disk", str(path)) from None
    if not isinstance(data, dict):
        raise StorageError(f"the {what} {str(path)!r} is damaged (not a JSON object)", recovery(path, what), str(path))
    return data


def recovery(path: Path, what: str) -> str:
    """How to recover from a damaged file the store wrote."""
    if what == "batch manifest":
        return (f"restore it from a backup, or remove {path.name} and its .parquet file and ingest the source again "
                "(the batch id is the same for the same file)")
    return f"restore it from a backup, or remove {path.name} and settle the month again (vested settle --period {path.stem})"


def open_project(root: str | Path | None = None) -> Project:
    """The project in ``root`` (default ``.vested`` in the current folder); created on first write."""
    return Project(Path(root) if root is not None else Path(DEFAULT_FOLDER))
