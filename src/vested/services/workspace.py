"""The workspace every service runs in: where the record is, which engine measures, the clock, who acts.

    open_workspace(project=None, actor=None, clock=None) -> Workspace

Everything a service needs from outside the core is injected here, so a test (or the web app)
gives its own: the store of batches and statements (today the project folder,
:mod:`vested.storage.folder`), the metric engine (DuckDB, :class:`vested.measure.engine.DuckDBEngine`,
made only when something is measured, so ``vested check`` never loads it; or Spark,
:class:`vested.measure.spark.SparkEngine`, chosen with :func:`make_engine`), a clock (the core
never reads one) and the acting user (recorded with what they do).
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

from vested.storage.folder import Project, open_project

if TYPE_CHECKING:
    from vested.core.measured import MetricTable
    from vested.core.model import Agreement


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

    store: Project
    actor: str
    clock: Callable[[], datetime] = system_clock
    make_engine: Callable[[], MetricEngine] = default_engine
    _engine: MetricEngine | None = field(default=None, repr=False)

    @property
    def engine(self) -> MetricEngine:
        """The metric engine, made on first use (importing it loads DuckDB)."""
        if self._engine is None:
            self._engine = self.make_engine()
        return self._engine

    def now(self) -> datetime:
        return self.clock()


def open_workspace(project: str | Path | None = None, actor: str | None = None,
                   clock: Callable[[], datetime] | None = None, engine: MetricEngine | None = None) -> Workspace:
    """The workspace of a project folder (default ``.vested`` in the current folder), acting as ``actor``
    (default: the operating system's user name)."""
    return Workspace(open_project(project), actor or getpass.getuser(), clock or system_clock, _engine=engine)
