"""``vested demo``: the help-desk story from the seed, end to end, on an embedded example.

A retail chain pays its help-desk supplier per call and per on-site visit; the Vested agreement
that replaces it pays for supported, working stores, shares the value of less downtime and gives
credits when stores cannot trade. The demo reads like its table of contents:

    check both agreements -> generate 24 months of store tickets (seeded) -> ingest them
    -> settle 18 months under each contract -> scorecards -> an HTML report with charts

Under the task-based contract the supplier never proposes remote support (it would lose its
on-site revenue), so that contract is run on the help desk as it was; under the Vested agreement
the supplier invests in month 12 of the data (2025-06), so it runs on the data with remote support.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

from vested.adapters.load import Loaded, load_agreement_text
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.periods import months_between
from vested.core.scorecard import Scorecard, build_scorecard
from vested.core.settlement import SettleResult
from vested.demo_data import write_helpdesk_csv
from vested.ingest import IngestReport, batch_id_for, ingest_file
from vested.render.demo import DemoContract, DemoRecord, DemoView, PaidMonth
from vested.render.report import ReportView, contract_report, render_report
from vested.services.demo_record import RecordStory, sign_off_story
from vested.services.running import score_history
from vested.services.settling import settle_months
from vested.services.workspace import open_workspace
from vested.storage.folder import atomic_write_bytes, sha256_file

SEED = 7
DATA_START = "2024-07"
DATA_MONTHS = 24
INVEST_MONTH = 12
FIRST, LAST = "2025-01", "2026-06"
CONTRACTS = (("task-based.yaml", None), ("vested.yaml", INVEST_MONTH))
"""Each contract and the month (of the data) its supplier invests in remote support; None: never."""

Progress = Callable[[str, int, int], None]


def CLOCK() -> datetime:
    return datetime(2026, 7, 1, tzinfo=UTC)


def example_text(*parts: str) -> str:
    """The text of an embedded example file (shipped inside the package)."""
    return resources.files("vested").joinpath("examples", *parts).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ContractRun:
    name: str
    loaded: Loaded
    ingests: tuple[IngestReport, ...]
    settled: SettleResult
    scorecards: dict[str, Scorecard]

    @property
    def agreement(self) -> Agreement:
        assert self.loaded.agreement is not None
        return self.loaded.agreement

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return (*self.loaded.diagnostics, *self.settled.diagnostics,
                *(d for report in self.ingests for d in report.diagnostics()))

    def paid(self) -> dict[str, Decimal]:
        customer = self.agreement.party_with_role("customer")
        supplier = self.agreement.party_with_role("supplier")
        assert customer is not None and supplier is not None
        return {s.period: s.statement.owed(customer.id, supplier.id) for s in self.settled.settlements}


@dataclass(frozen=True)
class Story:
    contracts: tuple[ContractRun, ...]
    report: Path
    months: tuple[str, ...]
    record: RecordStory | None = None
    """The Vested agreement's sign-off in the shared record, and its verification."""


def run_contract(name: str, invest_month: int | None, workdir: Path, progress: Progress) -> ContractRun:
    """Check one embedded agreement, generate and ingest its data, settle the months, score them."""
    text = example_text("helpdesk", name)
    loaded = load_agreement_text(text, f"examples/helpdesk/{name}")
    agreement = loaded.agreement
    if agreement is None or not loaded.ok:
        return ContractRun(name, loaded, (), SettleResult(), {})
    world = "with-remote-support" if invest_month else "as-it-was"
    files = write_helpdesk_csv(workdir / "data" / world, SEED, DATA_START, DATA_MONTHS, invest_month=invest_month)
    ws = open_workspace(workdir / agreement.id, actor="vested demo", clock=CLOCK)
    project = ws.store
    needed = [d.id for d in agreement.datasets] + (["reported"] if any(m.reported_by for m in agreement.metrics) else [])
    ingests = []
    for i, dataset in enumerate(needed):
        progress(f"{agreement.id}: ingest {dataset}", i, len(needed))
        if project.batch(dataset, batch_id_for(dataset, sha256_file(files[dataset]))) is not None:
            continue  # the same data from an earlier run of the demo in this folder
        report = ingest_file(agreement, project, dataset, files[dataset], who=ws.actor, now=ws.now())
        ingests.append(report)
    progress(f"{agreement.id}: settle {FIRST} to {LAST}", len(needed), len(needed))
    months = months_between(FIRST, LAST)
    history = score_history(ws, agreement, months)  # measured once: for the statements and the scorecards
    settled = settle_months(ws, agreement, text, months, replace=True, measured=history.table)
    scorecards = {m: build_scorecard(agreement, m, history.rows) for m in months} if agreement.outcomes else {}
    return ContractRun(name, loaded, tuple(ingests), settled, scorecards)


