"""The sentence stage: splitting (hand-checked), scoring, storage, search and upgrading old databases.

Real parts throughout: the bundled MiniLM, a LanceDB on disk, SciFact abstracts from
tests/data/embed (see its PROVENANCE.md).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tinymodels import hf_cache, tiny_zembed_dir  # noqa: F401 - fixtures

from tests.conftest import scifact_papers
from zsearch.library import Library
from zsearch.papers.sentences import MAX_SENTENCES, paper_sentences, split_sentences
from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG, SearchConfig
from zsearch.search.sentences import best_sentence, mix

# -- pure functions ------------------------------------------------------------------------


def test_split_on_end_punctuation_before_a_capital_digit_or_bracket() -> None:
    text = "Cells divide. 40% survived! Why? (Not all.) [Ref 3] says so."
    # "Why?" is too short to stand alone; "all.)" ends in a bracket, which is no boundary
    assert split_sentences(text) == ["Cells divide.", "40% survived!", "Why? (Not all.) [Ref 3] says so."]


def test_abbreviations_and_lower_case_continuations_do_not_split() -> None:
    text = "As shown by Smith et al. Results differ. We used e.g. Western blots. See Fig. 3 for details here."
    assert split_sentences(text) == [
        "As shown by Smith et al. Results differ.",
        "We used e.g. Western blots.",
        "See Fig. 3 for details here.",
    ]


def test_short_fragments_join_the_next_sentence_and_white_space_collapses() -> None:
    assert split_sentences("Methods.   We   sequenced 40 genomes.\nResults. All were new.") == [
        "Methods. We sequenced 40 genomes.",
        "Results. All were new.",
    ]
    assert split_sentences("") == [] and split_sentences("   ") == []
    assert split_sentences("Too short. x.") == ["Too short. x."]  # a short tail joins the last


def test_paper_sentences_title_first_body_when_no_abstract_and_capped() -> None:
    assert paper_sentences("T", "First sentence here. Second one is here.") == [
        "T", "First sentence here.", "Second one is here."]
    assert paper_sentences("", "", "Body text starts here. And goes on.") == ["Body text starts here.", "And goes on."]
    many = " ".join(f"Sentence number {i} is here." for i in range(100))
    got = paper_sentences("Title", many)
    assert len(got) == MAX_SENTENCES and got[0] == "Title" and got[1] == "Sentence number 0 is here."


def test_best_sentence_and_mix_by_hand() -> None:
    q = np.array([0.6, 0.8], dtype=np.float32)
    # cosines: 0.6, 0.8, 0.96 -> the third, index 2
    assert best_sentence(q, [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]]) == (pytest.approx(0.96), 2)
    assert best_sentence(q, []) is None and best_sentence(q, None) is None
    assert mix(0.4, 0.8, 0.5) == pytest.approx(0.6)
    assert mix(0.4, 0.8, 0.25) == pytest.approx(0.5)
    assert mix(0.4, None, 0.5) == 0.4 and mix(0.4, 0.8, 0.0) == 0.4


def test_config_checks_the_sentence_weight() -> None:
    from zsearch.errors import UsageError

    with pytest.raises(UsageError, match="sentence weight"):
        SearchConfig(sentence_weight=1.5).check()
    assert DEFAULT_CONFIG.sentence_weight == 0.5 and NO_SENTENCE_CONFIG.sentence_weight == 0.0


# -- ingest and search with the bundled model ----------------------------------------------


@pytest.fixture(scope="module")
def sdb(tmp_path_factory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("sentences") / "db"
    lib = Library.open(db)
    lib.ingest_papers(scifact_papers(40))
    return db


def test_ingest_stores_one_vector_per_title_and_abstract_sentence(sdb) -> None:  # type: ignore[no-untyped-def]
    lib = Library.open(sdb)
    papers = scifact_papers(40)
    rows = lib.store.get_rows([p.id for p in papers[:5]], ["id", "sentences", "sentence_vectors"])
    for p in papers[:5]:
        r = rows[p.id]
        assert r["sentences"] == paper_sentences(p.title, p.abstract)
        assert len(r["sentence_vectors"]) == len(r["sentences"]) >= 2
    # the stored vectors are the sentence pass's vectors of those sentences (on ONNX the int8 graph,
    # whose dynamic activation scales depend on the batch: so the same 40 papers' sentences again)
    p = papers[0]
    every = [paper_sentences(q.title, q.abstract) for q in papers]
    want = lib.embedder.encode_sentences([t for ss in every for t in ss])[: len(every[0])]
    # stored as int8 with a scale each (schema 4); read back as search reads them, at unit length
    got = lib.store.vectors_and_sentences([p.id])[p.id][1]
    assert float(np.min(np.sum(want * got, axis=1))) > 0.9999
    assert lib.stats()["sentence_vectors"] == 40


def test_sentence_texts_that_re_split_from_the_abstract_are_not_stored_again(sdb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Schema 5: on disk an abstract's sentence texts are an empty list; every read re-splits them."""
    from zsearch.papers.model import Paper

    lib = Library.open(sdb)
    papers = scifact_papers(40)
    raw = {r["id"]: r for r in lib.store.papers.search().select(["id", "sentences"]).limit(None).to_list()}
    assert all(raw[p.id]["sentences"] == [] for p in papers)  # the texts are not on disk
    full = {r["id"]: r for r in lib.store.rows(columns=["id", "sentences"], limit=100)}
    assert set(full[papers[3].id]) == {"id", "sentences"}  # the title and abstract read for it are not returned
    assert all(full[p.id]["sentences"] == paper_sentences(p.title, p.abstract) for p in papers)
    streamed = [r for batch in lib.store.iter_rows(columns=["id", "sentences"]) for r in batch]
    assert all(r["sentences"] == full[r["id"]]["sentences"] for r in streamed)
    # a paper without an abstract takes its sentences from its body: those texts are stored
    db = tmp_path / "db"
    lib2 = Library.open(db)
    body = "Body text starts here. And it goes on for a while."
    lib2.ingest_papers([Paper(id="x:1", source="x", title="A paper", full_text=body)])
    stored = lib2.store.papers.search().select(["id", "sentences"]).to_list()[0]["sentences"]
    assert stored == ["A paper", "Body text starts here.", "And it goes on for a while."]
    hit = lib2.search("And it goes on for a while.", k=1)[0]
    assert hit.sentence == "And it goes on for a while."


