"""Search filters: a :class:`Filters` value turns into one LanceDB SQL ``where`` string.

The string is applied as a *prefilter* (before the nearest-neighbour and BM25 top-k), so a
filter never drops a paper that should be there: restricting to a paper that ranks 200th
overall still returns it first. The columns it reads carry scalar indexes built by
:func:`zsearch.store.indexes.optimize` — BTREE on ``year`` and ``added``, BITMAP on
``source``, LABEL_LIST on ``sources`` and ``categories`` — so a filter costs an index
lookup, not a table scan.

Text a user types is never pasted into SQL as it stands: values are quoted, LIKE wildcards in
an author's name are escaped, and a ``where`` condition from a ``--queries`` line is parsed by
:func:`safe_where` (a small grammar over the paper columns) and written out again.

Pure: no LanceDB import here; cluster, eval and export build their filters with it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date

from zsearch.errors import UsageError
from zsearch.papers.model import Paper

# the source names zsearch writes (Paper.source); `beir` is what `zsearch eval beir` ingests
KNOWN_SOURCES = ("arxiv", "pubmed", "pdf", "beir")

# arXiv's archives, current and retired (https://arxiv.org/category_taxonomy and the old-style
# ids' prefixes). A --category value is split on commas only when every part is one of these,
# alone or with a subject class ("cs.IR,cs.CL", "hep-th, math.AG"); a MeSH heading's parts
# ("Carcinoma, Hepatocellular") never are, so it stays one value.
ARXIV_ARCHIVES = (
    "astro-ph", "cond-mat", "cs", "econ", "eess", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
    "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin", "quant-ph", "stat",
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph", "cmp-lg",
    "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg", "solv-int", "supr-con",
)
ARXIV_CATEGORY_RE = re.compile(rf"(?:{'|'.join(re.escape(a) for a in ARXIV_ARCHIVES)})(?:\.[A-Za-z]+(?:-[A-Za-z]+)?)?")


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2019..2024`` / ``2019..`` / ``..2024`` / ``2021`` -> (from, to), both inclusive.

    >>> parse_years("2019..2024"), parse_years("2021"), parse_years("..2010")
    ((2019, 2024), (2021, 2021), (None, 2010))
    """
    t = text.strip()
    m = re.fullmatch(r"(\d{4})?\s*(?:\.\.|-|:)\s*(\d{4})?", t)
    if m and (m.group(1) or m.group(2)):
        lo = int(m.group(1)) if m.group(1) else None
        hi = int(m.group(2)) if m.group(2) else None
    elif re.fullmatch(r"\d{4}", t):
        lo = hi = int(t)
    else:
        raise UsageError(f"--year takes YEAR or FROM..TO (e.g. 2019..2024), not {text!r}")
    if lo is not None and hi is not None and lo > hi:
        raise UsageError(f"--year {text}: the range is empty ({lo} > {hi})")
    return lo, hi


def parse_date(text: str) -> str:
    """Check ``YYYY-MM-DD`` (or ``YYYY-MM``/``YYYY``, meaning its first day); return the full date."""
    if not isinstance(text, str):
        raise UsageError(f"--since takes a date YYYY-MM-DD, not {text!r}")
    t = text.strip()
    parts = t.split("-")
    try:
        if len(parts) == 1:
            d = date(int(parts[0]), 1, 1)
        elif len(parts) == 2:
            d = date(int(parts[0]), int(parts[1]), 1)
        elif len(parts) == 3:
            d = date(int(parts[0]), int(parts[1]), int(parts[2]))
        else:
            raise ValueError
    except ValueError:
        raise UsageError(f"--since takes a date YYYY-MM-DD, not {text!r}") from None
    return d.isoformat()


