"""Load a scenario YAML file into a :class:`~vested.core.scenario.Scenario`, with every problem located.

    load_scenario_text(text, name) -> LoadedScenario(scenario | None, diagnostics, source)

Parse YAML with positions -> validate the records and check the scenario on its own
(``core.scenario``) -> put a file:line:column on every diagnostic. Checking the scenario against an
agreement needs both files; :func:`locate_pair` locates those diagnostics in whichever file they
point at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath

from vested.adapters.load import locate, read_text
from vested.adapters.yamlsource import Source, read_yaml
from vested.core.diagnostics import Diagnostic
from vested.core.scenario import DOCUMENT, Scenario
from vested.core.scenario_checks import build_scenario


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario | None
    diagnostics: tuple[Diagnostic, ...]
    source: Source

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not any(d.is_error for d in self.diagnostics)


def load_scenario_text(text: str, name: str) -> LoadedScenario:
    source = read_yaml(text, name, DOCUMENT)
    if source.diagnostics or source.data is None:
        return LoadedScenario(None, locate(source.diagnostics, {DOCUMENT: source}), source)
    scenario, problems = build_scenario(source.data)
    return LoadedScenario(scenario, locate(problems, {DOCUMENT: source}), source)


def load_scenario(path: str | FilePath) -> LoadedScenario:
    text, problem = read_text(path, DOCUMENT)
    if problem is not None:
        return LoadedScenario(None, (problem,), Source(str(path)))
    return load_scenario_text(text, str(path))


def locate_pair(diagnostics: Sequence[Diagnostic], agreement: Source, scenario: Source) -> tuple[Diagnostic, ...]:
    """Locate diagnostics about an agreement evaluated on a scenario (each points into one of the two).

    A driver the scenario lacks is shown at the `drivers:` key, where it is to be added.
    """
    at_key = [d.at(scenario.key_positions.get(d.path)) if d.code == "missing-driver" and d.location is None else d
              for d in diagnostics]
    return locate(at_key, {"agreement": agreement, DOCUMENT: scenario})
