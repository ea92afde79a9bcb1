"""zsearch.review.searchlog: what a run records, PRISMA counts, re-running at a logged table version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from zsearch.errors import NotFound, UsageError
from zsearch.papers.model import Paper
from zsearch.review.searchlog import (
    LOG_NAME,
    log_run,
    log_targets,
    prisma_markdown,
    prisma_summary,
    read_log,
    rerun_search,
    table_versions,
)

DATA = Path(__file__).parent / "data" / "clustering"


def scifact_papers() -> list[Paper]:
    """The 30 real SciFact abstracts as Papers (no DOI/PMID: the id is the text's hash)."""
    out = []
    with (DATA / "scifact_30.jsonl").open() as fh:
        for line in fh:
            d = json.loads(line)
            h = hashlib.sha256((d["title"] + d["text"]).encode()).hexdigest()
            out.append(Paper(id=f"sha256:{h}", source="scifact", title=d["title"], abstract=d["text"],
                             extra={"scifact_id": d["_id"], "topic": d["topic"]}))
    return out


def test_targets_are_the_log_file_and_the_review_directory(tmp_path, monkeypatch):
    assert log_targets() == []
    assert log_targets(tmp_path / "a.jsonl") == [tmp_path / "a.jsonl"]
    monkeypatch.setenv("ZSEARCH_REVIEW_DIR", str(tmp_path / "review"))
    assert log_targets(tmp_path / "a.jsonl") == [tmp_path / "a.jsonl", tmp_path / "review" / LOG_NAME]
    assert log_targets(review_dir=tmp_path / "other") == [tmp_path / "other" / LOG_NAME]
    # the same file named twice is written once
    assert log_targets(tmp_path / "review" / LOG_NAME) == [tmp_path / "review" / LOG_NAME]


def test_nothing_is_logged_without_a_target(tmp_path):
    assert log_run("search", query="x", ids=["a"]) == []
    assert not list(tmp_path.iterdir())


def test_a_record_holds_what_was_run(tmp_path):
    log = tmp_path / "log.jsonl"
    sources = [{"database": "pubmed", "query": '"sleep apnea"[MeSH] AND 2020:2024[dp]', "count": 412}]
    log_run("ingest pubmed", log=log, query='"sleep apnea"[MeSH] AND 2020:2024[dp]', sources=sources,
            counts={"added": 400, "updated": 2, "unchanged": 5, "failed": 5}, ids=["pmid:1", "pmid:2"])
    log_run("search", log=log, query="CPAP adherence", ids=["pmid:2", "pmid:1"], params={"k": 2},
            filters={"where": "year >= 2020"})
    recs = read_log(log)
    assert [r["command"] for r in recs] == ["ingest pubmed", "search"]
    assert recs[0]["query"] == '"sleep apnea"[MeSH] AND 2020:2024[dp]'  # verbatim
    assert recs[0]["sources"] == sources
    assert recs[0]["counts"]["added"] == 400
    assert recs[1]["ids"] == ["pmid:2", "pmid:1"] and recs[1]["n_results"] == 2
    assert recs[1]["filters"] == {"where": "year >= 2020"}
    assert recs[1]["timestamp"].endswith("Z")
    assert {"timestamp", "command", "query", "sources", "filters", "table_version", "model", "n_results", "ids"} <= set(recs[1])


def test_read_log_errors_are_user_errors(tmp_path):
    with pytest.raises(NotFound):
        read_log(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"command": "search"}\nnot json\n')
    with pytest.raises(UsageError, match="bad.jsonl:2"):
        read_log(bad)


def test_prisma_counts_by_hand():
    records = [
        {"timestamp": "2026-11-01T10:00:00Z", "command": "ingest pubmed", "query": "q1",
         "sources": [{"database": "pubmed", "query": "q1", "count": 6}],
         "counts": {"added": 5, "updated": 0, "unchanged": 0, "failed": 1}},
        {"timestamp": "2026-11-02T10:00:00Z", "command": "ingest arxiv", "query": "q2",
         "sources": [{"database": "arxiv", "query": "q2"}],  # no count: added+updated+unchanged+failed
         "counts": {"added": 3, "updated": 1, "unchanged": 2, "failed": []}},  # IngestReport.to_dict()
        {"timestamp": "2026-11-03T10:00:00Z", "command": "search", "query": "a | b", "ids": ["x", "y"],
         "n_results": 2, "table_version": {"papers": 4, "chunks": 3}, "model": "m"},
        {"timestamp": "2026-11-03T11:00:00Z", "command": "cluster", "query": "c", "ids": ["y", "z"],
         "n_results": 2, "table_version": {"papers": 4, "chunks": 3}, "model": "m"},
    ]
    s = prisma_summary(records)
    assert s["flow"] == {
        "identified": {"arxiv": 6, "pubmed": 6},
        "identified_total": 12,
        "duplicates_removed": 1 + 2,  # updated + unchanged: matched a paper already stored
        "unreadable": 1,
        "unique_added": 5 + 3,
        "returned_by_searches": 3,  # x, y, z
    }
    assert s["sources"]["pubmed"] == [{"query": "q1", "date": "2026-11-01", "count": 6,
                                       "timestamp": "2026-11-01T10:00:00Z"}]
    assert [x["table_version"] for x in s["local_searches"]] == [4, 4]
    md = prisma_markdown(s)
    assert "| pubmed | 2026-11-01 | q1 | 6 |" in md
    assert "| duplicates removed | 3 |" in md
    assert "a \\| b" in md  # a pipe in a query does not break the table


@pytest.fixture(scope="module")
def two_version_db(tmp_path_factory):
    """A real database: 20 malaria/insulin papers (version A), then 10 tuberculosis papers."""
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("logdb") / "db"
    papers = scifact_papers()
    first = [p for p in papers if p.extra["topic"] != "tuberculosis"]
    later = [p for p in papers if p.extra["topic"] == "tuberculosis"]
    lib = Library.open(db)
    lib.ingest_papers(first)
    log = db.parent / "log.jsonl"
    hits = lib.search("tuberculosis treatment regimen", k=5)
    log_run("search", log=log, query="tuberculosis treatment regimen", lib=lib, ids=[h.id for h in hits],
            params={"k": 5})
    lib.ingest_papers(later)
    return db, log


def test_the_log_records_table_version_and_model(two_version_db):
    from zsearch.library import Library

    db, log = two_version_db
    rec = read_log(log)[0]
    lib = Library.open(db)
    assert rec["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert rec["database"] == str(db)
    assert rec["table_version"]["papers"] < table_versions(lib)["papers"]  # the later ingest moved on


def test_rerun_at_the_logged_version_gives_the_logged_ids(two_version_db):
    from zsearch.library import Library

    db, log = two_version_db
    rec = read_log(log)[0]
    lib = Library.open(db)
    now = [h.id for h in lib.search(rec["query"], k=5)]
    assert now != rec["ids"]  # the tuberculosis papers arrived and rank first today
    assert rerun_search(lib, rec) == rec["ids"]
    # and the library is back at the latest version afterwards
    assert [h.id for h in lib.search(rec["query"], k=5)] == now


def test_rerun_of_a_vanished_version_is_not_found(two_version_db):
    from zsearch.library import Library

    db, log = two_version_db
    rec = dict(read_log(log)[0], table_version={"papers": 10_000, "chunks": None})
    with pytest.raises(NotFound):
        rerun_search(Library.open(db), rec)
