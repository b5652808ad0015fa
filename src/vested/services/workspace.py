"""The workspace every service runs in: where the record is, which engine measures, the clock, who acts.

    open_workspace(project=None, actor=None, clock=None, engine=None, store=None) -> Workspace

Everything a service needs from outside the core is injected here, so a test (or the web app)
gives its own: the record (the store of agreements, batches, statements and the ledger), the metric
engine (DuckDB, :class:`vested.measure.engine.DuckDBEngine`; or Spark, :class:`vested.measure.spark.SparkEngine`,
chosen with :func:`make_engine`), a clock (the core never reads one)
and the acting user (recorded with everything they do). The record and the engine are opened on
first use, so ``vested check`` loads neither SQLAlchemy nor DuckDB.

The record (``store``): a SQLAlchemy URL — ``sqlite:///…`` or ``postgresql+psycopg://…`` — else the
``VESTED_STORE`` environment variable, else ``vested.db`` (SQLite) in the project folder, with the
batches' Parquet files in ``files/`` beside it. ``store="folder"`` is the project folder as vested
kept it before the record (batches and statements as files), for reading old projects.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vested.storage import ProjectStore, StorageError
from vested.storage.folder import DEFAULT_FOLDER, open_project

if TYPE_CHECKING:
    from vested.core.measured import MetricTable
    from vested.core.model import Agreement
    from vested.storage.record.store import Store

FOLDER = "folder"
"""The store name of the project folder kept as files (the layout before the record)."""


class MetricEngine(Protocol):
    """Computes each metric per month from the batches' data files (``vested.measure`` implements it)."""

    name: str
    """What computed the values (e.g. ``duckdb 1.4.1``), recorded with each statement's inputs."""

    def measure(self, agreement: Agreement, sources: Mapping[str, Sequence[Path]], months: Sequence[str]) -> MetricTable:
        """Each metric's value per month; ``sources`` maps a dataset id to its data files."""
        ...

    def reported(self, files: Sequence[Path], months: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Values reported directly (the ``reported`` dataset's files): metric -> month -> value."""
        ...


def system_clock() -> datetime:
    return datetime.now(UTC)


def default_engine() -> MetricEngine:
    from vested.measure.engine import DuckDBEngine

    return DuckDBEngine()


def record_url(root: Path, store: str | None) -> str:
    """The URL of the record: the one given, else ``VESTED_STORE``, else SQLite in the project folder."""
    import os

    return store or os.environ.get("VESTED_STORE") or f"sqlite:///{root / 'vested.db'}"


ENGINES = ("duckdb", "spark")
"""The metric engines a command can choose (``--engine``)."""


def make_engine(name: str = "duckdb", *, master: str | None = None, conf: Mapping[str, str] | None = None,
                percentiles: str = "exact", percentile_error: float | None = None,
                sources: Mapping[str, str] | None = None) -> MetricEngine:
    """The metric engine called ``name``: DuckDB (embedded, the default) or Spark (local or a cluster).

    The Spark options (``master``, ``conf``, how to take percentiles, ``sources``: datasets read from a
    path or URI instead of the batches) are refused with another engine. Only the engine chosen is
    imported, and Spark starts on the first measurement, so choosing it costs nothing until then.
    Raises ``ValueError`` with a message for the user on a bad choice.
    """
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: choose {' or '.join(ENGINES)}")
    if name == "duckdb":
        given = [flag for flag, value in (("--spark-master", master), ("--spark-conf", conf), ("--source", sources),
                                          ("--spark-percentile-error", percentile_error)) if value]
        if given or percentiles != "exact":
            raise ValueError(f"{', '.join(given) or '--spark-percentiles'} needs --engine spark")
        return default_engine()
    from vested.measure.spark import DEFAULT_MASTER, SparkEngine, SparkSettings, accuracy_for

    if percentiles not in ("exact", "approximate"):
        raise ValueError(f"percentiles are exact or approximate, not {percentiles!r}")
    if percentile_error is not None and percentiles != "approximate":
        raise ValueError("--spark-percentile-error bounds approximate percentiles: add --spark-percentiles approximate")
    settings = SparkSettings(master=master or DEFAULT_MASTER, conf=dict(conf or {}), locations=dict(sources or {}),
                             percentiles="ranks" if percentiles == "exact" else "approximate")
    if percentile_error is not None:
        settings = dataclasses.replace(settings, accuracy=accuracy_for(percentile_error))
    return SparkEngine(settings)


@dataclass
class Workspace:
    """Where a service reads and records, with what it measures, what time it is and who acts."""

    root: Path
    """The project folder (``.vested`` by default): the SQLite record, the batch files, staging."""
    actor: str
    clock: Callable[[], datetime] = system_clock
    store_url: str | None = None
    make_engine: Callable[[], MetricEngine] = default_engine
    _engine: MetricEngine | None = field(default=None, repr=False)
    _store: ProjectStore | None = field(default=None, repr=False)
    _record: Store | None = field(default=None, repr=False)

    @property
    def store(self) -> ProjectStore:
        """Batches and statements: the record (opened on first use), or the project folder as files."""
        if self._store is None:
            if self.store_url == FOLDER:
                self._store = open_project(self.root)
            else:
                from vested.storage.record.project import RecordProject

                self._store = RecordProject(self.record, self.root, self.actor, self.clock)
        return self._store

    @property
    def record(self) -> Store:
        """The shared record itself (users, signatures, the ledger), opened and migrated on first use."""
        if self.store_url == FOLDER:
            raise StorageError("the project folder keeps no shared record (users, signatures, ledger)",
                               "use the store: drop --store folder, or bring the folder in: vested store import", str(self.root))
        if self._record is None:
            from vested.storage.record import StoreError, open_store

            url = record_url(self.root, self.store_url)
            if url.startswith("sqlite:///"):
                self.root.mkdir(parents=True, exist_ok=True)
            try:
                self._record = open_store(url, files=self.root / "files")
            except StoreError as exc:
                raise StorageError(str(exc), "check --store or VESTED_STORE (e.g. sqlite:///vested.db or "
                                   "postgresql+psycopg://user@host/db)", "the store") from None
        return self._record

    def close(self) -> None:
        if self._record is not None:
            self._record.close()
            self._record = None

    @property
    def engine(self) -> MetricEngine:
        """The metric engine, made on first use (importing it loads DuckDB)."""
        if self._engine is None:
            self._engine = self.make_engine()
        return self._engine

    def now(self) -> datetime:
        return self.clock()


def open_workspace(project: str | Path | None = None, actor: str | None = None,
                   clock: Callable[[], datetime] | None = None, engine: MetricEngine | None = None,
                   store: str | None = None) -> Workspace:
    """The workspace of a project folder (default ``.vested`` in the current folder), acting as ``actor``
    (default: ``VESTED_USER``, else the operating system's user name), recording in ``store`` (see the module doc)."""
    import os

    who = actor or os.environ.get("VESTED_USER") or getpass.getuser()
    return Workspace(Path(project) if project is not None else Path(DEFAULT_FOLDER), who, clock or system_clock, store,
                     _engine=engine)
