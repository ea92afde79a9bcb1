"""Candidates: each retriever's ranked ids and scores, and the sentence stage that adjusts them.

Each retriever reads its top ``depth`` (:data:`zsearch.search.config.CANDIDATE_DEPTH`), with
the LanceDB prefilter applied first:

* **dense** — a paper's score is the better of its title+abstract vector and its best passage
  (MaxP, Dai & Callan 2019), so the body of a long paper counts, not only its first 256 tokens.
  Filters name paper columns, which the passages table lacks: a filtered passage search
  (:func:`passage_hits`) prefilters on ``paper_id`` when few papers pass, and otherwise
  searches the passages unfiltered, deep enough for the filter's share of papers, keeping
  those whose paper passes — never one ``IN`` list of every passing paper.
* **bm25** — LanceDB's native full-text index over title, abstract and body.
* **title** — BM25 over the title alone (field weighting: a query term in the title says
  more than the same term deep in the body), when the title index exists.

Then the **sentence stage** (:func:`sentence_stage`, scoring in :mod:`zsearch.search.sentences`).
The queries are built from the :class:`~zsearch.store.tables.Store`'s tables; this room never
imports LanceDB itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zsearch.search.config import PASSAGE_DEPTH_FACTOR, SearchConfig
from zsearch.search.fusion import ranked
from zsearch.search.sentences import best_sentence, mix
from zsearch.store.sql import sql_in
from zsearch.store.tables import Store


@dataclass
class Candidates:
    """Ranked ids per retriever, and what the fusion and rendering need."""

    dense: list[str] = field(default_factory=list)
    dense_score: dict[str, float] = field(default_factory=dict)
    passage: dict[str, str] = field(default_factory=dict)  # id -> best passage when it beat the head
    bm25: list[str] = field(default_factory=list)
    bm25_score: dict[str, float] = field(default_factory=dict)
    title: list[str] = field(default_factory=list)
    title_score: dict[str, float] = field(default_factory=dict)
    rerank_score: dict[str, float] = field(default_factory=dict)
    paper_score: dict[str, float] = field(default_factory=dict)  # dense before the sentence stage
    sentence_score: dict[str, float] = field(default_factory=dict)
    sentence: dict[str, str] = field(default_factory=dict)  # id -> its best sentence


# Papers passing a filter up to which a passage search prefilters on ``paper_id IN (...)``
# (an index look-up of that many keys: 4 IN lists of zsearch.store.sql.IN_LIST_SIZE);
# above it the unfiltered search with a post-filter reads fewer rows (benchmarks/scale.py).
PREFILTER_PAPERS = 2_000
# How much deeper than the filter's share of papers predicts a post-filtered passage search
# reads first, and by how much it deepens when that was not enough (each round is one search).
OVERFETCH, DEEPEN = 2.0, 4


def passage_hits(store: Store, qvec: np.ndarray, need: int, where: str | None = None,
                 *, nprobes: int | None = None, refine: int | None = None) -> list[dict[str, Any]]:
    """The ``need`` passages nearest ``qvec`` (``paper_id``, ``text``, ``_distance``) among papers passing ``where``.

    Unfiltered: one search. Filtered, with few passing papers (<= :data:`PREFILTER_PAPERS`):
    one search prefiltered on their ids. Otherwise the passages are searched unfiltered to
    ``need / share * OVERFETCH`` and those of passing papers kept (one ``id IN`` look-up of
    the candidates' papers), deepening until ``need`` are kept or every passage was read, so
    with an exact (flat) search the result is what a prefilter would give.
    """
    def search(limit: int, prefilter: str | None = None) -> list[dict[str, Any]]:
        q = _tune_ann(store.chunks.search(qvec, vector_column_name="vector").distance_type("cosine"), nprobes, refine)
        if prefilter:
            q = q.where(prefilter, prefilter=True)
        return q.select(["paper_id", "text", "_distance"]).limit(limit).to_list()

    if not where:
        return search(need)
    passing = store.count_where(where)
    if passing == 0:
        return []
    if passing <= PREFILTER_PAPERS:
        return search(need, sql_in("paper_id", store.ids(where)))
    total = store.count_chunks()
    limit = min(total, max(need, int(need * OVERFETCH * max(store.count(), 1) / passing)))
    while True:
        rows = search(limit)
        ok = store.passing([r["paper_id"] for r in rows], where)
        kept = [r for r in rows if r["paper_id"] in ok]
        if len(kept) >= need or limit >= total or len(rows) < limit:
            return kept[:need]
        limit = min(total, limit * DEEPEN)


def dense_candidates(store: Store, qvec: np.ndarray, depth: int, where: str | None = None,
                     *, nprobes: int | None = None, refine: int | None = None) -> Candidates:
    """Papers by max(cosine to title+abstract vector, cosine to best passage)."""
    c = Candidates()
    q = store.papers.search(qvec, vector_column_name="vector").distance_type("cosine")
    q = _tune_ann(q, nprobes, refine)
    if where:
        q = q.where(where, prefilter=True)
    for r in q.select(["id", "_distance"]).limit(depth).to_list():
        c.dense_score[r["id"]] = 1.0 - float(r["_distance"])
    if store.count_chunks():
        for r in passage_hits(store, qvec, depth * PASSAGE_DEPTH_FACTOR, where, nprobes=nprobes, refine=refine):
            s = 1.0 - float(r["_distance"])
            pid = r["paper_id"]
            if s > c.dense_score.get(pid, -2.0):
                c.dense_score[pid] = s
                c.passage[pid] = r["text"]
    c.dense = [pid for pid, _ in ranked(c.dense_score)][:depth]
    return c


def _tune_ann(q: Any, nprobes: int | None, refine: int | None) -> Any:
    """Apply the ANN search parameters (ignored by LanceDB when the table has no vector index)."""
    if nprobes:
        q = q.nprobes(nprobes)
    if refine:
        q = q.refine_factor(refine)
    return q


def fts_candidates(store: Store, query: str, depth: int, where: str | None = None,
                   column: str = "fts_text") -> tuple[list[str], dict[str, float]]:
    """BM25 ranking from LanceDB's native full-text index on ``column`` (empty without one)."""
    if not query.strip() or not store.has_fts_on(column):
        return [], {}
    q = store.papers.search(query, query_type="fts", fts_columns=column)
    if where:
        q = q.where(where, prefilter=True)
    rows = q.select(["id", "_score"]).limit(depth).to_list()
    return [r["id"] for r in rows], {r["id"]: float(r["_score"]) for r in rows}


def gather(store: Store, qvec: np.ndarray | None, query: str, cfg: SearchConfig, where: str | None,
           depth: int) -> Candidates:
    """Every list ``cfg`` asks for, each to ``depth``."""
    cand = Candidates()
    if cfg.mode in ("hybrid", "dense") and qvec is not None:
        cand = dense_candidates(store, qvec, depth, where, **store.ann_params())
    if cfg.mode in ("hybrid", "bm25"):
        cand.bm25, cand.bm25_score = fts_candidates(store, query, depth, where)
        if cfg.title_field:
            cand.title, cand.title_score = fts_candidates(store, query, depth, where, column="title")
    if cfg.mode in ("hybrid", "dense") and qvec is not None and cfg.sentence_weight > 0 and store.has_sentences:
        sentence_stage(store, qvec, cand, cfg.sentence_weight, depth)
    return cand


def sentence_stage(store: Store, qvec: np.ndarray, cand: Candidates, weight: float, depth: int) -> None:
    """Mix each candidate's dense score with its best sentence (zsearch.search.sentences), in place.

    Candidates of either list take part: a BM25-only candidate's paper score is its
    vector's cosine (filled in, so the fusion compares like with like). ``cand.dense`` is
    re-ranked by the mixed score.
    """
    ids = list(dict.fromkeys([*cand.dense, *cand.bm25, *cand.title]))
    if not ids:
        return
    rows = store.vectors_and_sentences(ids)
    q = np.asarray(qvec, dtype=np.float32)
    for pid in ids:
        if pid not in rows:
            continue
        head, svecs, sents = rows[pid]
        paper = cand.dense_score.get(pid)
        if paper is None:
            paper = float(head @ q)
        cand.paper_score[pid] = paper
        best = best_sentence(q, svecs)
        if best is not None:
            cand.sentence_score[pid] = best[0]
            if best[1] < len(sents):
                cand.sentence[pid] = sents[best[1]]
        cand.dense_score[pid] = mix(paper, best[0] if best else None, weight)
    cand.dense = [pid for pid, _ in ranked(cand.dense_score)][:max(depth, len(ids))]
