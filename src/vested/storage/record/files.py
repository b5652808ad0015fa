"""The store's files folder: batch Parquet files named by the SHA-256 of their content.

    store_file(source, folder) -> (sha256, relative path)     files/<aa>/<sha256>.parquet

A file is copied to a temporary name in its final folder, flushed, and renamed into place, so a
reader (and the verifier) sees the whole file or none. The same content is stored once. A writer
killed after the copy and before its transaction commits leaves an unreferenced file, which is
harmless: nothing points at it, and the next ingest of the same content reuses it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from vested.storage.record.records import StoreError


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks (a batch may be larger than memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}.parquet"


def store_file(source: Path, folder: Path) -> tuple[str, str]:
    """Put ``source`` into ``folder`` under its content hash (unless it is there); its hash and relative path."""
    try:
        sha256 = sha256_file(source)
    except OSError as problem:
        raise StoreError(f"{source}: cannot read the batch file: {problem.strerror}") from None
    relative = relative_path(sha256)
    target = folder / relative
    if target.is_file() and sha256_file(target) == sha256:
        return sha256, relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as problem:
        raise StoreError(f"{folder}: cannot write to the files folder: {problem.strerror}") from None
    temporary = Path(name)
    try:
        with source.open("rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return sha256, relative
