"""The formula language: a small, safe expression language for numbers computed from other numbers.

    parse_formula("clamp(1 − 0.6 × quality, 40%, 60%)") -> Node

A formula is text; this module turns it into an immutable tree (:class:`Node`) by a hand-written
Pratt parser: the grammar is small enough that a parser generator would be more to read than the
parser, it adds no dependency to the pure core, and every error keeps the exact character offset
where it was found (the YAML adapter turns it into a line and a column). Nothing is ever passed
to Python's ``eval``: evaluation (``vested.core.formula_eval``) walks the tree.

Grammar (lowest precedence first)::

    formula    := "if" formula "then" formula "else" formula | or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := number ["%"] | name | name "(" [formula ("," formula)*] ")" | "(" formula ")"

Numbers are exact decimals (``1500``, ``0.6``, ``2.5%``; ``_`` may group digits, a comma never:
it separates arguments). Names are ids (``orders``, ``quality.score``) or any id in backticks
(```fleet-fee```, whose ``-`` would otherwise be a minus). ``×``, ``÷``, ``−``, ``≤``, ``≥``, ``≠``
and a single ``=`` are accepted as the same operators, as contracts write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from vested.core.money import HUNDRED


class FormulaError(Exception):
    """A formula that cannot be read or evaluated: a message, a hint, and where in the text."""

    def __init__(self, message: str, offset: int = 0, hint: str = "", code: str = "formula"):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint
        self.code = code


@dataclass(frozen=True)
class Node:
    """A node of a formula: ``start`` and ``end`` are offsets into the formula's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Num(Node):
    value: Decimal
    percent: bool
    """Written with %: ``2.5%`` is the share 0.025."""
    text: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / < <= > >= == != and or
    left: Node
    right: Node
    at: int = 0
    """Offset of the operator (where a problem with the operation is shown)."""


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


KEYWORDS = frozenset({"if", "then", "else", "and", "or", "not"})
FUNCTIONS = {"min": (2, None), "max": (2, None), "clamp": (3, 3), "abs": (1, 1), "lookup": (2, 2)}
"""Function name -> (fewest, most arguments); None: no limit."""

