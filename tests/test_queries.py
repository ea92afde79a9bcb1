"""`search --queries FILE|-`: many queries, one model load, JSONL/JSON/CSV out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_refresh import ARXIV_REC, is_bundled_minilm, shared_embedder

from zsearch.errors import EmptyDatabase, NotFound, RecordError, UsageError
from zsearch.search.batch import filters_to_where, parse_line, read_queries, run_queries, run_queries_file

# -- parsing (pure) -----------------------------------------------------------------------------

def test_parse_plain_json_blank_and_comment_lines():
    assert parse_line("  software testing \n", 3, 10).__dict__ == {"qid": "3", "query": "software testing", "k": 10,
                                                                   "filters": {}}
    assert parse_line("", 1, 10) is None and parse_line("# a comment", 2, 10) is None
    q = parse_line('{"id": "q7", "query": "fuzzing", "k": 3, "filters": {"year_from": 2020}}', 5, 10)
    assert (q.qid, q.query, q.k, q.filters) == ("q7", "fuzzing", 3, {"year_from": 2020})
    assert parse_line('{"query": "x"}', 9, 4).qid == "9"


@pytest.mark.parametrize("line, msg", [
    ('{"query": ', "not valid JSON"),
    ('{"k": 3}', 'no "query"'),
    ('{"query": "x", "k": 0}', "k must be"),
    ('{"query": "x", "filters": [1]}', '"filters" must be'),
    ("[1, 2]", None),  # not starting with "{": taken as a plain-text query
])
def test_bad_json_lines_are_record_errors(line, msg):
    if msg is None:
        assert parse_line(line, 1, 10).query == "[1, 2]"
        return
    with pytest.raises(RecordError, match=msg) as info:
        parse_line(line, 4, 10)
    assert info.value.record == "line 4"


def test_read_queries_streams_and_keeps_going():
    items = list(read_queries(["a", "", "{bad", "b"], 5))
    assert [type(x).__name__ for x in items] == ["Query", "RecordError", "Query"]
    assert [x.query for x in items if not isinstance(x, RecordError)] == ["a", "b"]


def test_filters_to_where():
    assert filters_to_where({}) is None
    assert filters_to_where({"year_from": 2020, "year_to": "2024"}) == "year >= 2020 AND year <= 2024"
    assert filters_to_where({"year": "2019..2021"}) == "year >= 2019 AND year <= 2021"
    assert filters_to_where({"year": 2021}) == "year >= 2021 AND year <= 2021"
    assert filters_to_where({"source": "arxiv"}) == \
        "(source IN ('arxiv') OR array_has_any(sources, ['arxiv']))"
    assert filters_to_where({"category": ["cs.SE", "cs.AI"], "where": "doi IS NOT NULL"}) == \
        "array_has_any(categories, ['cs.SE', 'cs.AI']) AND (doi IS NOT NULL)"
    with pytest.raises(UsageError, match="unknown filter"):
        filters_to_where({"yr": 1})
    with pytest.raises(UsageError, match="must be a year"):
        filters_to_where({"year_from": "soon"})
    with pytest.raises(UsageError, match="unknown source"):
        filters_to_where({"source": "scopus"})


# -- against a real database ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def testing_db(tmp_path_factory):
    """15 real arXiv records (the recorded `search_query=testing` page) embedded with the real model."""
    from zsearch.library import Library
    from zsearch.sources.arxiv import parse_papers

    body = (ARXIV_REC / "xml_bodies" / "q_testing_s0_m15_80c242b59d59.xml").read_bytes()
    db = tmp_path_factory.mktemp("queries") / "db"
    lib = Library.open(db)
    lib._embedder = shared_embedder()
    lib.store.ensure(lib._embedder.model_id, lib._embedder.dim)
    rep = lib.ingest_papers(parse_papers(body))
    assert rep.added == 15
    return db


@pytest.fixture
def lib(testing_db, monkeypatch):
    import zsearch.embedding.embedder as embed
    from zsearch.library import Library

    loads: list[str] = []

    def load(name: str = "minilm", **kw):
        loads.append(name)
        assert is_bundled_minilm(name)
        return shared_embedder()

    monkeypatch.setattr(embed, "load_embedder", load)
    lib = Library.open(testing_db)
    lib.loads = loads  # type: ignore[attr-defined]
    return lib


QUERIES = "\n".join([
    "# nightly review queries",
    "testing deep learning models",
    '{"id": "recent", "query": "software test automation", "k": 4, "filters": {"year_from": 2024}}',
    '{"id": "broken", "query": "x", "filters": {"colour": "red"}}',
    "{not json",
    "",
    '{"id": "se", "query": "test case prioritisation", "k": 2, "filters": {"source": "arxiv", "category": "cs.SE"}}',
]) + "\n"


def test_jsonl_one_object_per_query_model_loaded_once(lib, tmp_path):
    f = tmp_path / "q.txt"
    f.write_text(QUERIES)
    out = io.StringIO()
    with open(f, encoding="utf-8") as fh:
        report = run_queries(lib, fh, k=3, out=out)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["qid"] for r in rows] == ["2", "recent", "broken", "line 5", "se"]
    assert report.queries == 5 and report.failed == 2 and report.exit_code == 1
    assert len(lib.loads) == 1  # five queries, one model load
    first, recent, broken, bad, se = rows
    assert len(first["hits"]) == 3 and first["error"] is None and first["k"] == 3
    assert first["hits"][0]["id"] == "arxiv:2202.12139"  # "Testing Deep Learning Models: …"
    assert [h["rank"] for h in first["hits"]] == [1, 2, 3]
    assert 1 <= len(recent["hits"]) <= 4 and all(h["year"] >= 2024 for h in recent["hits"])
    assert "unknown filter 'colour'" in broken["error"] and broken["hits"] == []
    assert "not valid JSON" in bad["error"]
    assert len(se["hits"]) == 2 and se["hits"][0]["id"] == "arxiv:2405.13786"  # test case prioritisation


def test_stdin_and_csv(lib, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("fuzzing cyber-physical systems\nhypothesis testing sample complexity\n"))
    report = run_queries_file(lib, "-", k=2, fmt="csv")
    assert report.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["qid"], r["rank"]) for r in rows] == [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")]
    assert rows[0]["id"] == "arxiv:2005.14124" and rows[2]["id"] == "arxiv:2403.16981"


def test_json_array_and_errors(lib, tmp_path, capsys):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "query": "pool testing infection"}\n')
    assert run_queries_file(lib, str(f), k=1, fmt="json").exit_code == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and data[0]["hits"][0]["id"] == "arxiv:2004.03322"
    with pytest.raises(NotFound):
        run_queries_file(lib, str(tmp_path / "missing.txt"))
    with pytest.raises(UsageError):
        run_queries(lib, ["x"], fmt="table")


def test_command_filters_apply_to_every_query(lib, capsys):
    from zsearch.search.filters import Filters

    lines = ["software testing", '{"id": "b", "query": "testing", "k": 10, "filters": {"category": "cs.SE"}}']
    out = io.StringIO()
    assert run_queries(lib, lines, k=10, out=out, filters=Filters(year_from=2024)).exit_code == 0
    a, b = [json.loads(x) for x in out.getvalue().splitlines()]
    stored = {p.id: p for p in lib.papers()}
    assert a["hits"] and all(h["year"] >= 2024 for h in a["hits"])
    assert len(a["hits"]) == sum(1 for p in stored.values() if p.year >= 2024)  # 5 papers from 2024 on
    assert b["hits"] and all(h["year"] >= 2024 and "cs.SE" in stored[h["id"]].categories for h in b["hits"])
    assert len(b["hits"]) < len(a["hits"])


def test_empty_database_stops_with_one_message(tmp_path, monkeypatch):
    from zsearch.library import Library

    with pytest.raises(EmptyDatabase):
        run_queries(Library.open(tmp_path / "empty"), ["a", "b"], out=io.StringIO())


def test_input_path_is_read_lazily(lib, tmp_path):
    f: Path = tmp_path / "many.txt"
    f.write_text("".join(f"query number {i}\n" for i in range(3)))
    out = io.StringIO()
    assert run_queries_file.__name__  # the file form and the iterable form share run_queries
    with open(f, encoding="utf-8") as fh:
        assert run_queries(lib, fh, k=1, out=out).queries == 3
    assert len(out.getvalue().splitlines()) == 3
