"""A killed ingest's temporary quarantine file is removed by the next ingest, and never one in flight."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from vested.storage.folder import remove_stale_temporaries, staged_file


def test_a_stale_temporary_is_removed_and_a_locked_one_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "bad-rows.csv"
    stale = tmp_path / ".bad-rows.csv.abc123.tmp"
    stale.write_text("left by a killed ingest")
    live = tmp_path / ".bad-rows.csv.def456.tmp"
    live.write_text("being written")
    other = tmp_path / ".other.csv.x.tmp"
    other.write_text("another file's")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a writer in another process holds it
    try:
        assert remove_stale_temporaries(target) == [stale]
    finally:
        os.close(fd)
    assert not stale.exists() and live.exists() and other.exists()


def test_a_writer_holds_its_temporary_locked_until_it_is_in_place(tmp_path: Path) -> None:
    target = tmp_path / "q.csv"
    seen: list[list[Path]] = []

    def write(tmp: Path) -> None:
        tmp.write_text("rows")
        seen.append(remove_stale_temporaries(target))  # a cleaner running meanwhile takes nothing

    with staged_file(target, write):
        pass
    assert seen == [[]] and target.read_text() == "rows"
    assert list(tmp_path.glob(".q.csv.*")) == []
