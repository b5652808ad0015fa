"""YAML text -> plain Python data, with the line and column of every key and value.

PyYAML composes a node tree that knows its positions; we construct the data ourselves from that
tree so that (a) every mapping key and value keeps its position, (b) decimals are read from their
text as ``Decimal`` (never through a float), (c) duplicate keys are errors instead of silently
overwritten, and (d) nothing in the file can construct arbitrary objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from vested.core.diagnostics import Diagnostic, Location, Path, error

MAX_BYTES = 256 * 1024
"""Largest document read (the largest example agreement is 9 KB): beyond it, parsing alone takes seconds."""
MAX_NODES = 100_000
"""Most values a document may expand to (aliases can make a tiny file enormous)."""
MAX_DEPTH = 40
"""Deepest nesting of lists and mappings (an agreement needs about 8); deeper ones are refused where they cross it."""


@dataclass
class Source:
    """A parsed document: its data, the position of every path in it, and what went wrong reading it."""

    name: str
    data: Any = None
    positions: dict[Path, Location] = field(default_factory=dict)
    key_positions: dict[Path, Location] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    texts: dict[Path, tuple[str, int, int]] = field(default_factory=dict)
    """Each text value's style ('' plain, quote, '|' or '>') and 0-based line and column, to place an offset in it."""
    lines: list[str] = field(default_factory=list)

    def locate(self, path: Path, *, key: bool = False, offset: int | None = None) -> Location | None:
        """The location of ``path``, or of its nearest ancestor that exists in the document; with ``offset``,
        of that character inside the text value at ``path`` (a formula)."""
        if offset is not None and path in self.texts:
            return self._inside(path, offset)
        table = self.key_positions if key else self.positions
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in table:
                return table[prefix]
            if prefix in self.positions:
                return self.positions[prefix]
        return Location(self.name, 1, 1)

    def _inside(self, path: Path, offset: int) -> Location:
        """Line and column of character ``offset`` of a text value, following its lines as YAML folds them."""
        style, line, column = self.texts[path]
        if style in ("|", ">"):  # a block: the text starts on the next line, at the block's indentation
            line += 1
            while line < len(self.lines) - 1 and not self.lines[line].strip():
                line += 1
            column = len(self.lines[line]) - len(self.lines[line].lstrip()) if line < len(self.lines) else 0
        elif style:
            column += 1  # after the opening quote
        remaining = offset
        while line < len(self.lines) - 1:
            content = self.lines[line][column:].rstrip()
            if remaining <= len(content):
                break
            remaining -= len(content) + 1  # a line break reads as one character (a space or a newline)
            line += 1
            column = len(self.lines[line]) - len(self.lines[line].lstrip())
        return Location(self.name, line + 1, column + remaining + 1)


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node):
        super().__init__()
        self.node = node


