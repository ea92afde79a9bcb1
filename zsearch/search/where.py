"""The ``where`` grammar of a ``--queries`` line: a condition parsed, checked and written back.

Raw SQL from an input file is never handed to LanceDB. :func:`safe_where` accepts
comparisons of paper columns with literal values, ``LIKE``, ``IN``, ``IS [NOT] NULL``,
``array_has``/``array_has_any``/``array_has_all`` on the list columns, joined by ``AND``,
``OR``, ``NOT`` and brackets, and returns the condition rebuilt from its parse (values
re-quoted), so a stray quote or bracket cannot close the condition early and OR its way
past the other filters. docs/reliability.md gives the grammar; tests/test_fuzz_filters.py
runs what it accepts on a real table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields

from zsearch.errors import UsageError
from zsearch.papers.model import Paper


def quote_text(value: str) -> str:
    """A SQL string literal: ``O'Neil`` -> ``'O''Neil'``."""
    return "'" + value.replace("'", "''") + "'"


# Columns a condition may name: Paper's text and number fields, plus the store's timestamps and
# counts (zsearch.store.schema); list columns only inside array_has/array_has_any/array_has_all.
_LIST_COLUMNS = frozenset(f.name for f in fields(Paper) if str(f.type) == "list[str]")
_SCALAR_COLUMNS = frozenset(f.name for f in fields(Paper) if str(f.type) in ("str", "str | None", "int | None")) | {
    "added", "updated", "token_count", "n_chunks"}
_ARRAY_FUNCTIONS = ("array_has", "array_has_any", "array_has_all")
_COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")
# a condition longer or deeper than this is no hand-written filter (and keeps the parser's recursion shallow)
MAX_WHERE_CHARS = 2000
MAX_WHERE_DEPTH = 32
_TOKEN_RE = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?(?![\w.]))|(?P<word>[A-Za-z_]\w*)"""
                       r"""|(?P<op><=|>=|<>|!=|=|<|>)|(?P<punct>[(),\[\]]))""", re.ASCII)


class _Where:
    """A recursive-descent parser that writes back only what it understood."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while text[pos:].strip():
            m = _TOKEN_RE.match(text, pos)
            if not m:
                self.fail("unexpected text", len(text) - len(text[pos:].lstrip()))
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def fail(self, what: str, pos: int | None = None) -> None:
        if pos is None:
            pos = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)
        raise UsageError(f"filters.where: {what} at character {pos + 1} of {self.text!r}",
                         hint="conditions on paper columns with = != < <= > >= LIKE IN IS NULL, "
                              "array_has(categories, '…'), AND, OR, NOT and brackets")

    def peek(self, word: str | None = None) -> str | None:
        if self.i >= len(self.tokens):
            return None
        kind, val, _ = self.tokens[self.i]
        if word is None:
            return val
        return val if (val.upper() == word if kind == "word" else val == word) else None

    def take(self, word: str) -> None:
        if self.peek(word) is None:
            self.fail(f"expected {word}")
        self.i += 1

    def parse(self) -> str:
        out = self.expr(0)
        if self.i < len(self.tokens):
            self.fail(f"unexpected {self.tokens[self.i][1]!r}")
        return out

    def expr(self, depth: int) -> str:
        if depth > MAX_WHERE_DEPTH:
            self.fail("too deeply nested")
        return self.chain("OR", self.conj, depth)

    def conj(self, depth: int) -> str:
        return self.chain("AND", self.neg, depth)

    def chain(self, word: str, operand: Callable[[int], str], depth: int) -> str:
        """``operand (word operand)*``, joined again with ``word``."""
        parts = [operand(depth)]
        while self.peek(word):
            self.i += 1
            parts.append(operand(depth))
        return f" {word} ".join(parts)

    def neg(self, depth: int) -> str:
        if self.peek("NOT"):
            self.i += 1
            return f"NOT {self.neg(depth + 1)}"
        if self.peek("("):
            self.i += 1
            inner = self.expr(depth + 1)
            self.take(")")
            return f"({inner})"
        return self.predicate()

    def word(self) -> str:
        if self.i >= len(self.tokens) or self.tokens[self.i][0] != "word":
            self.fail("expected a column name")
        val = self.tokens[self.i][1]
        self.i += 1
        return val

    def literal(self) -> str:
        if self.i >= len(self.tokens):
            self.fail("expected a value")
        kind, val, _ = self.tokens[self.i]
        if kind in ("str", "num"):
            self.i += 1
            return val if kind == "num" else quote_text(val[1:-1].replace("''", "'"))
        up = val.upper() if kind == "word" else ""
        if up in ("TRUE", "FALSE"):
            self.i += 1
            return up
        if up in ("TIMESTAMP", "DATE"):
            self.i += 1
            if self.i >= len(self.tokens) or self.tokens[self.i][0] != "str":
                self.fail(f"expected a quoted {up.lower()} after {up}")
            v = self.tokens[self.i][1]
            self.i += 1
            return f"{up} {quote_text(v[1:-1].replace(chr(39) * 2, chr(39)))}"
        self.fail("expected a number, a 'quoted text', TRUE, FALSE, DATE '…' or TIMESTAMP '…'")
        return ""  # pragma: no cover - fail raises

    def predicate(self) -> str:
        name = self.word()
        if name.lower() in _ARRAY_FUNCTIONS:
            self.take("(")
            col = self.word()
            if col not in _LIST_COLUMNS:
                self.fail(f"{name} takes a list column ({', '.join(sorted(_LIST_COLUMNS))}), not {col!r}")
            self.take(",")
            if self.peek("["):
                self.i += 1
                values = [self.literal()]
                while self.peek(","):
                    self.i += 1
                    values.append(self.literal())
                self.take("]")
                arg = "[" + ", ".join(values) + "]"
            else:
                arg = self.literal()
            self.take(")")
            return f"{name.lower()}({col}, {arg})"
        if name not in _SCALAR_COLUMNS:
            self.fail(f"unknown column {name!r} (known: {', '.join(sorted(_SCALAR_COLUMNS))})")
        if self.peek("IS"):
            self.i += 1
            neg = " NOT" if self.peek("NOT") else ""
            if neg:
                self.i += 1
            self.take("NULL")
            return f"{name} IS{neg} NULL"
        neg = ""
        if self.peek("NOT"):
            self.i += 1
            neg = "NOT "
        if self.peek("LIKE"):
            self.i += 1
            if self.i >= len(self.tokens) or self.tokens[self.i][0] != "str":
                self.fail("LIKE takes a 'quoted pattern'")
            return f"{name} {neg}LIKE {self.literal()}"
        if self.peek("IN"):
            self.i += 1
            self.take("(")
            values = [self.literal()]
            while self.peek(","):
                self.i += 1
                values.append(self.literal())
            self.take(")")
            return f"{name} {neg}IN ({', '.join(values)})"
        if neg:
            self.fail("expected LIKE or IN after NOT")
        op = self.peek()
        if op not in _COMPARISONS or self.tokens[self.i][0] != "op":
            self.fail(f"expected a comparison ({' '.join(_COMPARISONS)}), IS, LIKE or IN after {name!r}")
        self.i += 1
        return f"{name} {op} {self.literal()}"


