"""Filters: pure SQL building (checked by hand), and real LanceDB prefilters backed by scalar indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from zsearch.errors import UsageError
from zsearch.search.filters import Filters, parse_date, parse_years, where_of


def test_parse_years():
    assert parse_years("2019..2024") == (2019, 2024)
    assert parse_years("2021") == (2021, 2021)
    assert parse_years("2019..") == (2019, None)
    assert parse_years("..2010") == (None, 2010)
    assert parse_years("2019-2024") == (2019, 2024)
    for bad in ("19..20", "abc", "2024..2019", ".."):
        with pytest.raises(UsageError):
            parse_years(bad)


def test_parse_date():
    assert parse_date("2024-03-05") == "2024-03-05"
    assert parse_date("2024-03") == "2024-03-01"
    assert parse_date("2024") == "2024-01-01"
    for bad in ("2024-13-01", "yesterday", "2024-02-30"):
        with pytest.raises(UsageError):
            parse_date(bad)


def test_empty_filters_are_falsy_and_give_no_where():
    f = Filters.build()
    assert not f
    assert f.where() is None
    assert where_of(None) is None and where_of("") is None and where_of("year > 1") == "year > 1"


def test_where_strings_by_hand():
    assert Filters.build(year="2019..2024").where() == "year >= 2019 AND year <= 2024"
    assert Filters.build(source=["arxiv,pubmed"]).where() == (
        "(source IN ('arxiv', 'pubmed') OR array_has_any(sources, ['arxiv', 'pubmed']))")
    assert Filters.build(category=["cs.CL", "cs.IR"]).where() == "array_has_any(categories, ['cs.CL', 'cs.IR'])"
    assert Filters.build(author="O'Neil").where() == "lower(array_to_string(authors, '|')) LIKE '%o''neil%'"
    assert Filters.build(author=["doe", "roe"]).where() == (
        "(lower(array_to_string(authors, '|')) LIKE '%doe%' OR lower(array_to_string(authors, '|')) LIKE '%roe%')")
    assert Filters.build(since="2025-01-31").where() == (
        "(added >= TIMESTAMP '2025-01-31 00:00:00' OR published >= '2025-01-31')")
    combined = Filters.build(year="2020", source="pdf", category="q-bio.GN").where()
    assert combined == ("year >= 2020 AND year <= 2020 AND (source IN ('pdf') OR array_has_any(sources, ['pdf'])) "
                        "AND array_has_any(categories, ['q-bio.GN'])")


def test_unknown_source_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown source 'arxv'"):
        Filters.build(source="arxv")


# -- real LanceDB -----------------------------------------------------------------------

N = 300
DIM = 16


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A real store of N papers with chosen metadata and vectors (no model: rows written directly)."""
    from zsearch.papers.model import Paper
    from zsearch.store.schema import paper_row
    from zsearch.store.tables import Store

    home = tmp_path_factory.mktemp("filters-db")
    st = Store(home)
    st.ensure("test/random-16", DIM)
    rng = np.random.default_rng(0)
    q = rng.standard_normal(DIM).astype(np.float32)
    q /= np.linalg.norm(q)
    rows = []
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(N):
        # paper i's similarity to q falls with i: paper 0 is the nearest, paper 299 the farthest
        noise = rng.standard_normal(DIM).astype(np.float32)
        noise -= noise.dot(q) * q
        noise /= np.linalg.norm(noise)
        cos = 1.0 - 1.8 * i / N
        v = cos * q + np.sqrt(max(0.0, 1 - cos * cos)) * noise
        p = Paper(
            id=f"doi:10.1/p{i}", source=("arxiv", "pubmed", "pdf")[i % 3], title=f"paper {i} on gene regulation",
            abstract="gene regulation networks" if i != 200 else "gene regulation networks in zebrafish",
            authors=[f"Author {i}", "Common Person"] if i != 200 else ["Ada Lovelace"],
            year=1990 + (i % 30) if i != 200 else 1950,
            categories=["cs.CL"] if i == 200 else ["q-bio.GN"],
            published=f"{1990 + i % 30}-06-01",
        )
        rows.append(paper_row(p, vector=v, token_count=10, n_chunks=0, added=t0 + timedelta(days=i)))
    st.write(rows, [], [])
    st.optimize()
    return st, q


def test_scalar_indexes_exist(store):
    st, _ = store
    by_name = {ix.name: ix.index_type for ix in st.papers.list_indices()}
    assert by_name["year_idx"] == "BTree"
    assert by_name["added_idx"] == "BTree"
    assert by_name["source_idx"] == "Bitmap"
    assert by_name["categories_idx"] == "LabelList"
    assert by_name["sources_idx"] == "LabelList"
    assert st.has_fts_on("title") and st.has_fts_on("fts_text")
    stats = st.index_stats()
    assert stats["year_idx"]["indexed"] == N and stats["year_idx"]["unindexed"] == 0


def test_filter_is_a_prefilter_not_a_postfilter(store):
    """Paper 200 ranks 201st by vector; a filter that only it passes must still return it."""
    from zsearch.search.candidates import dense_candidates, fts_candidates

    st, q = store
    unfiltered = dense_candidates(st, q, 10)
    assert "doi:10.1/p200" not in unfiltered.dense
    all_ranked = dense_candidates(st, q, N).dense
    assert all_ranked.index("doi:10.1/p200") == 200
    for f in (Filters.build(year="1950"), Filters.build(category="cs.CL"), Filters.build(author="lovelace")):
        got = dense_candidates(st, q, 10, f.where()).dense
        assert got == ["doi:10.1/p200"], f
        ids, _ = fts_candidates(st, "gene regulation", 10, f.where())
        assert ids == ["doi:10.1/p200"], f


def test_filters_count_what_they_should(store):
    st, q = store
    from zsearch.search.candidates import dense_candidates

    arxiv = dense_candidates(st, q, N, Filters.build(source="arxiv").where()).dense
    assert len(arxiv) == N // 3 and all(int(i.split("p")[-1]) % 3 == 0 for i in arxiv)
    recent = Filters.build(since="2026-10-01").where()  # added = 2026-01-01 + i days
    n_recent = len(dense_candidates(st, q, N, recent).dense)
    assert n_recent == sum(1 for i in range(N) if datetime(2026, 1, 1) + timedelta(days=i) >= datetime(2026, 10, 1))
    years = dense_candidates(st, q, N, Filters.build(year="2015..2019").where()).dense
    assert len(years) == sum(1 for i in range(N) if i != 200 and 2015 <= 1990 + i % 30 <= 2019)


def test_filtered_query_plan_uses_the_scalar_index(store):
    st, q = store
    plan = st.papers.search(q, vector_column_name="vector").where(
        Filters.build(year="2015..2019").where(), prefilter=True).limit(5).explain_plan(True)
    assert "ScalarIndexQuery" in plan or "scalar_index" in plan.lower() or "MaterializeIndex" in plan