class _Builder:
    def __init__(self, source: Source, document: str):
        self.source = source
        self.document = document
        self.count = 0
        self.active: set[int] = set()  # collections being built: an alias to one of them is a loop

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.source.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        if len(path) > MAX_DEPTH:
            raise _TooDeep(node)
        self.source.positions.setdefault(path, self.loc(node))
        if node.tag not in STANDARD_TAGS:
            self.problem("yaml-tag", f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not supported",
                         "remove the tag; an agreement holds plain text, numbers, lists and mappings", path, node)
            return None
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith(":str"):
                self.source.texts[path] = (node.style or "", node.start_mark.line, node.start_mark.column)
            return self.scalar(node)
        if id(node) in self.active:
            self.problem("yaml-alias", "this alias refers to a list or mapping that contains it, so it never ends",
                         "write the values out instead of using the alias", path, node)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.build_key(key_node, path)
            if key is None:
                continue
            if key in result:
                first = self.source.key_positions[(*path, key)]
                self.problem("duplicate-key", f"key {key!r} appears twice in this mapping (first at line {first.line})",
                             "remove one of them (YAML would silently keep only the last)", (*path, key), key_node)
                continue
            self.source.key_positions[(*path, key)] = self.loc(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def build_key(self, node: yaml.Node, path: Path) -> str | None:
        """A mapping key as the text written (``12:`` is the key '12'); None when it cannot be one."""
        if node.tag == "tag:yaml.org,2002:merge":
            self.problem("yaml", "merge keys (<<) are not supported", "write the keys out", path, node)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.problem("yaml", "a mapping key must be a plain value, not a list or a mapping",
                         "write the key as text followed by ':'", path, node)
            return None
        if node.tag not in STANDARD_TAGS:
            self.problem("yaml-tag", f"the YAML tag {node.tag} is not supported", "remove the tag", path, node)
            return None
        return str(node.value)

    def problem(self, code: str, message: str, hint: str, path: Path, node: yaml.Node) -> None:
        self.source.diagnostics.append(error(code, message, hint, path, self.document).at(self.loc(node)))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            lowered = text.lower()
            return True if lowered in ("true", "yes", "on") else False if lowered in ("false", "no", "off") else text
        if tag == "tag:yaml.org,2002:int":
            if not _PLAIN_INTEGER.fullmatch(text):
                # +5, 1_000, 0x1F, 017 (octal in YAML 1.1), 1:30 (base 60), -0: kept as the text written, so
                # that a text field holds it as is and a number field refuses it with a hint (core.values)
                return text
            whole = int(text)
            if abs(whole) >= 10**MAX_EXPONENT:
                self.problem("yaml-number", f"{text} is too large to be a quantity in an agreement",
                             "check the number of digits", (), node)
                return None
            return whole
        if tag == "tag:yaml.org,2002:float":
            cleaned = text.lower()
            if cleaned.lstrip("+-") in (".inf", ".nan"):
                # not a finite number: the format's number type refuses it with a message
                return Decimal("NaN") if cleaned.endswith("nan") else Decimal(cleaned.replace(".inf", "Infinity"))
            if not _PLAIN_DECIMAL.fullmatch(text):
                return text  # +1.5, 1_000.5, .5, 1.: refused with a hint by a number field, as written
            try:
                number = Decimal(cleaned)
            except InvalidOperation:
                return text
            if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
                self.problem("yaml-number", f"{text} is too {'large' if number.adjusted() > 0 else 'small'} "
                             "to be a quantity in an agreement", "write the number in full, e.g. 1250000 or 0.0001",
                             (), node)
                return None
            return number
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                return yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except (ValueError, TypeError, OverflowError, AttributeError):
                return text
        return text


_PLAIN_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_PLAIN_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+([eE][-+]?[0-9]+)?")
"""The YAML numbers read as numbers; YAML 1.1 resolves more spellings (see ``core.values.number_text_problem``)."""

STANDARD_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp",
                                                                     "map", "seq", "merge"))
"""Tags the plain data of a YAML file resolves to; any other (``!!python/object``, ``!foo``) is refused."""

MAX_EXPONENT = 30
"""Numbers written with an exponent beyond 10**±30 are typos or attacks, never contract figures."""


