"""Search on a real database (scifact-mini, bundled model): modes, filters, the CLI options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zsearch.errors import UsageError
from zsearch.search.filters import Filters

MINI = Path(__file__).parent / "data" / "beir" / "scifact-mini"
QUERY = "10% of sudden infant death syndrome (SIDS) deaths happen in newborns aged less than 6 months."
RELEVANT = "beir:scifact-mini:2613775"


@pytest.fixture(scope="module")
def mini_db(tmp_path_factory) -> Path:
    """scifact-mini's 11 abstracts, with years and categories set so filters have something to test."""
    from dataclasses import replace

    from zsearch.evaluate.beir import beir_papers, load_beir
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("search-db")
    papers = []
    for i, p in enumerate(beir_papers(load_beir(MINI, "train"))):
        papers.append(replace(p, year=2010 + i, categories=["stem cells"] if p.id == RELEVANT else ["other"],
                              authors=[f"Author Number{i}"]))
    Library.open(db).ingest_papers(papers)
    return db


def test_hybrid_finds_the_judged_paper_and_reports_each_list(mini_db):
    from zsearch.library import Library

    hits = Library.open(mini_db).search(QUERY, k=5)
    assert hits[0].id == RELEVANT
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert {"dense", "dense_rank", "bm25", "bm25_rank"} <= set(hits[0].scores)


def test_modes(mini_db):
    from zsearch.library import Library
    from zsearch.search.config import DEFAULT_CONFIG

    lib = Library.open(mini_db)
    dense = lib.search(QUERY, k=11, config=DEFAULT_CONFIG.replace(mode="dense"))
    bm25 = lib.search(QUERY, k=11, config=DEFAULT_CONFIG.replace(mode="bm25"))
    assert all("bm25" not in h.scores for h in dense) and len(dense) == 11
    assert all("dense" not in h.scores for h in bm25) and bm25[0].id == RELEVANT
    assert [h.scores["dense"] for h in dense] == sorted((h.scores["dense"] for h in dense), reverse=True)
    with pytest.raises(UsageError, match="unknown search mode"):
        lib.search(QUERY, config=DEFAULT_CONFIG.replace(mode="sparse"))


def test_filters_on_library_search(mini_db):
    from zsearch.library import Library

    lib = Library.open(mini_db)
    year_of_relevant = next(h.year for h in lib.search(QUERY, k=1))
    other_years = lib.search(QUERY, k=20, filters=Filters.build(year=f"..{year_of_relevant - 1}"))
    assert RELEVANT not in {h.id for h in other_years}
    assert all(h.year < year_of_relevant for h in other_years)
    # a filter only one paper passes returns that paper first even for an unrelated query
    only = lib.search("ocean temperature records", k=5, filters=Filters.build(category="stem cells"))
    assert [h.id for h in only] == [RELEVANT]
    by_author = lib.search("ocean temperature records", k=5, filters=Filters.build(author="number3"))
    assert len(by_author) == 1 and by_author[0].authors == ["Author Number3"]
    assert lib.search(QUERY, k=5, filters=Filters.build(source="pubmed")) == []
    # a raw SQL where is AND-ed with the filters
    assert lib.search(QUERY, k=5, filters=Filters.build(category="stem cells"), where="year < 1900") == []


def test_search_cli_filters_and_json(mini_db, capsys):
    from zsearch.cli import main

    assert main(["search", QUERY, "--db", str(mini_db), "-k", "3", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["id"] == RELEVANT and len(rows) == 3
    assert main(["search", QUERY, "--db", str(mini_db), "--format", "json", "--category", "other",
                 "--year", "2010..2030", "--source", "beir"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and RELEVANT not in {r["id"] for r in rows}
    assert main(["search", QUERY, "--db", str(mini_db), "--format", "jsonl", "--mode", "bm25", "-k", "2"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    with pytest.raises(SystemExit) as ex:
        main(["search", QUERY, "--db", str(mini_db), "--year", "twenty"])
    assert ex.value.code == UsageError.exit_code


def test_since_filter_finds_everything_just_added(mini_db):
    from zsearch.library import Library

    lib = Library.open(mini_db)
    assert len(lib.search(QUERY, k=20, filters=Filters.build(since="2000-01-01"))) == 11
    assert lib.search(QUERY, k=20, filters=Filters.build(since="2999-01-01")) == []


def test_stats_show_indexed_rows(mini_db):
    from zsearch.library import Library

    st = Library.open(mini_db).stats()
    ix = st["indexes"]
    assert ix["fts_text_idx"]["indexed"] == 11 and ix["year_idx"]["unindexed"] == 0
    assert "vector_idx" not in ix  # 11 rows: far under the ANN threshold, exact search


def test_vector_index_above_threshold_keeps_results(tmp_path, mini_db, monkeypatch):
    """Above the threshold an IVF_RQ index is built; search still returns every paper it should."""
    import shutil

    from zsearch.library import Library

    db = tmp_path / "copy"
    shutil.copytree(mini_db, db)
    monkeypatch.setenv("ZSEARCH_ANN_THRESHOLD", "5")
    lib = Library.open(db)
    assert lib.store.ensure_vector_index() is True
    assert lib.store.ann_params() == {"nprobes": 32, "refine": 10}
    hits = lib.search(QUERY, k=11)
    assert hits[0].id == RELEVANT and len(hits) == 11
    assert lib.stats()["indexes"]["vector_idx"]["indexed"] == 11