_SYNONYMS = {"×": "*", "÷": "/", "−": "-", "–": "-", "≤": "<=", "≥": ">=", "≠": "!=", "=": "=="}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d[\d_]*(?:\.\d[\d_]*)?\s*%?)
  | (?P<quoted>`[^`]*`)
  | (?P<name>[A-Za-z][A-Za-z0-9_.]*)
  | (?P<op><=|>=|==|!=|[-+*/()<>,=×÷−–≤≥≠])
""", re.VERBOSE)
_PRECEDENCE = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4, "+": 5, "-": 5, "*": 6, "/": 6}
COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, keyword, end
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            hint = ("a comma separates a function's arguments; write 1500000, not 1,500,000" if char == ","
                    else "formulas use numbers, names, + − × ÷, comparisons, and min, max, clamp, abs, lookup, if")
            if char in "'\"":
                hint = "names are written without quotes; an id with '-' goes in backticks, e.g. `fleet-fee`"
            raise FormulaError(f"unexpected character {char!r} in the formula", position, hint)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "name" and value in KEYWORDS:
            kind = "keyword"
        elif kind == "quoted":
            kind, value = "name", value[1:-1]
            if not value:
                raise FormulaError("empty name in backticks", position, "write the id between the backticks")
        elif kind == "op":
            value = _SYNONYMS.get(value, value)
        if kind != "space":
            tokens.append(Token(kind, value, match.start(), match.end()))
        position = match.end()
    end = len(text.rstrip())  # a folded YAML block ends in a line break: the formula ends before it
    tokens.append(Token("end", "", end, end))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str, context: str) -> Token:
        token = self.token
        if token.text != text or token.kind not in ("op", "keyword"):
            found = f"{token.text!r}" if token.kind != "end" else "the end of the formula"
            raise FormulaError(f"expected {text!r} {context}, found {found}", token.start,
                               f"write `{text}` here" if text != ")" else "close the bracket")
        return self.take()

    def formula(self) -> Node:
        if self.token.kind == "keyword" and self.token.text == "if":
            start = self.take().start
            condition = self.formula()
            self.expect("then", "after the condition of `if`")
            then = self.formula()
            self.expect("else", "after `if ... then ...` (every `if` needs an `else`)")
            otherwise = self.formula()
            return If(start, otherwise.end, condition, then, otherwise)
        return self.binary(1)

    def binary(self, level: int) -> Node:
        left = self.prefix(level)
        while True:
            token = self.token
            precedence = _PRECEDENCE.get(token.text) if token.kind in ("op", "keyword") else None
            if precedence is None or precedence < level:
                return left
            self.take()
            right = self.binary(precedence + 1)
            if token.text in COMPARISONS and self.token.text in COMPARISONS and self.token.kind == "op":
                raise FormulaError("comparisons cannot be chained", self.token.start,
                                   "write `a <= x and x <= b`, or clamp(x, a, b)")
            left = Binary(left.start, right.end, token.text, left, right, token.start)

    def prefix(self, level: int) -> Node:
        token = self.token
        if token.kind == "keyword" and token.text == "not" and level <= 3:
            self.take()
            operand = self.binary(3)
            return Unary(token.start, operand.end, "not", operand)
        if token.kind == "op" and token.text == "-":
            self.take()
            operand = self.binary(7)
            return Unary(token.start, operand.end, "-", operand)
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            text = token.text.replace("_", "").replace(" ", "")
            percent = text.endswith("%")
            try:
                value = Decimal(text.rstrip("%"))
            except InvalidOperation:
                raise FormulaError(f"{token.text!r} is not a number", token.start) from None
            return Num(token.start, token.end, value / HUNDRED if percent else value, percent, token.text)
        if token.kind == "name":
            if self.token.text == "(" and self.token.kind == "op":
                return self.call(token)
            return Name(token.start, token.end, token.text)
        if token.kind == "op" and token.text == "(":
            inner = self.formula()
            close = self.expect(")", "to close the bracket")
            return _with_span(inner, token.start, close.end)
        if token.kind == "end":
            raise FormulaError("the formula ends too early" if token.start else "the formula is empty", token.start,
                               "finish the formula" if token.start else "write a number or a formula")
        if token.kind == "keyword":
            raise FormulaError(f"unexpected {token.text!r}", token.start,
                               "`if` starts a choice: if condition then value else value")
        raise FormulaError(f"unexpected {token.text!r}", token.start, "a number, a name or '(' goes here")

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            from difflib import get_close_matches

            close = get_close_matches(name.text, list(FUNCTIONS), n=1, cutoff=0.6)
            raise FormulaError(f"unknown function {name.text!r}", name.start,
                               f"did you mean {close[0]!r}?" if close else f"functions: {', '.join(FUNCTIONS)}",
                               "unknown-name")
        self.take()  # (
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.formula())
            while self.token.kind == "op" and self.token.text == ",":
                self.take()
                args.append(self.formula())
        closing = self.expect(")", f"to close {name.text}(")
        fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"at least {fewest}"
            usage = {"clamp": "clamp(value, lowest, highest)", "lookup": "lookup(table, value)",
                     "abs": "abs(value)"}.get(name.text, f"{name.text}(a, b, ...)")
            raise FormulaError(f"{name.text} takes {wanted} argument{'s' if fewest != 1 else ''}, found {len(args)}",
                               name.start, f"write {usage}")
        return Call(name.start, closing.end, name.text, tuple(args))


def _with_span(node: Node, start: int, end: int) -> Node:
    """The node of a bracketed formula, spanning its brackets (so the text shown keeps them)."""
    from dataclasses import replace

    return replace(node, start=start, end=end)


def parse_formula(text: str) -> Node:
    """The tree of ``text``; a :class:`FormulaError` with the offset of the problem if it is not a formula."""
    parser = _Parser(text)
    node = parser.formula()
    if parser.token.kind != "end":
        token = parser.token
        hint = "an operator (+ − × ÷) or a comparison goes between two values"
        if token.text == ")":
            hint = "this bracket closes nothing: remove it"
        elif token.text == ",":
            hint = "a comma separates a function's arguments; write 1500000 (or 1_500_000), not 1,500,000"
        raise FormulaError(f"unexpected {token.text!r} after a complete formula", token.start, hint)
    return node


def names_in(node: Node) -> list[Name]:
    """Every name the formula reads, in the order written (table names in lookup included)."""
    found: list[Name] = []

    def walk(n: Node) -> None:
        if isinstance(n, Name):
            found.append(n)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Call):
            for arg in n.args:
                walk(arg)
        elif isinstance(n, If):
            walk(n.condition)
            walk(n.then)
            walk(n.otherwise)

    walk(node)
    return found
