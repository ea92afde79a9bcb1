"""What the scale work changed (issue 17), on real LanceDB tables of a few thousand rows, no model.

Scalar indexes after optimize, the filtered passage search against the IN-list search it
replaced, streamed reads and exports (batch sizes, byte-identical output, a bounded peak RSS
of a real `zsearch export --all` process), and the in-place conversion of float32 sentence
vectors to int8 (schema 3 -> 4) with search results unchanged. No timing assertions.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA
from zsearch.papers.model import Paper
from zsearch.review import export as export_mod
from zsearch.review.export import EXPORT_FORMATS, export_papers, write_export
from zsearch.search import candidates
from zsearch.search.candidates import passage_hits
from zsearch.search.config import DEFAULT_CONFIG
from zsearch.search.pipeline import hybrid_search
from zsearch.store import indexes, migrate
from zsearch.store.schema import dequantize, paper_row, quantize, stored_sentence_vectors
from zsearch.store.sql import sql_in
from zsearch.store.tables import ROWS_LIMIT, Store

DIM = 384
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
YEAR_FILTER = "year >= 2018 AND year <= 2020"


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def texts() -> list[dict]:
    with (DATA / "embed" / "scifact_sample.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def make_papers(n: int, *, body_chars: int = 0) -> list[Paper]:
    recs = texts()
    out = []
    for i in range(n):
        r = recs[i % len(recs)]
        out.append(Paper(id=f"pmid:{1000 + i}", source="pubmed", pmid=str(1000 + i), doi=f"10.1/{i}" if i % 2 else None,
                         title=f"{r['title']} ({i})", abstract=r["text"], year=2000 + i % 25,
                         categories=["cs.LG"] if i % 3 == 0 else ["q-bio"],
                         full_text=(r["text"] + " ") * (body_chars // max(len(r["text"]), 1)) if body_chars else ""))
    return out


def write_db(home: Path, papers: list[Paper], *, passages_every: int = 0, seed: int = 0,
             optimize: bool = True) -> np.ndarray:
    """Store ``papers`` with clustered synthetic vectors (and 4 passages for every ``passages_every``-th); their vectors."""
    from zsearch.ingest.encode import passage_row
    from zsearch.papers.sentences import paper_sentences

    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((32, DIM)))
    vecs = unit(centres[rng.integers(0, 32, len(papers))] + 0.05 * rng.standard_normal((len(papers), DIM)))
    st = Store(home)
    st.ensure(MODEL, DIM)
    now = datetime.now(UTC)
    for start in range(0, len(papers), 1000):
        rows, chunks = [], []
        for j in range(start, min(start + 1000, len(papers))):
            p = papers[j]
            sents = paper_sentences(p.title, p.abstract)
            sv = unit(vecs[j] + 0.05 * rng.standard_normal((len(sents), DIM)))
            n_chunks = 4 if passages_every and j % passages_every == 0 else 0
            for k in range(n_chunks):
                chunks.append(passage_row(p, k, f"passage {k} of {p.title}",
                                          unit(vecs[j] + 0.08 * rng.standard_normal(DIM))))
            rows.append(paper_row(p, vector=vecs[j], token_count=100, n_chunks=n_chunks, added=now,
                                  sentences=sents, sentence_vectors=sv))
        st.write(rows, chunks, [])
    if optimize:
        st.optimize()
    return vecs


@pytest.fixture(scope="module")
def db(tmp_path_factory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("scale") / "db"
    vecs = write_db(home, make_papers(3000), passages_every=3)
    return home, vecs


# -- indexes ---------------------------------------------------------------------------------


def test_optimize_builds_the_scalar_indexes_lookups_use(db) -> None:  # type: ignore[no-untyped-def]
    st = Store(db[0])
    papers = {ix.name: ix.index_type for ix in st.papers.list_indices()}
    for col in ("id", "arxiv_id", "pmid", "doi", "path"):
        assert papers[f"{col}_idx"] == "BTree", col
    assert {ix.name: ix.index_type for ix in st.chunks.list_indices()}["paper_id_idx"] == "BTree"
    # and the reads they serve still answer
    assert set(st.get_rows(["pmid:1000", "pmid:2999"], ["id"])) == {"pmid:1000", "pmid:2999"}
    keys = ["pmid:1005", "doi:10.1/7", "id:pmid:2000", "pmid:99999"]
    found = st.find_by_identifiers(keys)
    assert {k: found.get(k) for k in keys} == {"pmid:1005": "pmid:1005", "doi:10.1/7": "pmid:1007",
                                               "id:pmid:2000": "pmid:2000", "pmid:99999": None}


# -- filtered passage search -------------------------------------------------------------------


def old_passages(st: Store, qvec: np.ndarray, need: int, where: str) -> list[dict]:
    """The search before issue 17: every passing paper's id in one IN list."""
    allowed = st.ids(where)
    q = st.chunks.search(qvec, vector_column_name="vector").distance_type("cosine")
    q = q.where(sql_in("paper_id", allowed), prefilter=True)
    return q.select(["paper_id", "text", "_distance"]).limit(need).to_list()