def test_pack_and_unpack_sentences_by_hand() -> None:
    from zsearch.store.schema import pack_sentences, resplit, unpack_sentences

    row = {"title": "T", "abstract": "One sentence here. Two sentences here.",
           "sentences": ["T", "One sentence here.", "Two sentences here."]}
    assert pack_sentences(row)["sentences"] == []
    assert unpack_sentences(pack_sentences(row))["sentences"] == row["sentences"]
    other = {**row, "sentences": ["T", "One sentence here. Two sentences here."]}  # split another way: kept
    assert pack_sentences(other) == other and unpack_sentences(dict(other)) == other
    assert pack_sentences({**row, "sentences": None})["sentences"] is None
    assert unpack_sentences({"title": "T", "abstract": "", "sentences": []})["sentences"] == []  # no text, none
    # the search re-splits only when the count matches the stored vectors; else no text, never a wrong one
    assert resplit("T", "One sentence here. Two sentences here.", 3) == row["sentences"]
    assert resplit("T", "One sentence here. Two sentences here.", 2) is None


def test_search_names_the_best_sentence_and_mixes_it_in(sdb) -> None:  # type: ignore[no-untyped-def]
    lib = Library.open(sdb)
    target = scifact_papers(40)[7]
    sent = paper_sentences(target.title, target.abstract)[-1]  # the abstract's last sentence
    hits = lib.search(sent, k=5)
    top = hits[0]
    assert top.id == target.id and top.sentence == sent
    # the query is the sentence itself: 1.0 but for the int8 graph the sentence pass runs on
    # (cosine to fp32 min 0.95, mean 0.99: tests/test_onnx.py)
    assert top.scores["sentence"] == pytest.approx(1.0, abs=0.03)
    # dense = 0.5 * paper + 0.5 * sentence (DEFAULT_CONFIG.sentence_weight)
    assert top.scores["dense"] == pytest.approx(0.5 * top.scores["paper"] + 0.5 * top.scores["sentence"], abs=1e-5)
    assert top.scores["sentence"] > top.scores["paper"]
    # switched off, the same query has no sentence scores
    off = lib.search(sent, k=5, config=NO_SENTENCE_CONFIG)
    assert off[0].sentence is None and "sentence" not in off[0].scores


def test_bm25_only_candidates_get_their_dense_score_filled_in(sdb) -> None:  # type: ignore[no-untyped-def]
    """Every fused candidate is compared on both lists: none carries a missing dense score."""
    lib = Library.open(sdb)
    hits = lib.search("vitamin D supplementation mortality", k=40)
    with_bm25 = [h for h in hits if "bm25" in h.scores]
    assert with_bm25 and all("dense" in h.scores and "sentence" in h.scores for h in with_bm25)


