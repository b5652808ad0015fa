"""Load agreements and facts from YAML files into core records, with every problem located.

    load_agreement_text(text, name) -> Loaded(agreement | None, diagnostics)

This is the table of contents of reading an agreement: parse YAML (with positions) -> validate the
structure (the format's types) -> check the meaning (``core.checks``) -> lint it (``core.lint``)
-> put a file:line:column on every diagnostic.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path as FilePath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from vested.adapters.yamlsource import MAX_BYTES, Source, read_yaml
from vested.core.checks import check_agreement
from vested.core.diagnostics import Diagnostic, Location, error, warning
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


PER_CODE = 25
"""Most diagnostics shown per code: one mistake repeated by aliases (or a generated file) is shown a few
times and counted, not printed a hundred thousand times."""
MESSAGE_CHARACTERS = 400
"""Longest message shown: a message quoting a huge value is cut (the location says where the value is)."""


def locate(diagnostics: Sequence[Diagnostic], sources: dict[str, Source]) -> tuple[Diagnostic, ...]:
    """Give every diagnostic without a location the position of its path in its document (at most
    :data:`PER_CODE` of each code, then one saying how many more there are)."""
    located = []
    for d in diagnostics:
        if d.location is None and d.document in sources:
            is_key = d.code in KEY_CODES.get(d.document, KEY_CODES["agreement"])
            d = d.at(sources[d.document].locate(d.path, key=is_key, offset=d.offset))
        located.append(d)
    ordered = sorted(located, key=lambda d: (d.location.file, d.location.line, d.location.column) if d.location else ("", 0, 0))
    return limit_per_code(ordered)


def limit_per_code(diagnostics: Sequence[Diagnostic], limit: int = PER_CODE) -> tuple[Diagnostic, ...]:
    """The first ``limit`` diagnostics of each code (messages cut to a readable length), then "... and N more"."""
    seen: Counter[str] = Counter(d.code for d in diagnostics)
    shown: Counter[str] = Counter()
    kept = []
    for d in diagnostics:
        shown[d.code] += 1
        if shown[d.code] > limit:
            continue
        if len(d.message) > MESSAGE_CHARACTERS:
            d = replace(d, message=d.message[:MESSAGE_CHARACTERS] + f"... ({len(d.message):,} characters)")
        kept.append(d)
        if shown[d.code] == limit and seen[d.code] > limit:
            rest = seen[d.code] - limit
            more = error if d.is_error else warning
            kept.append(more(d.code, f"... and {rest:,} more [{d.code}] problem{'s' * (rest != 1)} like the ones above",
                             "fix those shown, then check again", d.path, d.document).at(d.location))
    return tuple(kept)


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
    """The file's text, or a diagnostic saying why it cannot be read.

    Only a regular file is read (a device such as /dev/zero never ends, and a FIFO blocks until
    someone writes to it), and at most :data:`MAX_BYTES` of it: memory stays small whatever the path.
    """
    where = Location(str(path), 1, 1)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return "", error("file", f"{path} is a folder, not a file", "give the YAML file inside it", (), document).at(where)
        if not stat.S_ISREG(mode):
            kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a pipe (FIFO)" if stat.S_ISFIFO(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            return "", error("file", f"{path} is {kind}, not a file", f"give the {document} file itself", (),
                             document).at(where)
        # O_NONBLOCK: should the path become a FIFO after the check, opening it does not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return "", error("file", f"no such file: {path}", "check the path", (), document).at(where)
    except IsADirectoryError:
        return "", error("file", f"{path} is a folder, not a file", "give the YAML file inside it", (), document).at(where)
    except OSError as exc:
        return "", error("file", f"cannot read {path}: {exc.strerror}", "", (), document).at(where)
    if len(data) > MAX_BYTES:
        return "", error("file-size", f"{path} is larger than the {MAX_BYTES:,} bytes vested reads",
                         f"a {document} file is a few kilobytes of YAML; check that this is the right file", (),
                         document).at(where)
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