def safe_where(text: object) -> str | None:
    """Check a ``where`` condition from a ``--queries`` line against a small grammar; return it as written back.

    Raw SQL is never passed on: a condition may only compare paper columns with literals
    (``= != <> < <= > >= LIKE IN IS [NOT] NULL``), test a list column with
    ``array_has``/``array_has_any``/``array_has_all``, and combine those with ``AND``, ``OR``,
    ``NOT`` and brackets. What comes back is rebuilt from the parse (values re-quoted), so a
    stray quote or bracket cannot end the condition early and OR its way past other filters.
    Anything else is a :class:`UsageError` naming the position.

    >>> safe_where("year >= 2020 AND (doi IS NOT NULL OR array_has(categories, 'cs.IR'))")
    "year >= 2020 AND (doi IS NOT NULL OR array_has(categories, 'cs.IR'))"
    >>> safe_where("1=1) OR (1=1")
    Traceback (most recent call last):
    ...
    zsearch.errors.UsageError: filters.where: expected a column name at character 1 of '1=1) OR (1=1' (conditions on paper columns with = != < <= > >= LIKE IN IS NULL, array_has(categories, '…'), AND, OR, NOT and brackets)
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise UsageError(f"filters.where must be text, not {text!r}")
    if not text.strip():
        return None
    if len(text) > MAX_WHERE_CHARS:
        raise UsageError(f"filters.where is {len(text)} characters long; at most {MAX_WHERE_CHARS}")
    return _Where(text).parse()