@dataclass(frozen=True)
class Filters:
    """What a search may return. Empty fields do not filter; several values of a field are OR-ed.

    >>> Filters(year_from=2019, year_to=2024, sources=("arxiv",)).where()
    "year >= 2019 AND year <= 2024 AND (source IN ('arxiv') OR array_has_any(sources, ['arxiv']))"
    """

    year_from: int | None = None
    year_to: int | None = None
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # arXiv categories (cs.CL) and MeSH terms, as stored
    authors: tuple[str, ...] = ()  # case-insensitive substring of any author name
    since: str | None = None  # ISO date: added to the library or published on/after it
    where_sql: str | None = field(default=None)  # an extra raw LanceDB SQL condition

    @classmethod
    def build(
        cls,
        *,
        year: str | None = None,
        source: list[str] | tuple[str, ...] | str | None = None,
        category: list[str] | tuple[str, ...] | str | None = None,
        author: list[str] | tuple[str, ...] | str | None = None,
        since: str | None = None,
        where: str | None = None,
    ) -> Filters:
        """From CLI-style strings: ``year="2019..2024"``, ``source="arxiv,pubmed"``…"""
        lo, hi = parse_years(year) if year else (None, None)
        srcs = _split(source)
        bad = [s for s in srcs if s not in KNOWN_SOURCES]
        if bad:
            raise UsageError(f"unknown source {bad[0]!r}; choose from: {', '.join(KNOWN_SOURCES)}")
        return cls(
            year_from=lo,
            year_to=hi,
            sources=tuple(srcs),
            categories=tuple(split_categories(category)),
            authors=tuple(a.strip() for a in _as_list(author) if a.strip()),
            since=parse_date(since) if since else None,
            where_sql=safe_where(where) if where is not None else None,
        )

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) not in (None, ()) for f in fields(self))

    def where(self) -> str | None:
        """The LanceDB SQL condition, or None when nothing is filtered."""
        conds: list[str] = []
        if self.year_from is not None:
            conds.append(f"year >= {int(self.year_from)}")
        if self.year_to is not None:
            conds.append(f"year <= {int(self.year_to)}")
        if self.sources:
            # `source` is where the record came from first; `sources` every source that gave it
            conds.append(f"(source IN ({', '.join(_q(s) for s in self.sources)}) "
                         f"OR array_has_any(sources, {_list(list(self.sources))}))")
        if self.categories:
            conds.append(f"array_has_any(categories, {_list(list(self.categories))})")
        if self.authors:
            # names are stored as written ("Jane Q. Doe"): match a case-insensitive part of any one
            parts = [_author_like(a) for a in self.authors]
            conds.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
        if self.since:
            conds.append(f"(added >= TIMESTAMP {_q(self.since + ' 00:00:00')} OR published >= {_q(self.since)})")
        if self.where_sql:
            conds.append(f"({self.where_sql})")
        return " AND ".join(conds) if conds else None


def _author_like(name: str) -> str:
    """``lower(authors) LIKE '%name%'``; ``%``, ``_`` and ``\\`` in the name match themselves.

    >>> _author_like("O_Brien")
    "lower(array_to_string(authors, '|')) LIKE '%o\\\\_brien%' ESCAPE '\\\\'"
    """
    s = name.lower().strip()
    escaped = s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cond = f"lower(array_to_string(authors, '|')) LIKE {_q('%' + escaped + '%')}"
    # ESCAPE only where it is needed: the common name keeps the plain form docs/search.md shows
    return cond + " ESCAPE '\\'" if escaped != s else cond


def _as_list(v: list[str] | tuple[str, ...] | str | None) -> list[str]:
    if v is None:
        return []
    items = [v] if isinstance(v, str) else list(v) if isinstance(v, (list, tuple)) else [v]
    bad = [x for x in items if not isinstance(x, str)]
    if bad:
        raise UsageError(f"a filter value is text or a list of text, not {bad[0]!r}")
    return items


def split_categories(v: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """--category values: ``"cs.IR,cs.CL"`` is two arXiv categories, ``"Carcinoma, Hepatocellular"`` one MeSH heading.

    >>> split_categories(["cs.IR, cs.CL", "Carcinoma, Hepatocellular", "cs.IR"])
    ['cs.IR', 'cs.CL', 'Carcinoma, Hepatocellular']
    """
    out: list[str] = []
    for item in _as_list(v):
        parts = [p.strip() for p in item.split(",")]
        if len(parts) > 1 and all(ARXIV_CATEGORY_RE.fullmatch(p) for p in parts if p):
            values = parts
        else:
            values = [item.strip()]
        out.extend(x for x in values if x and x not in out)
    return out


def _split(v: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """``["arxiv,pubmed", "pdf"]`` -> ``["arxiv", "pubmed", "pdf"]`` (order kept, duplicates dropped)."""
    out: list[str] = []
    for item in _as_list(v):
        for s in item.split(","):
            s = s.strip()
            if s and s not in out:
                out.append(s)
    return out


def where_of(filters: Filters | str | None) -> str | None:
    """Accept a Filters, a raw SQL string or None (the forms Library.search takes)."""
    if filters is None:
        return None
    if isinstance(filters, str):
        return filters or None
    return filters.where()


# -- the `where` grammar of a --queries line -------------------------------------------------
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
        parts = [self.conj(depth)]
        while self.peek("OR"):
            self.i += 1
            parts.append(self.conj(depth))
        return " OR ".join(parts)

    def conj(self, depth: int) -> str:
        parts = [self.neg(depth)]
        while self.peek("AND"):
            self.i += 1
            parts.append(self.neg(depth))
        return " AND ".join(parts)

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
            return val if kind == "num" else _q(val[1:-1].replace("''", "'"))
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
            return f"{up} {_q(v[1:-1].replace(chr(39) * 2, chr(39)))}"
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