def test_a_metadata_update_keeps_the_sentence_vectors(sdb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    db = tmp_path / "db"
    shutil.copytree(sdb, db)
    lib = Library.open(db)
    p = scifact_papers(1)[0]
    before = lib.store.get_rows([p.id], ["id", "sentence_vectors"])[p.id]["sentence_vectors"]
    p.year = 2011
    rep = lib.ingest_papers([p])
    assert rep.updated == 1 and rep.tokens == 0  # metadata only: nothing re-embedded
    row = lib.store.get_rows([p.id], ["id", "year", "sentence_vectors"])[p.id]
    assert row["year"] == 2011 and np.allclose(np.asarray(row["sentence_vectors"]), np.asarray(before))


# -- a database from before the sentence stage ---------------------------------------------


def make_schema1_db(src, dst) -> None:  # type: ignore[no-untyped-def]
    """A copy of ``src`` as zsearch 0.1 wrote it: no sentence columns."""
    import shutil

    shutil.copytree(src, dst)
    lib = Library.open(dst)
    lib.store.papers.drop_columns(["sentences", "sentence_vectors"])
    assert not Library.open(dst).store.has_sentences


def test_an_old_database_searches_then_gains_sentence_vectors(sdb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "old"
    make_schema1_db(sdb, db)
    lib = Library.open(db)
    assert lib.stats()["sentence_vectors"] == 0
    assert lib.default_config() == NO_SENTENCE_CONFIG  # weights tuned for no sentence stage
    query = "vitamin D supplementation mortality"
    old_hits = lib.search(query, k=5)
    assert old_hits and all(h.sentence is None for h in old_hits)

    version = lib.store.version()
    assert lib.add_sentence_vectors(batch=16) == 40
    assert lib.store.version() > version
    lib2 = Library.open(db)
    assert lib2.stats()["sentence_vectors"] == 40 and lib2.default_config() == DEFAULT_CONFIG
    new_hits = lib2.search(query, k=5)
    assert all(h.sentence for h in new_hits)
    # the papers did not change: same ids, vectors, timestamps
    a = lib2.store.get_rows([h.id for h in new_hits], ["id", "vector", "updated"])
    b = Library.open(sdb).store.get_rows([h.id for h in new_hits], ["id", "vector", "updated"])
    for pid in a:
        assert np.allclose(a[pid]["vector"], b[pid]["vector"]) and a[pid]["updated"] == b[pid]["updated"]
    assert lib2.add_sentence_vectors() == 0  # nothing left to do


def test_ingest_into_an_old_database_adds_the_columns(sdb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "old"
    make_schema1_db(sdb, db)
    lib = Library.open(db)
    new = scifact_papers(41)[40]
    rep = lib.ingest_papers([new])
    assert rep.added == 1
    assert lib.store.has_sentences
    # the new paper has its sentences, the old ones wait for add_sentence_vectors
    assert lib.store.sentence_coverage() == (1, 41)
    row = lib.store.get_rows([new.id], ["id", "sentences"])[new.id]
    assert row["sentences"][0] == new.title


def test_cli_stats_reports_sentence_coverage(sdb, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_cli

    code, out, _ = run_cli(["stats", "--db", str(sdb)], capsys)
    assert code == 0 and "40 of 40 papers have sentence vectors" in out


# -- long-context models make none --------------------------------------------------------


def test_a_long_context_model_makes_no_sentence_vectors(hf_cache, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    lib = Library.open(tmp_path / "z", model="zembed-1", device="cpu")
    assert lib.embedder.long_context and not lib.embedder.sentence_vectors
    lib.ingest_papers(scifact_papers(3))
    assert lib.store.sentence_coverage() == (0, 3)
    assert lib.default_config() == NO_SENTENCE_CONFIG
    assert lib.add_sentence_vectors() == 0
    hits = lib.search("cerebral white matter", k=3)
    assert len(hits) == 3 and all(h.sentence is None for h in hits)
    assert not math.isnan(hits[0].score)


def test_cli_reembed_sentences_upgrades_an_old_database(sdb, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import run_cli

    db = tmp_path / "old"
    make_schema1_db(sdb, db)
    code, out, _ = run_cli(["reembed", "--sentences", "--db", str(db), "--format", "json"], capsys)
    assert code == 0
    rep = json.loads(out)
    assert (rep["added"], rep["papers_with_sentences"], rep["papers"]) == (40, 40, 40)
    code, out, err = run_cli(["reembed", "--sentences", "--db", str(db)], capsys)
    assert code == 0 and "added sentence vectors to 0 papers" in err
    code, _, err = run_cli(["reembed", "--db", str(db)], capsys)
    assert code == 2 and "--model" in err


def test_an_abstract_covered_by_its_sentences_needs_no_passages(sdb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Abstract-only papers past MiniLM's 256 tokens: sentences, not windows; with a body: windows too."""
    lib = Library.open(sdb)
    rows = lib.store.get_rows([p.id for p in scifact_papers(40)], ["id", "token_count", "n_chunks", "sentences"])
    long = [r for r in rows.values() if r["token_count"] > lib.embedder.doc_token_limit]
    assert long, "the sample has abstracts longer than the model's context"
    assert all(r["n_chunks"] == 0 and len(r["sentences"]) >= 2 for r in long)
    assert lib.store.chunks.count_rows() == 0
    # every word of such an abstract is in some stored sentence
    p = next(x for x in scifact_papers(40) if x.id == long[0]["id"])
    words = " ".join(long[0]["sentences"]).split()
    assert words[len(p.title.split()):] == p.abstract.split()
    # the same paper with a body gets passages over its whole text
    lib2 = Library.open(tmp_path / "body")
    p.full_text = p.abstract + " " + p.abstract
    lib2.ingest_papers([p])
    row = lib2.store.get_rows([p.id], ["id", "n_chunks"])[p.id]
    assert row["n_chunks"] >= 2 and lib2.store.chunks.count_rows() == row["n_chunks"]
