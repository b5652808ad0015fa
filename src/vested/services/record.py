"""The shared record as a whole: its history, its verification, reproducing a statement, export and import.

    history(ws, agreement) -> Result[History]
    verify(ws, bundle=None) -> Result[VerifyResult]
    reproduce(ws, agreement_id, period) -> Result[Reproduction]
    export(ws, path) -> Result[VerifyResult]
    import_folder(ws, folder, agreements) -> Result[Imported]

``reproduce`` re-prices a settled month from the store alone (the agreement version its inputs name,
the batches they list, the state they carried in) and compares the result byte for byte with the
statement recorded. ``import_folder`` brings a project folder kept as files (before the record) in
without loss: every batch, then every statement in month order, each a ledger entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vested.adapters.load import load_agreement_text
from vested.core.canonical import text_hash
from vested.core.diagnostics import error
from vested.core.periods import parse_month
from vested.core.settlement import BatchInput, Settlement, month_inputs, month_values, settle_month
from vested.core.signoff import SignoffState, statement_status
from vested.services.agreements import AgreementRef
from vested.services.result import Refused, Result
from vested.services.signoff import DOCUMENT, loaded, parties_of, recording, refusal
from vested.services.workspace import Workspace
from vested.storage.folder import open_project
from vested.storage.record import SignatureRecord, StatementRecord, export_bundle, verify_bundle, verify_store
from vested.storage.record import VerifyResult as VerifyResult  # what verify and export return, for the faces


@dataclass(frozen=True)
class PeriodHistory:
    period: str
    revisions: tuple[StatementRecord, ...]
    """Every revision, oldest first; the last is current (the others stay readable)."""
    signatures: tuple[SignatureRecord, ...]
    state: SignoffState


@dataclass(frozen=True)
class History:
    agreement_id: str
    periods: tuple[PeriodHistory, ...]
    entries: int
    head: str | None


def history(ws: Workspace, agreement: AgreementRef) -> Result[History]:
    """Every settled period of an agreement: its revisions (with the reason each superseded the last),
    its signatures, its disputes and where its sign-off stands."""

    def step() -> Result[History]:
        found, _ = loaded(agreement)
        parties = parties_of(found)
        by_period: dict[str, list[StatementRecord]] = {}
        for record in ws.record.statements(found.id):
            by_period.setdefault(record.period, []).append(record)
        periods = []
        for period in sorted(by_period, key=parse_month):
            state = statement_status(ws.record.statement_events(found.id, period), parties)
            assert state is not None  # a period with a revision was proposed
            periods.append(PeriodHistory(period, tuple(by_period[period]), tuple(ws.record.signatures(found.id, period)), state))
        head = ws.record.head()
        return Result(History(found.id, tuple(periods), head.seq if head else 0, head.hash if head else None))

    return recording(ws, step)


def verify(ws: Workspace, bundle: str | Path | None = None, expected_head: str | None = None) -> Result[VerifyResult]:
    """Check the whole chain and every artefact it references (batch files, agreement texts, statements,
    signatures) — of the store, or of an exported bundle offline. The first break is an error."""

    def step() -> Result[VerifyResult]:
        if bundle is not None:
            if not Path(bundle).is_file():
                raise refusal(f"there is no bundle {str(bundle)!r}", "give the file `vested export` wrote")
            result = verify_bundle(bundle)
        else:
            result = verify_store(ws.record, ws.root / "files", expected_head)
        if result.first_break is not None:
            return Result(result, (error("verify", f"the record does not verify: {result.first_break.message}",
                                         "restore the damaged place from a backup or a bundle; nothing after it can be trusted",
                                         (), DOCUMENT),))
        return Result(result)

    return recording(ws, step)


def export(ws: Workspace, path: str | Path) -> Result[VerifyResult]:
    """Write a self-contained bundle (agreement versions, statements, ledger, public keys) that an auditor
    verifies offline with ``vested verify --bundle``; refused when the store does not verify."""
    return recording(ws, lambda: Result(export_bundle(ws.record, ws.root / "files", path)))


@dataclass(frozen=True)
class Reproduction:
    agreement_id: str
    period: str
    revision: int
    same: bool
    """True when re-pricing from the store gives the recorded statement byte for byte."""
    recorded_hash: str
    reproduced_hash: str
    difference: str
    """Where the two differ (empty when they are the same)."""


def reproduce(ws: Workspace, agreement_id: str, period: str) -> Result[Reproduction]:
    """Re-price a settled month from the store alone and compare it byte for byte with the statement recorded."""

    def step() -> Result[Reproduction]:
        record = ws.record.statement(agreement_id, period)
        if record is None:
            raise refusal(f"{agreement_id} {period} is not settled in this record", "see what is: vested history AGREEMENT")
        data = json.loads(record.text)
        inputs: dict[str, Any] = data["inputs"]
        text = ws.record.agreement_text(record.agreement_hash)
        if text is None:
            raise refusal(f"the record has no agreement version {record.agreement_hash[:12]}, which {period} cites")
        read = load_agreement_text(text, f"{agreement_id}@{record.agreement_hash[:12]}", lint=False)
        if read.agreement is None or not read.ok:
            raise Refused(read.diagnostics)
        agreement = read.agreement
        listed = [BatchInput(b["dataset"], b["batch_id"], b["sha256"]) for b in inputs["batches"]]
        files: dict[str, list[Path]] = {}
        for batch in listed:
            stored = ws.store.batch(batch.dataset, batch.batch_id)
            if stored is None:
                raise refusal(f"{period} was settled from batch {batch.dataset}/{batch.batch_id}, which the record does not hold")
            files.setdefault(batch.dataset, []).append(stored.data_file)
        sources = {d.id: files.get(d.id, []) for d in agreement.datasets}
        table = ws.engine.measure(agreement, sources, [period])
        reported = ws.engine.reported(files.get("reported", []), [period])
        values = month_values(agreement, table, reported, period)
        again = month_inputs(agreement, text_hash(text), period, str(inputs["engine"]), listed, values, inputs["state_in"])
        settled = settle_month(agreement, table, values, period, inputs["state_in"], again)
        if not isinstance(settled, Settlement):
            raise Refused(settled)
        same = settled.text == record.text
        return Result(Reproduction(agreement_id, period, record.revision, same, text_hash(record.text),
                                   text_hash(settled.text), "" if same else first_difference(record.text, settled.text)),
                      () if same else (error("reproduce", f"{agreement_id} {period} revision {record.revision} does not "
                                             f"reproduce: {first_difference(record.text, settled.text)}",
                                             "compare the engine versions; `vested verify` tells whether the record was changed",
                                             (), DOCUMENT),))

    return recording(ws, step)


def first_difference(recorded: str, reproduced: str) -> str:
    for number, (a, b) in enumerate(zip(recorded.splitlines(), reproduced.splitlines(), strict=False), start=1):
        if a != b:
            return f"line {number}: recorded {a.strip()!r}, reproduced {b.strip()!r}"
    return f"the recorded text has {len(recorded.splitlines())} lines, the reproduced {len(reproduced.splitlines())}"


@dataclass(frozen=True)
class Imported:
    batches: int
    statements: int


def import_folder(ws: Workspace, folder: str | Path, agreements: list[AgreementRef]) -> Result[Imported]:
    """Bring a project folder kept as files into the record: every batch, then each agreement's statements
    in month order (the agreement files given must be the versions the statements cite)."""

    def step() -> Result[Imported]:
        old = open_project(folder)
        if not old.batches_dir.is_dir() and not old.statements_dir.is_dir():
            raise refusal(f"{str(folder)!r} holds no batches or statements", "give the old project folder (e.g. .vested)")
        texts: dict[str, tuple[str, str]] = {}
        for ref in agreements:
            found, agreement_text = loaded(ref)
            texts[text_hash(agreement_text)] = (found.id, agreement_text)
        batches = 0
        for batch in old.all_batches():
            ws.record.register_batch(batch.dataset, batch.batch_id, batch.manifest, batch.data_file, ws.actor, ws.now())
            batches += 1
        statements = 0
        folders = sorted(p.name for p in old.statements_dir.iterdir() if p.is_dir()) if old.statements_dir.is_dir() else []
        for agreement_id in folders:
            for period in sorted(old.settled_periods(agreement_id), key=parse_month):
                settled = old.statement_text(agreement_id, period)
                assert settled is not None
                cited = json.loads(settled)["inputs"]["agreement"]["sha256"]
                if cited not in texts:
                    raise refusal(f"{agreement_id} {period} was settled from agreement version {cited[:12]}, and no "
                                  "agreement file given has that text", "give that version's file too (--agreement FILE)")
                ws.store.register_agreement(texts[cited][1], agreement_id)
                ws.store.write_statement(agreement_id, period, settled)
                statements += 1
        return Result(Imported(batches, statements))

    return recording(ws, step)
