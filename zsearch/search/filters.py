"""Search filters: a :class:`Filters` value turns into one LanceDB SQL ``where`` string.

The string is applied as a *prefilter* (before the nearest-neighbour and BM25 top-k), so a
filter never drops a paper that should be there: restricting to a paper that ranks 200th
overall still returns it first. The columns it reads carry scalar indexes built by
:func:`zsearch.store.indexes.optimize` — BTREE on ``year`` and ``added``, BITMAP on
``source``, LABEL_LIST on ``sources`` and ``categories`` — so a filter costs an index
lookup, not a table scan.

Text a user types is never pasted into SQL as it stands: values are quoted, LIKE wildcards in
an author's name are escaped, and a ``where`` condition from a ``--queries`` line is parsed by
:func:`zsearch.search.where.safe_where` (a small grammar over the paper columns) and written out again.

Pure: no LanceDB import here; cluster, eval and export build their filters with it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date

from zsearch.errors import UsageError
from zsearch.search.where import quote_text as _q
from zsearch.search.where import safe_where

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