def read_yaml(text: str, name: str, document: str = "agreement") -> Source:
    """Parse ``text`` (the contents of file ``name``); syntax problems become diagnostics."""
    source = Source(name, lines=text.splitlines())

    def fail(code: str, message: str, hint: str, where: Location) -> Source:
        source.diagnostics.append(error(code, message, hint, (), document).at(where))
        return source

    if len(text) > MAX_BYTES:
        return fail("file-size", f"the {document} is {len(text):,} characters long, more than the {MAX_BYTES:,} "
                    "vested reads", "an agreement is a few kilobytes of YAML; check that this is the right file",
                    Location(name, 1, 1))
    # PyYAML's scanner slows down with the square of the depth of [ and { (it revisits every open
    # bracket at each token), so deep brackets are found first, by a scan that stops where they cross.
    deep = too_deep(text, name) if text.count("[") + text.count("{") > MAX_DEPTH else None
    if deep is not None:
        return fail("yaml-depth", f"the document is nested more than {MAX_DEPTH} levels deep here", DEPTH_HINT, deep)
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        message, hint, mark = explain_syntax_error(exc, text)
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
        return fail("yaml-syntax", f"YAML syntax error: {message}", hint, where)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Location(name, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return fail("yaml-syntax", f"the file contains the character U+{ord(character):04X}, which YAML does not allow",
                    "remove it (control characters cannot appear in a YAML file)", where)
    except yaml.YAMLError as exc:
        return fail("yaml-syntax", f"YAML error: {exc}", "", Location(name, 1, 1))
    except RecursionError:
        return fail("yaml-depth", f"the document is nested more than {MAX_DEPTH} levels deep here", DEPTH_HINT,
                    too_deep(text, name) or Location(name, 1, 1))
    if len(nodes) > 1:
        second = nodes[1]
        return fail("yaml-syntax", "the file holds more than one YAML document",
                    "keep one document per file (remove the extra ---)",
                    Location(name, second.start_mark.line + 1, second.start_mark.column + 1))
    if not nodes or nodes[0] is None or (isinstance(nodes[0], yaml.ScalarNode) and nodes[0].tag.endswith(":null")):
        return fail("empty", f"the {document} file is empty", "start from `vested init` or an example", Location(name, 1, 1))
    try:
        source.data = _Builder(source, document).build(nodes[0], ())
    except _TooBig:
        source.data, source.positions, source.key_positions, source.diagnostics = None, {}, {}, []
        return fail("yaml-size", f"the document expands to more than {MAX_NODES:,} values",
                    "aliases (*name) repeat what their anchor holds: write fewer of them, or split the file",
                    Location(name, 1, 1))
    except _TooDeep as crossed:
        source.data, source.positions, source.key_positions, source.diagnostics = None, {}, {}, []
        mark = crossed.node.start_mark
        return fail("yaml-depth", f"the document is nested more than {MAX_DEPTH} levels deep here", DEPTH_HINT,
                    Location(name, mark.line + 1, mark.column + 1))
    return source


_OPENS = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


DEPTH_HINT = "an agreement nests a few levels; close the brackets or reduce the indentation"


def too_deep(text: str, name: str) -> Location | None:
    """Where the nesting of ``text`` first goes deeper than :data:`MAX_DEPTH`, if it does (the scanner does not recurse)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            depth += isinstance(token, _OPENS) - isinstance(token, _CLOSES)
            if depth > MAX_DEPTH + 1:  # the document itself is depth 1 here, 0 as a path
                return Location(name, token.start_mark.line + 1, token.start_mark.column + 1)
    except yaml.YAMLError:
        pass  # a syntax error before the nesting crosses the limit: composing reports it
    return None


_FOUND = {"<block mapping start>": "key", "<block sequence start>": "list item ('- ')", "?": "key", "-": "list item ('- ')"}


def explain_syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str, Any]:
    """PyYAML's complaint in plain words, a hint, and the mark to point at (where the fix goes)."""
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    mark, opened = exc.problem_mark or exc.context_mark, exc.context_mark
    lines = text.splitlines()
    line = lines[mark.line] if mark and mark.line < len(lines) else ""
    if "'\\t'" in problem or (mark and "\t" in line[: mark.column + 1] and "cannot start any token" in problem):
        return ("a tab character; YAML indents with spaces only",
                "replace the tab with spaces (your editor can insert spaces when you press Tab)", mark)
    if "cannot start any token" in problem:
        return (problem.replace("found character", "the character") + " (it has a special meaning in YAML)",
                "put the value in quotes", mark)
    if "quoted scalar" in context and opened is not None:
        if "end of stream" in problem:
            return ("this quote is never closed", "add the closing quote at the end of the value", opened)
        return (f"{problem} in this quoted text", "inside double quotes write a backslash as \\\\ "
                "(or use single quotes)", mark)
    if "flow mapping" in context or "flow sequence" in context:
        bracket = "{" if "mapping" in context else "["
        closer = "}" if bracket == "{" else "]"
        where = f" (line {mark.line + 1})" if mark and opened and mark.line != opened.line else ""
        return (f"the '{bracket}' here is not closed with '{closer}' before the next item{where}",
                f"close it with '{closer}', and separate items with ', '", opened or mark)
    if "simple key" in context and "could not find expected ':'" in problem and opened is not None:
        return ("this line has no ':' after its key", "write `key: value` (a colon and a space after the key)", opened)
    if problem == "mapping values are not allowed here":
        return ("unexpected ':' (a value that contains ': ' must be in quotes, or this line is indented too far)",
                "put quotes around the value, or line the key up with the keys above it", mark)
    if problem.startswith("expected <block end>, but found"):
        found = problem.split("but found ", 1)[1].strip("'")
        block = f" (the block starts at line {opened.line + 1})" if opened is not None else ""
        if found not in _FOUND:
            what = "text" if found == "<scalar>" else found
            return (f"unexpected {what} here (text after a closing quote, or a line indented unlike its block{block})",
                    "put the whole value inside the quotes, or line the key up with the keys above it", mark)
        return (f"this {_FOUND[found]} is not indented like the lines of its block{block}",
                "keys of one mapping, and the '- ' of one list, line up in the same column", mark)
    if "undefined alias" in problem:
        name = problem.rsplit(" ", 1)[-1].strip("'")
        return (f"the alias *{name} has no anchor &{name} before it",
                "define the anchor first, or write the value out", mark)
    return (problem, "check indentation, colons and quotes around this point", mark)
