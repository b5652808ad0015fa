"""YAML text -> plain Python data, with the line and column of every key and value.

PyYAML composes a node tree that knows its positions; we construct the data ourselves from that
tree so that (a) every mapping key and value keeps its position, (b) decimals are read from their
text as ``Decimal`` (never through a float), (c) duplicate keys are errors instead of silently
overwritten, and (d) nothing in the file can construct arbitrary objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from vested.core.diagnostics import Diagnostic, Location, Path, error

MAX_NODES = 200_000
"""Most nodes a document may expand to (aliases can make a tiny file enormous)."""


@dataclass
class Source:
    """A parsed document: its data, the position of every path in it, and what went wrong reading it."""

    name: str
    data: Any = None
    positions: dict[Path, Location] = field(default_factory=dict)
    key_positions: dict[Path, Location] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False) -> Location | None:
        """The location of ``path``, or of its nearest ancestor that exists in the document."""
        table = self.key_positions if key else self.positions
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in table:
                return table[prefix]
            if prefix in self.positions:
                return self.positions[prefix]
        return Location(self.name, 1, 1)


class _TooBig(Exception):
    pass


class _Builder:
    def __init__(self, source: Source, document: str):
        self.source = source
        self.document = document
        self.count = 0

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.source.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.source.positions.setdefault(path, self.loc(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build_key(key_node, path)
                if key is _MERGE:
                    continue
                if key in result:
                    self.source.diagnostics.append(error(
                        "duplicate-key", f"key {key!r} appears twice in this mapping",
                        "remove one of them (YAML would silently keep only the last)", (*path, key), self.document,
                    ).at(self.loc(key_node)))
                    continue
                self.source.key_positions[(*path, key)] = self.loc(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def build_key(self, node: yaml.Node, path: Path) -> Any:
        if node.tag == "tag:yaml.org,2002:merge":
            self.source.diagnostics.append(error("yaml", "merge keys (<<) are not supported", "write the keys out",
                                                 path, self.document).at(self.loc(node)))
            return _MERGE
        if not isinstance(node, yaml.ScalarNode):
            self.source.diagnostics.append(error("yaml", "a mapping key must be a plain value", "", path, self.document)
                                           .at(self.loc(node)))
            return f"<complex key at line {node.start_mark.line + 1}>"
        key = self.scalar(node)
        return key if isinstance(key, str | int) else str(key)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in ("true", "yes", "on", "y")
        if tag == "tag:yaml.org,2002:int":
            try:
                return int(text.replace("_", ""), 0)
            except ValueError:
                return text
        if tag == "tag:yaml.org,2002:float":
            cleaned = text.replace("_", "").lower()
            if cleaned.lstrip("+-") in (".inf", ".nan"):
                return text  # not a finite number: the format's number type will refuse it with a message
            try:
                return Decimal(cleaned)
            except InvalidOperation:
                return text
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                return yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except (ValueError, TypeError, OverflowError):
                return text
        return text


_MERGE = object()


def read_yaml(text: str, name: str, document: str = "agreement") -> Source:
    """Parse ``text`` (the contents of file ``name``); syntax problems become diagnostics."""
    source = Source(name)
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        source.diagnostics.append(error("yaml-syntax", f"YAML syntax error: {problem}",
                                        "check indentation, colons and quotes around this point", (), document).at(where))
        return source
    except yaml.YAMLError as exc:
        source.diagnostics.append(error("yaml-syntax", f"YAML error: {exc}", "", (), document).at(Location(name, 1, 1)))
        return source
    except RecursionError:
        source.diagnostics.append(error("yaml-syntax", "the document is nested too deeply", "flatten it", (), document)
                                  .at(Location(name, 1, 1)))
        return source
    if len(nodes) > 1:
        second = nodes[1]
        source.diagnostics.append(error("yaml-syntax", "the file holds more than one YAML document",
                                        "keep one document per file (remove the extra ---)", (), document)
                                  .at(Location(name, second.start_mark.line + 1, second.start_mark.column + 1)))
        return source
    if not nodes or nodes[0] is None:
        source.diagnostics.append(error("empty", "the file is empty", "start from `vested init` or an example", (), document)
                                  .at(Location(name, 1, 1)))
        return source
    try:
        source.data = _Builder(source, document).build(nodes[0], ())
    except _TooBig:
        source.diagnostics.append(error("yaml-size", f"the document expands to more than {MAX_NODES} values",
                                        "remove alias loops or split the file", (), document).at(Location(name, 1, 1)))
        source.data = None
    except RecursionError:
        source.diagnostics.append(error("yaml-syntax", "the document is nested too deeply", "flatten it", (), document)
                                  .at(Location(name, 1, 1)))
        source.data = None
    return source


def is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


DATE_TYPES = (dt.date, dt.datetime)