def run_story(workdir: Path, progress: Progress | None = None) -> Story:
    """The whole story in ``workdir``: both contracts settled, and the report written there."""
    tell = progress or (lambda step, done, total: None)
    runs = tuple(run_contract(name, invest, workdir, tell) for name, invest in CONTRACTS)
    report = workdir / "report.html"
    reports = []
    for run in runs:
        if run.loaded.agreement is None:
            continue
        months = [(s.period, run.scorecards.get(s.period), s.statement) for s in run.settled.settlements]
        reports.append(contract_report(run.agreement, months))
    view = ReportView(
        title="The help desk: task-based or Vested",
        contracts=tuple(reports),
        intro=("Acme Retail's 400 stores call DeskCo's help desk. Under the task-based contract DeskCo is paid per call and "
               "per on-site visit, so it never proposes the remote support that would remove most visits. Under the Vested "
               "agreement Acme pays for supported, working stores and shares the value of less downtime; DeskCo rolls out "
               "remote support in June 2025. Both contracts are settled month by month from the same kind of data."),
        notes=(f"Data: generated with seed {SEED}, {DATA_MONTHS} months from {DATA_START} (vested.demo_data).",
               "Every statement is reproducible: `vested settle` on the same batches gives the same bytes."),
        events={"2025-06": "remote support rolled out (Vested agreement only)"},
    )
    told = None
    vested = next((run for run in runs if run.name == "vested.yaml" and run.loaded.agreement is not None), None)
    if vested is not None and vested.settled.settlements:
        tell("sign off, dispute, resolve, verify", 1, 1)
        path = workdir / "agreements" / vested.name
        atomic_write_bytes(path, example_text("helpdesk", vested.name).encode("utf-8"))
        told = sign_off_story(workdir, path, vested.agreement, tuple(s.period for s in vested.settled.settlements), CLOCK)
    tell("write the report", 1, 1)
    atomic_write_bytes(report, render_report(view).encode("utf-8"))
    return Story(runs, report, tuple(months_between(FIRST, LAST)), told)


def demo_view(story: Story) -> DemoView:
    """What ``vested demo`` shows, in the terminal or as JSON: each contract, and what each paid month by month."""
    last = story.months[-1]
    contracts = []
    for run in story.contracts:
        if run.loaded.agreement is None:
            continue
        paid = run.paid()
        contracts.append(DemoContract(
            file=f"examples/helpdesk/{run.name}", agreement=run.agreement, checked=run.loaded.diagnostics,
            diagnostics=run.diagnostics, paid=paid, total=sum(paid.values(), Decimal(0)),
            last_statement=run.settled.settlements[-1].statement if run.settled.settlements else None,
            last_scorecard=run.scorecards.get(last)))
    months = []
    for month in story.months:
        amounts = tuple(c.paid.get(month) for c in contracts)
        months.append(PaidMonth(month, amounts, _difference(amounts)))
    signed = None
    if story.record is not None:
        r = story.record
        signed = DemoRecord(store=r.store, users=tuple((u.user_id, u.name, u.role, u.party, u.key_file) for u in r.users),
                            final=r.final, dispute=r.dispute, entries=r.verified.entries if r.verified else 0,
                            head=r.verified.head if r.verified else None, verified=bool(r.verified and r.verified.ok))
    return DemoView(record=signed, report=str(story.report), months=story.months, contracts=tuple(contracts), paid=tuple(months),
                    total_difference=_difference(tuple(c.total for c in contracts)),
                    problems=(*(d for r in story.contracts for d in r.diagnostics if d.is_error),
                              *(story.record.problems if story.record else ())))


def _difference(amounts: tuple[Decimal | None, ...]) -> Decimal | None:
    """The Vested agreement's amount less the task-based one's (None unless both are there)."""
    if len(amounts) != 2 or amounts[0] is None or amounts[1] is None:
        return None
    return amounts[1] - amounts[0]
