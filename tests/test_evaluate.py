"""Evaluation harness: ranx checked by hand, the BEIR loader, TREC runs, and `zsearch eval beir` end to end."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from zsearch.errors import NotFound
from zsearch.evaluate import beir as ev

MINI = Path(__file__).parent / "data" / "beir" / "scifact-mini"


def test_metrics_match_hand_computed_values():
    qrels = {"q1": {"d1": 1, "d3": 1}, "q2": {"d9": 1}, "q3": {"d5": 1}}
    run = {
        "q1": {"d1": 3.0, "d2": 2.0, "d3": 1.0},  # relevant at ranks 1 and 3
        "q2": {"d8": 2.0, "d9": 1.0},  # relevant at rank 2
        "q3": {},  # nothing returned: counts 0, is not dropped
    }
    m = ev.score_run(qrels, run)
    # nDCG@10: q1 DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3); q2 = (1/log2(3)) / 1
    q1 = 1.5 / (1 + 1 / math.log2(3))
    q2 = 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx((q1 + q2 + 0) / 3, abs=1e-6)
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-6)
    assert m["recall@100"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-6)


def test_graded_qrels_and_zero_judgements():
    # a judgement of 0 is "not relevant": the query with only zeros is not scored at all
    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"x": 0}}
    run = {"q1": {"b": 2.0, "a": 1.0}, "q2": {"x": 1.0}}
    m = ev.score_run(qrels, run, metrics=("ndcg@10",))
    # linear gain (Järvelin & Kekäläinen), as trec_eval and BEIR's pytrec_eval compute it
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-6)


def test_load_beir_reads_the_split(tmp_path):
    data = ev.load_beir(MINI, "train")
    assert data.name == "scifact-mini" and data.split == "train"
    assert len(data.corpus) == 11 and set(data.queries) == {"0", "6", "10", "11"}
    assert data.qrels["0"] == {"31715818": 1}
    assert data.corpus["31715818"][0].startswith("New opportunities: the use of nanotechnologies")
    assert len(data.corpus_sha256) == 64
    with pytest.raises(NotFound, match="splits here: train"):
        ev.load_beir(MINI, "test")
    with pytest.raises(NotFound, match="no corpus.jsonl"):
        ev.load_beir(tmp_path, "train")


def test_ids_round_trip():
    pid = ev.paper_id("scifact", "4983")
    assert pid == "beir:scifact:4983" and ev.doc_id("scifact", pid) == "4983"


def test_trec_run_format(tmp_path):
    path = tmp_path / "run.trec"
    ev.write_trec_run({"q1": {"d2": 1.0, "d1": 2.5}}, path, tag="t")
    assert path.read_text().splitlines() == ["q1 Q0 d1 1 2.500000 t", "q1 Q0 d2 2 1.000000 t"]


def test_eval_beir_cli_end_to_end(tmp_path, capsys):
    import zsearch.cli.evaluate  # noqa: F401 - registers `eval beir`
    from zsearch.cli import main

    db = tmp_path / "db"
    run = tmp_path / "run.trec"
    assert main(["eval", "beir", str(MINI), "--split", "train", "--compare", "--db", str(db), "--run", str(run),
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 11 and out["split"] == "train"
    names = [r["config"] for r in out["results"]]
    assert names[:4] == ["dense", "dense + sentence stage", "bm25", "hybrid (RRF k=60)"]
    assert names[-1].startswith("default")
    for r in out["results"]:
        assert r["queries"] == 4
        assert 0.0 <= r["ndcg@10"] <= 1.0 and 0.0 < r["mrr@10"] <= 1.0
        if r["config"] != "bm25":  # 11 docs: dense retrieves them all (BM25 only those sharing a term)
            assert r["recall@100"] == 1.0
    # the run names BEIR _ids (not zsearch ids), 4 queries x 11 docs
    lines = run.read_text().splitlines()
    assert len(lines) == 44 and all(len(line.split()) == 6 for line in lines)
    assert {line.split()[2] for line in lines} == set(ev.load_beir(MINI, "train").corpus)
    # the run file agrees with the reported metric of the default configuration
    qrels = ev.load_beir(MINI, "train").qrels
    parsed: dict[str, dict[str, float]] = {}
    for line in lines:
        q, _, d, _rank, score, _tag = line.split()
        parsed.setdefault(q, {})[d] = float(score)
    default = next(r for r in out["results"] if "default" in r["config"])
    assert ev.score_run(qrels, parsed)["ndcg@10"] == pytest.approx(default["ndcg@10"], abs=1e-4)

    # a second evaluation reuses the database instead of re-ingesting
    marker = json.loads((db / ev.FINGERPRINT_FILE).read_text())
    assert marker["documents"] == 11 and marker["dataset"] == "scifact-mini"
    assert main(["eval", "beir", str(MINI), "--split", "train", "--db", str(db), "--format", "table"]) == 0
    captured = capsys.readouterr()
    assert "reusing 11 documents" in captured.err
    assert "nDCG@10".lower() in captured.out.lower()


def test_changed_corpus_is_reingested(tmp_path):
    from zsearch.library import Library

    d = tmp_path / "ds"
    shutil.copytree(MINI, d)
    lib = Library.open(tmp_path / "db")
    data = ev.load_beir(d, "train")
    small = ev.BeirData(data.name, dict(list(data.corpus.items())[:3]), data.queries, data.qrels, "x" * 64, "train")
    assert ev.ensure_ingested(lib, small) is False
    assert ev.ensure_ingested(lib, small) is True
    bigger = ev.BeirData(data.name, dict(list(data.corpus.items())[:4]), data.queries, data.qrels, "y" * 64, "train")
    assert ev.ensure_ingested(lib, bigger) is False
    assert lib.store.count() == 4
