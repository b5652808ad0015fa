"""Ingest is all-or-nothing even when the process dies: SIGKILL an ingest of a large file at several moments.

Afterwards the project shows no batch or the complete batch (its manifest's row count equals the rows in
its Parquet file, whose hash the manifest records), never a partial one, and ingesting again succeeds.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from vested.adapters.load import load_agreement
from vested.ingest import ingest_file
from vested.render.diagnostics import format_diagnostics
from vested.storage.folder import Project, is_temporary, open_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

ROWS = 300_000
SEED = 20250601

AGREEMENT = """\
vested: 1
id: kill
title: Killed ingest
parties:
  - {id: buyer, name: Buyer Co, role: customer}
  - {id: seller, name: Seller Co, role: supplier}
datasets:
  - id: tickets
    time: opened_at
    key: [ticket_id]
    columns:
      - {name: ticket_id, required: true}
      - {name: store, type: integer, minimum: 1}
      - {name: channel, allowed: [phone, remote, on-site]}
      - {name: opened_at, type: timestamp}
      - {name: minutes, type: number, minimum: 0}
      - {name: first_contact, type: boolean}
"""

SCRIPT = """\
import sys
from datetime import UTC, datetime
from pathlib import Path
from vested.adapters.load import load_agreement
from vested.ingest import ingest_file
from vested.storage.folder import open_project
agreement = load_agreement(sys.argv[1], lint=False).agreement
report = ingest_file(agreement, open_project(sys.argv[2]), "tickets", Path(sys.argv[3]), who="kill-test",
                     now=datetime(2025, 7, 1, tzinfo=UTC))
sys.exit(0 if report.ok else 1)
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The agreement and a large, valid CSV generated from a seed."""
    folder = tmp_path_factory.mktemp("kill")
    agreement = folder / "agreement.yaml"
    agreement.write_text(AGREEMENT, encoding="utf-8")
    rng = random.Random(SEED)
    channels = ["phone", "remote", "on-site"]
    data = folder / "tickets.csv"
    with data.open("w", encoding="utf-8") as handle:
        handle.write("ticket_id,store,channel,opened_at,minutes,first_contact\n")
        for i in range(ROWS):
            handle.write(f"T{i:07d},{rng.randint(1, 400)},{rng.choice(channels)},2025-06-{rng.randint(1, 30):02d}T"
                         f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+02:00,{rng.randint(0, 9000) / 100},"
                         f"{rng.choice(['yes', 'no'])}\n")
    return agreement, data


def start(agreement: Path, project: Project, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(agreement), str(project.root), str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(process: subprocess.Popen[bytes], seen: Callable[[], bool], timeout: float = 120) -> bool:
    """Poll until ``seen()`` (True) or the process ends first (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if seen():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("the ingest neither finished nor reached the moment in time")


def files(project: Project) -> list[Path]:
    folder = project.batches_dir / "tickets"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def assert_no_partial_batch(project: Project) -> int:
    """Every visible batch is complete; returns how many there are (0 or 1)."""
    batches = project.batches("tickets")
    assert len(batches) <= 1
    for batch in batches:
        with duckdb.connect() as con:
            counted = con.execute(f"SELECT count(*) FROM read_parquet('{batch.data_file}')").fetchone()
        assert counted is not None and batch.manifest["rows"] == counted[0] == ROWS
        assert batch.manifest["data_sha256"] == hashlib.sha256(batch.data_file.read_bytes()).hexdigest()
    return len(batches)


def retry_and_check(agreement: Path, project: Project, data: Path, visible: int) -> None:
    loaded = load_agreement(agreement, lint=False).agreement
    assert loaded is not None
    from datetime import UTC, datetime

    report = ingest_file(loaded, project, "tickets", data, who="retry", now=datetime(2025, 7, 2, tzinfo=UTC))
    if visible:
        assert report.refused and [p.code for p in report.problems] == ["already-ingested"]
    else:
        assert report.ok and report.rows_ingested == ROWS, format_diagnostics(report.diagnostics())
    assert assert_no_partial_batch(project) == 1
    [batch] = project.batches("tickets")
    # The killed run's leftovers are gone: only the lock, the batch and its manifest remain.
    assert [p.name for p in files(project)] == sorted([".lock", f"{batch.batch_id}.json", f"{batch.batch_id}.parquet"])


def temporary_parquet(project: Project) -> Callable[[], bool]:
    """The Parquet file is being written: its temporary file exists and has bytes in it."""

    def seen() -> bool:
        try:
            return any(is_temporary(p) and ".parquet." in p.name and p.stat().st_size > 0 for p in files(project))
        except FileNotFoundError:  # renamed between listing and stat
            return False

    return seen


def renamed_parquet(project: Project) -> Callable[[], bool]:
    return lambda: any(p.suffix == ".parquet" and not is_temporary(p) for p in files(project))


@pytest.mark.parametrize("moment", ["while the parquet file is written", "once the parquet file is in place"])
def test_a_kill_at_a_given_moment_leaves_no_partial_batch(inputs: tuple[Path, Path], tmp_path: Path, moment: str) -> None:
    agreement, data = inputs
    project = open_project(tmp_path / ".vested")
    process = start(agreement, project, data)
    reached = wait_until(process, temporary_parquet(project) if moment.startswith("while") else renamed_parquet(project))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert reached, (process.stderr.read() if process.stderr else b"").decode()
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    if moment.startswith("while"):
        # The rest of the Parquet file and the manifest take far longer to write than the kill takes to land.
        assert project.batches("tickets") == []
    visible = assert_no_partial_batch(project)
    retry_and_check(agreement, project, data, visible)


@pytest.mark.parametrize("attempt", range(4))
def test_a_kill_after_a_random_delay_leaves_no_partial_batch(inputs: tuple[Path, Path], tmp_path: Path, attempt: int) -> None:
    agreement, data = inputs
    delay = random.Random(SEED + attempt).uniform(0.2, 3.5)
    project = open_project(tmp_path / ".vested")
    process = start(agreement, project, data)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    else:
        assert process.returncode == 0, (process.stderr.read() if process.stderr else b"").decode()
    visible = assert_no_partial_batch(project)
    retry_and_check(agreement, project, data, visible)
