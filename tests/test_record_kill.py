"""SIGKILL at random points of ingest, settle and sign leaves a record that verifies, and the next command works.

A child process runs the cycle of a live agreement over and over — ingest a late ticket, settle the
months again (a new revision), both parties sign — and is killed at a random moment, 24 times. After
each kill the record verifies (every entry, row, file and signature), and a new child carries on from
where the record stands. Every cycle writes all three kinds of entry, so the kills land in each.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ws
from tests.test_settle import AGREEMENT, TICKETS
from vested.services import record, running, signoff

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

KILLS = 24
CYCLE = """\
import sys, itertools
from pathlib import Path
from vested.services import running, signoff
from vested.services.workspace import open_workspace

folder = Path(sys.argv[1])
agreement, project = folder / "desk.yaml", folder / "project"
for n in itertools.count(int(sys.argv[2])):
    late = folder / f"late-{n}.csv"
    late.write_text(f"ticket_id,opened_at,fixed\\nlate{n},2025-01-2{n % 8}T10:00:00Z,{'true' if n % 2 else 'false'}\\n")
    running.ingest(open_workspace(project, "supp"), agreement, "tickets", str(late))
    running.settle(open_workspace(project, "supp"), agreement, ["2025-01", "2025-02"], replace=True)
    for user in ("cust", "supp"):
        signoff.sign(open_workspace(project, user), agreement, "2025-01", folder / f"{user}.key")
    print(n, flush=True)
"""


def test_killed_writers_leave_a_record_that_verifies(tmp_path: Path) -> None:
    agreement, project = tmp_path / "desk.yaml", tmp_path / "project"
    agreement.write_text(AGREEMENT, encoding="utf-8")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")
    assert running.ingest(ws(project, "setup"), agreement, "tickets", str(data)).ok
    for user, party, role in (("cust", "c", "customer"), ("supp", "s", "supplier")):
        assert signoff.add_user(ws(project, "setup"), agreement, user, user, party, role, tmp_path / f"{user}.key").ok
    rng = random.Random(7)
    start, completed = 0, 0
    for _ in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CYCLE, str(tmp_path), str(start)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None
        first = child.stdout.readline()  # one whole cycle done: the child is warm, and in the middle of the next
        time.sleep(rng.uniform(0.0, 1.2))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate()
        assert first.strip(), err
        assert "Traceback" not in err, err
        done = [int(line) for line in (first + out).split()]
        completed += len(done)
        start = (done[-1] + 1 if done else start) + 100  # fresh ticket ids for the next child
        verified = record.verify(ws(project, "cust"))
        assert verified.ok, verified.diagnostics
    # the next commands work: settle again, both sign, the month is final and reproduces
    assert running.settle(ws(project, "supp"), agreement, ["2025-01", "2025-02"], replace=True).ok
    for user in ("cust", "supp"):
        signoff.sign(ws(project, user), agreement, "2025-01", tmp_path / f"{user}.key")
    status = signoff.status(ws(project, "cust"), agreement, "2025-01").value
    assert status is not None and status.state.is_final
    assert record.reproduce(ws(project, "cust"), "desk", "2025-02").value.same  # type: ignore[union-attr]
    history = record.history(ws(project, "cust"), agreement).value
    assert history is not None and history.periods[0].revisions[-1].revision > 1
    assert completed >= KILLS  # every child wrote whole cycles before it was killed in another one
