"""The warm index (zsearch.store.memory): same hits as reading LanceDB, fresh after commits, bounded.

Real databases made with the bundled model: SciFact abstracts (sentence vectors) and the
test PDFs (passages). Each comparison runs the same query through a Store that reads LanceDB
and one that holds the tables in memory, and asks for equal Hits, scores included.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import scifact_papers
from zsearch.library import Library
from zsearch.papers.model import Paper
from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG
from zsearch.search.pipeline import hybrid_search
from zsearch.store import memory
from zsearch.store.tables import Store

QUERIES = ["vitamin D deficiency", "stem cell differentiation", "tumour suppression in mice",
           "antibiotic resistance", "neural network", "insulin signalling and obesity"]


@pytest.fixture(scope="module")
def wdb(tmp_path_factory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("warm") / "db"
    Library.open(db).ingest_papers(scifact_papers(80, years=True))
    return db


def both_paths(db: Path, lib: Library, queries: list[str], **kw) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    cold, warm = Store(db), Store(db)
    warm.keep_warm(block=True)
    assert warm.warm() is not None and cold.warm() is None
    qvecs = lib.embedder.encode_queries(queries)
    a = [hybrid_search(cold, qv, q, **kw) for q, qv in zip(queries, qvecs)]
    b = [hybrid_search(warm, qv, q, **kw) for q, qv in zip(queries, qvecs)]
    return a, b


@pytest.mark.parametrize("cfg", [DEFAULT_CONFIG, NO_SENTENCE_CONFIG, DEFAULT_CONFIG.replace(mode="dense")],
                         ids=["default", "no-sentence-stage", "dense"])
def test_warm_and_lancedb_paths_give_the_same_hits(wdb, cfg) -> None:  # type: ignore[no-untyped-def]
    lib = Library.open(wdb)
    a, b = both_paths(wdb, lib, QUERIES, k=10, config=cfg)
    assert all(len(hits) == 10 for hits in a)
    assert a == b  # every field: ids, ranks, every score, the best sentence
    if cfg.sentence_weight:
        assert any(h.sentence for hits in b for h in hits)


def test_a_filtered_search_gives_the_same_hits(wdb) -> None:  # type: ignore[no-untyped-def]
    lib = Library.open(wdb)
    a, b = both_paths(wdb, lib, QUERIES, k=5, where="year >= 2010", config=DEFAULT_CONFIG)
    assert a == b and all(h.year >= 2010 for hits in b for h in hits)


def test_papers_with_passages_give_the_same_hits(pdf_db) -> None:  # type: ignore[no-untyped-def]
    db = pdf_db[0]
    lib = Library.open(db)
    a, b = both_paths(db, lib, ["citation-informed transformers", "protein structure", "topic models"],
                      k=5, config=lib.default_config())
    assert a == b
    assert any(h.passage for hits in b for h in hits)  # the dense list's passages took part


def test_the_warm_index_follows_a_commit_from_another_writer(wdb, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    db = tmp_path / "db"
    shutil.copytree(wdb, db)
    monkeypatch.setattr(memory, "REBUILD_EVERY_SECONDS", 0.0)
    reader = Library.open(db)
    reader.keep_warm(block=True)
    before = reader.store.warm()
    assert before is not None and len(before.ids) == 80

    new = scifact_papers(1, 100, years=True)[0]
    Library.open(db).ingest_papers([new])  # another Library: its own Store and tables
    query = new.title
    deadline = time.monotonic() + 20
    found = False
    while time.monotonic() < deadline and not found:
        found = new.id in [h.id for h in reader.search(query, k=3)]
        time.sleep(0.2)
    assert found  # seen through LanceDB while the index was stale

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        idx = reader.store.warm()
        if idx is not None and new.id in idx.pos:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the warm index was never rebuilt after the commit")
    assert reader.search(query, k=3)[0].id == new.id


def test_over_its_budget_it_stays_off_and_search_reads_lancedb(wdb, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZSEARCH_WARM_MB", "0.05")  # 50 KB: less than 80 abstracts
    lib = Library.open(wdb)
    lib.keep_warm(block=True)
    assert lib.store.warm() is None
    monkeypatch.setenv("ZSEARCH_WARM_MB", "0")
    hits = lib.search(QUERIES[0], k=3)
    assert len(hits) == 3 and lib.store.warm() is None


def test_a_library_warms_up_from_its_second_search(wdb) -> None:  # type: ignore[no-untyped-def]
    lib = Library.open(wdb)
    lib.search(QUERIES[0], k=3)
    assert not lib.store.__dict__.get("_warm")  # one search: a one-shot CLI run loads nothing
    lib.search(QUERIES[1], k=3)
    deadline = time.monotonic() + 20
    while lib.store.warm() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    idx = lib.store.warm()
    assert idx is not None and idx.nbytes > 0
    # the index holds what the table holds: every paper vector, unit length
    assert len(idx.ids) == 80 and np.allclose(np.linalg.norm(idx.heads, axis=1), 1.0, atol=1e-3)


def test_equal_bm25_scores_rank_by_id_every_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    same = scifact_papers(1, years=True)[0]
    twins = [Paper(id=f"beir:scifact:twin{n}", source="beir", title=same.title, abstract=same.abstract)
             for n in (3, 1, 4, 2)]
    lib = Library.open(tmp_path / "db")
    lib.ingest_papers([*twins, *scifact_papers(6, 1, years=True)])
    runs = {tuple(h.id for h in lib.search(same.title, k=4, config=DEFAULT_CONFIG.replace(mode="bm25")))
            for _ in range(8)}
    assert runs == {("beir:scifact:twin1", "beir:scifact:twin2", "beir:scifact:twin3", "beir:scifact:twin4")}
