"""Faults: concurrent writers in separate processes, and writers killed (SIGKILL) at random moments.

Races: 4 processes start together (they wait for a start file) and each appends decisions,
registers the same new agreement version, records a batch of its own and tries to sign the one
proposed statement for its party. Afterwards the chain holds seq 1..n with no gap, every decision
exactly once, the shared agreement version once, exactly one signature per party, and it verifies.

Kills: a writer loops over writes of several kinds and is killed 20+ times at random moments after
it is ready; after each kill the store verifies and the next write works.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_store import AT, World, make_world, store_url  # noqa: F401 - the fixtures, shared
from vested.core.ledger import verify_chain
from vested.keys import create_key_pair
from vested.storage.record import open_store, verify_store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

SRC = Path(__file__).resolve().parents[1] / "src"
WORKERS = 4
DECISIONS = 15
KILLS = 21
SEED = 20250701

RACER = """\
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from vested.core.signoff import signing_payload
from vested.keys import load_private_key, sign
from vested.storage.record import StoreError, open_store

url, files, folder, worker, user = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
at = datetime(2025, 7, 1, tzinfo=UTC)
store = open_store(url, files=files)
while not (folder / "go").exists():
    time.sleep(0.005)
for n in range(DECISIONS):
    store.record_decision("helpdesk", {"worker": worker, "n": n}, user, at)
    if n == 3:
        store.register_agreement("vested: 1\\nid: helpdesk\\ntitle: raced\\n", "helpdesk", user, at)
    if n == 6:
        data = folder / f"batch-{worker}.parquet"
        data.write_bytes(f"rows of worker {worker}".encode())
        store.register_batch("tickets", f"b{worker}", {"worker": worker}, data, user, at)
    if n == 9:
        record = store.statement("helpdesk", "2025-06")
        payload = signing_payload("helpdesk", "2025-06", 1, record.statement_hash, record.agreement_hash, record.inputs_hash, user)
        try:
            store.add_signature("helpdesk", "2025-06", 1, user, sign(load_private_key(folder / f"{user}.key"), payload), at)
            print("signed")
        except StoreError as problem:
            print("refused:", problem)
store.close()
""".replace("DECISIONS", str(DECISIONS))

WRITER = """\
import itertools, sys
from datetime import UTC, datetime
from pathlib import Path
from vested.storage.record import open_store

url, files, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
at = datetime(2025, 7, 1, tzinfo=UTC)
store = open_store(url, files=files)
print("ready", flush=True)
for n in itertools.count():
    tag = f"{sys.argv[4]}-{n}"
    store.record_decision("helpdesk", {"n": tag}, "sam", at)
    data = folder / f"k-{tag}.parquet"
    data.write_bytes(("rows " + tag).encode() * 2000)
    store.register_batch("tickets", tag, {"n": tag}, data, "sam", at)
    store.register_agreement(f"vested: 1\\nid: helpdesk\\nnote: {tag}\\n", "helpdesk", "sam", at)
"""


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def test_concurrent_writers_never_lose_duplicate_or_reorder_entries(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    world = make_world(store_url, tmp_path)
    world.store.add_user("sid", "Sid", "seller", "supplier", create_key_pair(tmp_path / "sid.key"), "setup", AT)
    world.propose("r1\n")
    before = world.store.last_seq()
    users = ["ann", "sam", "abe", "sid"]  # two of each party race to sign
    script = tmp_path / "racer.py"
    script.write_text(RACER, encoding="utf-8")
    processes = [subprocess.Popen([sys.executable, str(script), store_url, str(world.files), str(tmp_path), str(i), users[i]],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
                 for i in range(WORKERS)]
    time.sleep(1.0)  # let every process import and open the store, then start them together
    (tmp_path / "go").touch()
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    assert sorted(out.splitlines()[0].split(":")[0] for out, _ in outputs) == ["refused", "refused", "signed", "signed"]

    store = world.store
    entries = list(store.entries())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert verify_chain(entries) is None
    raced = entries[before:]
    decisions = Counter((e.actor, e.kind) for e in raced)
    assert all(decisions[(user, "decision-recorded")] == DECISIONS for user in users)
    switches = sum(a.actor != b.actor for a, b in itertools.pairwise(raced))
    assert switches > WORKERS, "the writers did not interleave: nothing raced"
    kinds = Counter(e.kind for e in raced)
    assert kinds == {"decision-recorded": WORKERS * DECISIONS, "agreement-registered": 1, "batch-ingested": WORKERS,
                     "statement-signed": 2}
    with store.engine.connect() as connection:
        rows = [json.loads(t) for t in connection.execute(text("SELECT decision FROM decisions")).scalars()]
    assert sorted((r["worker"], r["n"]) for r in rows if "worker" in r) == [(w, n) for w in range(WORKERS) for n in range(DECISIONS)]
    assert sorted(s.party for s in store.signatures("helpdesk", "2025-06")) == ["buyer", "seller"]
    assert sorted(b.batch_id for b in store.batches("tickets")) == [f"b{i}" for i in range(WORKERS)]
    result = verify_store(store, world.files)
    assert result.ok, result.first_break
    assert result.entries == len(entries) and result.signatures == 2
    store.close()


def test_a_writer_killed_at_random_moments_leaves_a_store_that_verifies(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    world: World = make_world(store_url, tmp_path)
    world.store.close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    rng = random.Random(SEED)
    grew = 0
    for kill in range(KILLS):
        with open_store(store_url, files=world.files) as store:
            before = store.last_seq()
        process = subprocess.Popen([sys.executable, str(script), store_url, str(world.files), str(tmp_path), str(kill)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
        time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
        with open_store(store_url, files=world.files) as store:
            result = verify_store(store, world.files)
            assert result.ok, f"after kill {kill}: {result.first_break}"
            grew += result.entries > before
            seq = store.record_decision("helpdesk", {"after-kill": kill}, "ann", AT)
            assert seq == result.entries + 1
            assert verify_store(store, world.files).ok
    assert grew >= KILLS // 2, "the writer was mostly killed before it wrote anything: the test would prove little"
