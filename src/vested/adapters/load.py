"""Load agreements and facts from YAML files into core records, with every problem located.

    load_agreement_text(text, name) -> Loaded(agreement | None, diagnostics)

This is the table of contents of reading an agreement: parse YAML (with positions) -> validate the
structure (the format's types) -> check the meaning (``core.checks``) -> lint it (``core.lint``)
-> put a file:line:column on every diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from vested.adapters.yamlsource import Source, read_yaml
from vested.core.checks import check_agreement
from vested.core.diagnostics import Diagnostic, Location, error
from vested.core.facts import Facts, build_facts, did_you_mean
from vested.core.format import build_agreement
from vested.core.lint import lint_agreement
from vested.core.model import Agreement


@dataclass(frozen=True)
class Loaded:
    agreement: Agreement | None
    diagnostics: tuple[Diagnostic, ...]
    source: Source

    @property
    def ok(self) -> bool:
        return self.agreement is not None and not any(d.is_error for d in self.diagnostics)


KEY_CODES = {
    "agreement": frozenset({"unknown-key", "duplicate-key"}),
    "facts": frozenset({"unknown-key", "duplicate-key", "unknown-metric", "unknown-term"}),
}
"""Codes whose diagnostic points at a key rather than its value: the key itself is what is wrong (in a
facts file, `values:` and `state:` are keyed by metric and term ids)."""


def locate(diagnostics: Sequence[Diagnostic], sources: dict[str, Source]) -> tuple[Diagnostic, ...]:
    """Give every diagnostic without a location the position of its path in its document."""
    located = []
    for d in diagnostics:
        if d.location is None and d.document in sources:
            is_key = d.code in KEY_CODES.get(d.document, KEY_CODES["agreement"])
            d = d.at(sources[d.document].locate(d.path, key=is_key, offset=d.offset))
        located.append(d)
    return tuple(sorted(located, key=lambda d: (d.location.file, d.location.line, d.location.column) if d.location else ("", 0, 0)))


def load_agreement_text(text: str, name: str, *, lint: bool = True) -> Loaded:
    source = read_yaml(text, name, "agreement")
    if source.diagnostics or source.data is None:
        return Loaded(None, locate(source.diagnostics, {"agreement": source}), source)
    agreement, problems = build_agreement(source.data)
    if agreement is not None:
        problems = [*problems, *check_agreement(agreement), *check_time_zone(agreement)]
        if lint:
            problems = [*problems, *lint_agreement(agreement)]
    return Loaded(agreement, locate(problems, {"agreement": source}), source)


def check_time_zone(agreement: Agreement) -> list[Diagnostic]:
    """The calendar's time zone must be one the time-zone database knows (read here, not in the core)."""
    if agreement.calendar is None:
        return []
    name = agreement.calendar.time_zone
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = did_you_mean(name, sorted(available_timezones()))
        hint = "use an IANA name such as Europe/London or America/Chicago"
        return [error("time-zone", f"unknown time zone {name!r}", f"{close}; {hint}" if close.startswith("did") else hint,
                      ("calendar", "time_zone"))]
    return []


def load_agreement(path: str | FilePath, *, lint: bool = True) -> Loaded:
    text, problem = read_text(path, "agreement")
    if problem is not None:
        return Loaded(None, (problem,), Source(str(path)))
    return load_agreement_text(text, str(path), lint=lint)


def read_text(path: str | FilePath, document: str) -> tuple[str, Diagnostic | None]:
    """The file's text, or a diagnostic saying why it cannot be read."""
    where = Location(str(path), 1, 1)
    try:
        data = FilePath(path).read_bytes()
    except FileNotFoundError:
        return "", error("file", f"no such file: {path}", "check the path", (), document).at(where)
    except IsADirectoryError:
        return "", error("file", f"{path} is a folder, not a file", "give the YAML file inside it", (), document).at(where)
    except OSError as exc:
        return "", error("file", f"cannot read {path}: {exc.strerror}", "", (), document).at(where)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return "", error("encoding", f"{path} is not UTF-8 text (byte {exc.start})", "save the file as UTF-8", (), document).at(where)


@dataclass(frozen=True)
class LoadedFacts:
    facts: Facts | None
    diagnostics: tuple[Diagnostic, ...]
    source: Source


def load_facts_text(agreement: Agreement, text: str, name: str) -> LoadedFacts:
    source = read_yaml(text, name, "facts")
    if source.diagnostics or source.data is None:
        return LoadedFacts(None, locate(source.diagnostics, {"facts": source}), source)
    if not isinstance(source.data, dict):
        problem = error("type", "a facts file must be a mapping", "start with `period:` and `values:`", (), "facts")
        return LoadedFacts(None, locate([problem], {"facts": source}), source)
    facts, problems = build_facts(agreement, source.data)
    return LoadedFacts(facts, locate(problems, {"facts": source}), source)


def load_facts(agreement: Agreement, path: str | FilePath) -> LoadedFacts:
    text, problem = read_text(path, "facts")
    if problem is not None:
        return LoadedFacts(None, (problem,), Source(str(path)))
    return load_facts_text(agreement, text, str(path))
