"""Search filters hold against what users type (issue 13, finding 6), on a real LanceDB.

* ``--category "Carcinoma, Hepatocellular"`` is one MeSH heading; ``cs.IR,cs.CL`` still two
  arXiv categories (commas split only when every part is an arXiv category).
* ``--author``: ``%``, ``_`` and ``\\`` are characters, not LIKE wildcards.
* a ``--queries`` line's ``filters.where`` is parsed by a small grammar and written back,
  never pasted: ``1=1) OR (1=1`` cannot OR its way past the other filters.

The fuzz cases are counted with the readers' (tests/test_fuzz_readers.py prints the summary).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_fuzz_readers import CASES, COMMON, SLOW_FACTOR, _count_cases, time_limit  # noqa: F401  (fixture)

from zsearch.errors import UsageError
from zsearch.search.filters import Filters

DIM = 8
AUTHORS = [["Jane_Doe"], ["JaneXDoe"], ["A 100% Person"], ["A 1000 Person"], ["back\\slash"], ["O'Neil", "Ann Lee"],
           ["[i] Doe"], ["Zoë Ångström"]]
CATEGORIES = [["Carcinoma, Hepatocellular", "Humans"], ["Carcinoma"], ["Hepatocellular"], ["cs.IR"], ["cs.CL"],
              ["hep-th", "math.AG"], ["q-bio.GN"], []]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real store of 8 papers with chosen authors and categories (rows written directly, no model)."""
    from zsearch.papers.model import Paper
    from zsearch.store.schema import paper_row
    from zsearch.store.tables import Store

    st_ = Store(tmp_path_factory.mktemp("fuzz-filters"))
    st_.ensure("test/random-8", DIM)
    rng = np.random.default_rng(0)
    rows = []
    for i, (authors, cats) in enumerate(zip(AUTHORS, CATEGORIES)):
        v = rng.standard_normal(DIM).astype(np.float32)
        p = Paper(id=f"doi:10.1/f{i}", source=("arxiv", "pubmed")[i % 2], title=f"paper {i}", abstract="text",
                  authors=authors, categories=cats, year=2010 + i, doi=None if i % 3 else f"10.1/f{i}")
        rows.append(paper_row(p, vector=v / np.linalg.norm(v), token_count=3, n_chunks=0,
                              added=datetime(2026, 1, 1 + i, tzinfo=UTC)))
    st_.write(rows, [], [])
    st_.optimize()
    return st_


def ids(store: Any, where: str | None) -> list[int]:
    return sorted(int(r["id"].removeprefix("doi:10.1/f")) for r in store.rows(where, ["id"]))


# -- categories ---------------------------------------------------------------------------------

def test_a_mesh_heading_with_a_comma_matches(store: Any) -> None:
    f = Filters.build(category=["Carcinoma, Hepatocellular"])
    assert f.categories == ("Carcinoma, Hepatocellular",)
    assert ids(store, f.where()) == [0]


def test_arxiv_categories_still_split_on_commas(store: Any) -> None:
    from zsearch.search.filters import split_categories

    assert split_categories("cs.IR,cs.CL") == ["cs.IR", "cs.CL"]
    assert split_categories(["hep-th, math.AG", "cs.IR"]) == ["hep-th", "math.AG", "cs.IR"]
    assert ids(store, Filters.build(category="cs.IR,cs.CL").where()) == [3, 4]
    # a part that is not an arXiv category keeps the whole value together
    assert split_categories("cs.IR, Humans") == ["cs.IR, Humans"]


def test_the_search_help_says_how_to_give_several(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import run_cli

    _, out, _ = run_cli(["search", "--help"], capsys)
    text = " ".join(out.replace("│", " ").split())
    assert "Carcinoma, Hepatocellular" in text and "repeat for several" in text and "cs.IR,cs.CL" in text


MESH = st.from_regex(r"[A-Z][a-z]{2,12}(, [A-Z][a-z]{2,12}){1,3}", fullmatch=True)


@settings(max_examples=100, **COMMON)
@given(heading=MESH)
def test_fuzz_mesh_headings_stay_whole(heading: str) -> None:
    from zsearch.search.filters import split_categories

    CASES["filters: categories"] += 1
    assert split_categories(heading) == [heading]


@settings(max_examples=100, **COMMON)
@given(value=st.text(max_size=40))
def test_fuzz_categories_split_only_into_arxiv_categories(value: str) -> None:
    from zsearch.search.filters import ARXIV_CATEGORY_RE, split_categories

    CASES["filters: categories"] += 1
    out = split_categories(value)
    if len(out) > 1:
        assert all(ARXIV_CATEGORY_RE.fullmatch(c) for c in out), out
    assert all(c == c.strip() and c for c in out)


# -- authors ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("needle", "want"), [("jane_doe", [0]), ("100%", [2]), ("k\\s", [4]), ("o'neil", [5]),
                                              ("_", [0]), ("%", [2]), ("[i]", [6]), ("ZOË", [7])])
def test_author_wildcards_are_literal(store: Any, needle: str, want: list[int]) -> None:
    assert ids(store, Filters.build(author=needle).where()) == want


def python_match(needle: str) -> list[int]:
    """What ``--author NEEDLE`` means: a case-insensitive part of any one author's name."""
    n = needle.strip().lower()
    return [i for i, names in enumerate(AUTHORS) if any(n in a.lower() for a in names)]