@pytest.mark.parametrize("prefilter_papers", [candidates.PREFILTER_PAPERS, 0])
@pytest.mark.parametrize("where", [YEAR_FILTER, f"{YEAR_FILTER} AND array_has_any(categories, ['cs.LG'])",
                                   "year = 2024", "year > 3000"])
def test_filtered_passage_search_finds_what_the_id_list_found(db, monkeypatch, where, prefilter_papers) -> None:  # type: ignore[no-untyped-def]
    """Both ways (a prefilter on few papers' ids; a deepening unfiltered search) give the old passages."""
    monkeypatch.setattr(candidates, "PREFILTER_PAPERS", prefilter_papers)
    st = Store(db[0])
    rng = np.random.default_rng(5)
    for qi in rng.integers(0, 3000, 4):
        q = db[1][qi]
        new = passage_hits(st, q, 300, where)
        old = old_passages(st, q, 300, where)
        assert [r["paper_id"] for r in new] == [r["paper_id"] for r in old]
        assert [r["text"] for r in new] == [r["text"] for r in old]


def test_filtered_hybrid_search_returns_the_same_papers_as_before(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    st = Store(db[0])
    q = db[1][42]
    for where in (YEAR_FILTER, f"{YEAR_FILTER} AND array_has_any(categories, ['cs.LG'])"):
        new = hybrid_search(st, q, "vitamin D deficiency", k=20, where=where, config=DEFAULT_CONFIG)
        monkeypatch.setattr(candidates, "passage_hits",
                            lambda store, qvec, need, where=None, **kw: old_passages(store, qvec, need, where))
        old = hybrid_search(st, q, "vitamin D deficiency", k=20, where=where, config=DEFAULT_CONFIG)
        monkeypatch.undo()
        assert [h.id for h in new] == [h.id for h in old] and len(new) == 20


# -- bounded reads and streamed exports -----------------------------------------------------------


def test_reads_are_bounded_and_stream_in_batches(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    st = Store(db[0])
    sizes = [len(b) for b in st.iter_rows(columns=["id", "title"], batch_size=500)]
    assert sum(sizes) == 3000 and max(sizes) <= 500
    seen = 0
    for rows, vectors in st.iter_vectors(YEAR_FILTER, ["id"], batch_size=256):
        assert len(rows) == len(vectors) <= 256 and vectors.dtype == np.float32 and vectors.shape[1] == DIM
        seen += len(rows)
    assert seen == st.count_where(YEAR_FILTER) == len(st.ids(YEAR_FILTER))
    assert len(st.rows(limit=7)) == 7
    monkeypatch.setattr("zsearch.store.tables.ROWS_LIMIT", 100)
    with pytest.raises(Exception, match="iter_rows"):
        st.rows(columns=["id"])  # a whole-table read without a limit is refused, not truncated
    assert ROWS_LIMIT >= 10_000


def test_export_all_is_a_stream_without_bodies(db) -> None:  # type: ignore[no-untyped-def]
    from zsearch.library import Library
    from zsearch.review.select import export_selection

    lib = Library.open(db[0])
    papers, themes = export_selection(lib, query=None, k=10, ids_file=None, cluster_json=None, all_papers=True,
                                      where=YEAR_FILTER)
    assert not isinstance(papers, list) and themes == {}
    first = next(iter(papers))
    assert first.full_text == "" and first.abstract


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_streamed_export_writes_the_same_bytes(fmt, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """RIS numbering and BibTeX keys run on across batches: batches of 7 give one file's bytes."""
    papers = make_papers(40)
    for p in papers[::5]:
        p.authors = ["Smith, J"]  # the same citation key base: suffixes must run on across batches
    whole = export_papers(papers, fmt, {papers[3].id: (2, "theme two")})
    monkeypatch.setattr(export_mod, "EXPORT_BATCH", 7)
    out = io.StringIO()
    n = write_export(iter(papers), fmt, out, {papers[3].id: (2, "theme two")})
    assert n == 40 and out.getvalue() == whole
    empty = io.StringIO()
    assert write_export(iter([]), fmt, empty) == 0 and empty.getvalue() == export_papers([], fmt)


def peak_rss_mb(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "LANCE_LOG": "error"}
    p = subprocess.run(["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-m", "zsearch", *args], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"peak-kb (\d+)", p.stderr).group(1)) / 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="needs GNU time for a subprocess's peak RSS")
def test_export_all_memory_does_not_grow_with_the_full_texts(tmp_path) -> None:
    """1,000 papers with 150 KB bodies: `export --all` reads no body and holds one batch at a time.

    Its peak RSS is compared with an export of one paper by the same command: the bodies
    alone (150 MB) would be more than the margin, the abstracts are ~1.5 MB.
    """
    home = tmp_path / "big"
    write_db(home, make_papers(1000, body_chars=150_000), optimize=False)
    one = peak_rss_mb(["export", "--format", "jsonl", "--all", "--where", "id = 'pmid:1000'", "--db", str(home)])
    every = peak_rss_mb(["export", "--format", "jsonl", "--all", "--db", str(home)])
    assert every < one + 60, (one, every)


# -- int8 sentence vectors and the in-place conversion ------------------------------------------


def test_int8_sentence_vectors_keep_dot_products() -> None:
    rng = np.random.default_rng(0)
    x = unit(rng.standard_normal((2000, DIM)))
    q = unit(rng.standard_normal((20, DIM)))
    qi, scale = quantize(x)
    assert qi.dtype == np.int8 and scale.dtype == np.float32
    err = np.abs(dequantize(qi, scale) @ q.T - x @ q.T)
    assert err.mean() < 5e-4 and np.percentile(err, 99) < 1.5e-3
    # renormalised, a vector's match with itself stays ~1 (a query that is one of the sentences)
    assert np.abs(np.sum(dequantize(qi, scale, unit=True) * x, axis=1) - 1).max() < 1e-4
    q2, s2 = quantize(dequantize(qi, scale))
    assert (q2 == qi).all()  # re-writing a stored row (a metadata update) changes nothing


def make_schema3(home: Path, papers: list[Paper], vecs: np.ndarray) -> None:
    """``papers`` as schema 3 stored them: float32 sentence vectors, no scales (written straight to LanceDB)."""
    import pyarrow as pa

    from zsearch.store.schema import papers_schema

    st = Store(home)
    st.ensure(MODEL, DIM)
    schema = papers_schema(DIM, MODEL)
    fields = [f for f in schema if f.name not in ("sentence_vectors", "sentence_scales")]
    old = pa.schema([*fields, pa.field("sentence_vectors", pa.list_(pa.list_(pa.float32(), DIM)))],
                    metadata=schema.metadata)
    st.db.drop_table("papers")
    table = st.db.create_table("papers", schema=old)
    rows = _rows(papers, vecs)
    for row in rows:
        row["sentence_vectors"] = [np.asarray(v, np.float32) for v in row.pop("_float")]
        row.pop("sentence_scales")
    table.add(rows)


def _rows(papers: list[Paper], vecs: np.ndarray) -> list[dict]:
    from zsearch.papers.sentences import paper_sentences

    rng = np.random.default_rng(1)
    out = []
    for p, v in zip(papers, vecs):
        sents = paper_sentences(p.title, p.abstract)
        sv = unit(v + 0.05 * rng.standard_normal((len(sents), DIM)))
        row = paper_row(p, vector=v, token_count=10, n_chunks=0, added=datetime.now(UTC), sentences=sents,
                        sentence_vectors=sv)
        row["_float"] = sv
        out.append(row)
    return out


def test_an_old_table_is_converted_in_place_and_searches_the_same(tmp_path, monkeypatch) -> None:
    home = tmp_path / "old"
    papers = make_papers(1200)
    rng = np.random.default_rng(3)
    vecs = unit(rng.standard_normal((32, DIM)))[rng.integers(0, 32, 1200)] + 0.05 * rng.standard_normal((1200, DIM))
    vecs = unit(vecs)
    make_schema3(home, papers, vecs)
    st = Store(home)
    st.ensure(MODEL, DIM)  # a model opens it: columns added, nothing converted (readers do this too)
    assert not st.sentences_int8() and "sentence_scales" in st.papers.schema.names
    indexes.optimize(st.papers, st.chunks)  # full-text and scalar indexes, as the old version had
    before_rows = st.vectors_and_sentences([p.id for p in papers[:50]])
    queries = [(vecs[i] + 0.02 * rng.standard_normal(DIM)).astype(np.float32) for i in (5, 500, 900)]
    before = [hybrid_search(st, unit(q), papers[i].title, k=10, config=DEFAULT_CONFIG)
              for q, i in zip(queries, (5, 500, 900))]
    table_dir = st.path / "papers.lance"

    # a conversion killed after its first batch resumes where it stopped
    real = migrate.compact_sentence_vectors
    calls = {"n": 0}

    class Killed(Exception):
        pass

    def flaky(papers_table, batch_size=migrate.CONVERT_BATCH):  # type: ignore[no-untyped-def]
        original = papers_table.merge_insert

        def merge_insert(on):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed
            return original(on)

        papers_table.merge_insert = merge_insert
        try:
            return real(papers_table, batch_size=500)
        finally:
            del papers_table.merge_insert

    monkeypatch.setattr(migrate, "compact_sentence_vectors", flaky)
    with pytest.raises(Killed):
        Store(home).optimize()
    half = Store(home)
    assert not half.sentences_int8() and 0 < half.papers.count_rows("sentence_scales IS NOT NULL") < 1200
    assert half.vectors_and_sentences([papers[0].id])  # readers still read the float column
    monkeypatch.setattr(migrate, "compact_sentence_vectors", real)

    Store(home).optimize()  # the next writer finishes it
    st = Store(home)
    assert st.sentences_int8() and (st.path / "papers.lance") == table_dir and table_dir.is_dir()
    assert migrate.Q8_COLUMN not in st.papers.schema.names and st.count() == 1200
    assert st.papers.count_rows("sentence_scales IS NULL") == 0
    after_rows = st.vectors_and_sentences([p.id for p in papers[:50]])
    for pid, (head, sv, sents) in before_rows.items():
        h2, sv2, s2 = after_rows[pid]
        assert s2 == sents and np.array_equal(h2, head)
        assert np.abs(sv2 - sv).max() < 5e-3 and np.abs((sv2 - sv) @ unit(queries[0])).max() < 2e-3
    after = [hybrid_search(st, unit(q), papers[i].title, k=10, config=DEFAULT_CONFIG)
             for q, i in zip(queries, (5, 500, 900))]
    for b, a in zip(before, after):
        # the same papers; two whose scores differed by less than the int8 error may swap places
        assert a[0].id == b[0].id and len({h.id for h in a} & {h.id for h in b}) >= 9
        was = {h.id: h for h in b}
        for h in a:
            if h.id in was:
                assert abs(h.scores["sentence"] - was[h.id].scores["sentence"]) < 2e-3
                assert abs(h.score - was[h.id].score) < 1e-2
        for x, y in zip(a, a[1:]):  # a swap is a near-tie: their old scores were within 1e-2
            if x.id in was and y.id in was and was[x.id].rank > was[y.id].rank:
                assert abs(was[x.id].score - was[y.id].score) < 1e-2
    # a metadata update re-writes a converted row without touching its int8 vectors
    row = st.get_rows([papers[0].id])[papers[0].id]
    stored = stored_sentence_vectors(row)
    assert stored is not None and stored.shape == (len(row["sentences"]), DIM)
    assert Store(home).upgrade(DIM) is False  # nothing left to add


def test_a_conversion_killed_between_drop_and_rename_is_finished_on_open(tmp_path) -> None:
    home = tmp_path / "old"
    papers = make_papers(50)
    vecs = unit(np.random.default_rng(0).standard_normal((50, DIM)))
    make_schema3(home, papers, vecs)
    st = Store(home)
    st.ensure(MODEL, DIM)
    real_alter = st.papers.alter_columns
    st.papers.alter_columns = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        migrate.compact_sentence_vectors(st.papers)
    st.papers.alter_columns = real_alter  # type: ignore[method-assign]
    names = Store(home).papers.schema.names
    assert "sentence_vectors" not in names and migrate.Q8_COLUMN in names
    st = Store(home)
    st.ensure(MODEL, DIM)
    assert st.sentences_int8() and len(st.vectors_and_sentences([papers[3].id])[papers[3].id][1]) > 0