NEEDLE_CHARS = st.sampled_from(list("abcdejnoxy_%\\'[] 01ÅöëZ"))


@settings(max_examples=120, **COMMON)
@given(needle=st.one_of(st.text(NEEDLE_CHARS, min_size=1, max_size=6),
                        st.sampled_from([a for names in AUTHORS for a in names]).flatmap(
                            lambda a: st.tuples(st.integers(0, len(a) - 1), st.integers(1, len(a))).map(
                                lambda ij: a[ij[0]:ij[0] + ij[1]]))))
@example(needle="e_d")
@example(needle="0%")
@example(needle="\\")
def test_fuzz_author_filter_is_a_plain_substring(store: Any, needle: str) -> None:
    CASES["filters: author"] += 1
    if not needle.strip():
        return
    with time_limit():
        assert ids(store, Filters.build(author=needle).where()) == python_match(needle)


# -- where --------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", [
    "1=1) OR (1=1",
    "year > 0) OR (year > 0",
    "year > 0; DROP TABLE papers",
    "year > (SELECT 1)",
    "lower(title) = 'x'",
    "vector IS NULL",
    "year > 0 -- comment",
    "title = 'a' OR 'b'",
    "year",
    "(year > 1",
])
def test_queries_where_is_refused_unless_it_parses(where: str) -> None:
    from zsearch.search.batch import to_filters

    with pytest.raises(UsageError, match="filters.where"):
        to_filters({"where": where})


def test_an_injected_where_cannot_widen_the_other_filters() -> None:
    import io
    import json

    from zsearch.search.batch import run_queries

    class Searcher:
        calls: list[dict[str, Any]] = []

        def search(self, query: str, k: int = 10, **kw: Any) -> list[Any]:
            self.calls.append(kw)
            return []

    out = io.StringIO()
    lines = ['{"query": "x", "filters": {"source": "pubmed", "where": "1=1) OR (1=1"}}',
             '{"query": "y", "filters": {"source": "pubmed", "where": "year >= 2014 OR doi IS NULL"}}']
    report = run_queries(Searcher(), lines, fmt="jsonl", out=out)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert report.failed == 1 and "filters.where" in rows[0]["error"] and rows[1]["error"] is None
    assert Searcher.calls[0]["where"].endswith(" AND (year >= 2014 OR doi IS NULL)")


@pytest.mark.parametrize(("where", "want"), [
    ("year >= 2014", [4, 5, 6, 7]),
    ("year >= 2014 AND NOT (year = 2015)", [4, 6, 7]),
    ("doi IS NOT NULL", [0, 3, 6]),
    ("title LIKE 'paper 1%' OR title IN ('paper 7', 'paper 6')", [1, 6, 7]),
    ("array_has(categories, 'Humans')", [0]),
    ("array_has_any(categories, ['cs.IR', 'cs.CL']) AND source = 'arxiv'", [4]),
    ("array_has_all(authors, ['O''Neil', 'Ann Lee'])", [5]),
    ("added >= TIMESTAMP '2000-01-01 00:00:00' AND year < 2011", [0]),
])
def test_the_where_grammar_runs_on_lancedb(store: Any, where: str, want: list[int]) -> None:
    from zsearch.search.filters import safe_where

    assert ids(store, safe_where(where)) == want


WHERE_TOKENS = st.sampled_from([
    "year", "title", "doi", "source", "categories", "authors", "added", "vector", "lower", "array_has",
    "array_has_any", "=", "!=", "<>", "<", ">=", "LIKE", "NOT", "IN", "IS", "NULL", "AND", "OR", "(", ")", "[", "]",
    ",", "'a'", "'it''s'", "'%'", "'x') OR ('1'='1", "2014", "-1", "2.5", "TRUE", "TIMESTAMP", "'2020-01-01'", ";",
    "--", "/*", "\\", "'", "\"", "SELECT", "1=1",
])


@settings(max_examples=300, **COMMON)
@given(tokens=st.lists(WHERE_TOKENS, min_size=1, max_size=12), text=st.text(max_size=30), raw=st.booleans())
@example(tokens=["1=1", ")", "OR", "(", "1=1"], text="", raw=False)
def test_fuzz_where_is_rebuilt_or_refused(store: Any, tokens: list[str], text: str, raw: bool) -> None:
    from zsearch.search.filters import safe_where

    CASES["filters: where"] += 1
    where = text if raw else " ".join(tokens)
    try:
        out = safe_where(where)
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    if out is None:
        assert not where.strip()
        return
    assert safe_where(out) == out  # what comes back is in the grammar
    assert safe_where(f"({out})") == f"({out})"
    with time_limit():
        try:
            got = ids(store, f"source = 'none' AND ({out})")
        except Exception as exc:  # noqa: BLE001 - LanceDB may refuse a comparison of mismatched types
            assert "year" in out or "added" in out or "title" in out or "doi" in out or "source" in out, exc
            return
    assert got == [], f"{out!r} widened a filter that matches nothing"


@pytest.mark.slow
@settings(max_examples=300 * SLOW_FACTOR, **COMMON)
@given(tokens=st.lists(WHERE_TOKENS, min_size=1, max_size=16))
def test_fuzz_where_slow(store: Any, tokens: list[str]) -> None:
    test_fuzz_where_is_rebuilt_or_refused.hypothesis.inner_test(store, tokens, "", False)
