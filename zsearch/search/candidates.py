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

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zsearch.search.config import PASSAGE_DEPTH_FACTOR, SearchConfig
from zsearch.search.fusion import ranked
from zsearch.search.sentences import best_sentences, cosines, mix
from zsearch.store.indexes import tune_ann
from zsearch.store.memory import WarmIndex
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
    # id -> (text(i, j), i, j): where its best sentence's text is, read for the hits only
    sentence_at: dict[str, tuple[Any, int, int]] = field(default_factory=dict)
    warm: WarmIndex | None = None  # the warm index the candidates were read from, if any (the hits read it too)

    def sentence_of(self, pid: str) -> str | None:
        """The text of ``pid``'s best sentence, if the sentence stage found one."""
        if pid not in self.sentence and pid in self.sentence_at:
            text, i, j = self.sentence_at[pid]
            found = text(i, j)
            if found is not None:
                self.sentence[pid] = found
        return self.sentence.get(pid)


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
        q = tune_ann(store.chunks.search(qvec, vector_column_name="vector").distance_type("cosine"), nprobes, refine)
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
                     *, nprobes: int | None = None, refine: int | None = None, warm: WarmIndex | None = None) -> Candidates:
    """Papers by max(cosine to title+abstract vector, cosine to best passage).

    ``warm``: the warm index (zsearch.store.memory), which answers an unfiltered exact scan
    itself. An exact scan's paper scores are :func:`~zsearch.search.sentences.cosines` of the
    vectors read, whichever path read them; an ANN search's are LanceDB's on both paths.
    """
    c = Candidates()
    if warm is not None and warm.exact and not where:
        ids, heads = warm.nearest(qvec, depth)
        scores = cosines(heads, qvec).tolist()
    else:
        ids, heads, scores = store.nearest_papers(qvec, depth, where, nprobes=nprobes, refine=refine)
        if heads is not None:  # an exact scan: scored as the warm index scores it
            scores = cosines(heads, qvec).tolist()
    for pid, s in zip(ids, scores):
        c.dense_score[pid] = float(s)
    if store.has_passages():
        for r in passage_hits(store, qvec, depth * PASSAGE_DEPTH_FACTOR, where, nprobes=nprobes, refine=refine):
            s = 1.0 - float(r["_distance"])
            pid = r["paper_id"]
            if s > c.dense_score.get(pid, -2.0):
                c.dense_score[pid] = s
                c.passage[pid] = r["text"]
    c.dense = [pid for pid, _ in ranked(c.dense_score)][:depth]
    return c


def fts_candidates(store: Store, query: str, depth: int, where: str | None = None,
                   column: str = "fts_text") -> tuple[list[str], dict[str, float]]:
    """BM25 ranking from LanceDB's native full-text index on ``column`` (empty without one)."""
    if not query.strip() or not store.has_fts_on(column):
        return [], {}
    q = store.papers.search(query, query_type="fts", fts_columns=column)
    if where:
        q = q.where(where, prefilter=True)
    rows = q.select(["id", "_score"]).limit(depth).to_list()
    # LanceDB returns equal scores in no fixed order (its index segments are searched in
    # parallel): ties broken by id, so a query ranks the same every time
    rows.sort(key=lambda r: (-float(r["_score"]), r["id"]))
    return [r["id"] for r in rows], {r["id"]: float(r["_score"]) for r in rows}


def gather(store: Store, qvec: np.ndarray | None, query: str, cfg: SearchConfig, where: str | None,
           depth: int) -> Candidates:
    """Every list ``cfg`` asks for, each to ``depth``."""
    warm = store.warm()
    lexical: list[Future[tuple[list[str], dict[str, float]]]] = []
    if cfg.mode in ("hybrid", "bm25"):  # BM25 runs in LanceDB's threads while the dense search goes on here
        lexical.append(_POOL.submit(fts_candidates, store, query, depth, where))
        if cfg.title_field:
            lexical.append(_POOL.submit(fts_candidates, store, query, depth, where, "title"))
    cand = Candidates()
    if cfg.mode in ("hybrid", "dense") and qvec is not None:
        cand = dense_candidates(store, qvec, depth, where, warm=warm, **store.ann_params())
    sentences = cfg.mode in ("hybrid", "dense") and qvec is not None and cfg.sentence_weight > 0 and store.has_sentences
    done: list[str] = []
    if sentences and warm is not None and lexical:  # from memory, while the BM25 queries run
        done = score_sentences(store, qvec, cand, cfg.sentence_weight, list(cand.dense), warm)
    cand.warm = warm
    if lexical:
        cand.bm25, cand.bm25_score = lexical[0].result()
        if len(lexical) > 1:
            cand.title, cand.title_score = lexical[1].result()
    if sentences:
        sentence_stage(store, qvec, cand, cfg.sentence_weight, depth, warm=warm, done=done)
    return cand


# Threads for the BM25 queries of searches, run beside their dense search: each thread only
# waits on LanceDB's own runtime, so this is how many BM25 queries may be in flight at once
# (two per search; the service runs up to zsearch.serve.app.WORKERS searches at a time).
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="zsearch-fts")


def sentence_stage(store: Store, qvec: np.ndarray, cand: Candidates, weight: float, depth: int,
                   warm: WarmIndex | None = None, done: Sequence[str] = ()) -> None:
    """Mix each candidate's dense score with its best sentence (zsearch.search.sentences), in place.

    Candidates of either list take part: a BM25-only candidate's paper score is its
    vector's cosine (filled in, so the fusion compares like with like). ``cand.dense`` is
    re-ranked by the mixed score. ``done``: candidates already scored by :func:`score_sentences`
    (the warm path scores the dense ones while the BM25 queries run).
    """
    ids = list(dict.fromkeys([*cand.dense, *cand.bm25, *cand.title]))
    if not ids:
        return
    skip = set(done)
    score_sentences(store, qvec, cand, weight, [pid for pid in ids if pid not in skip], warm)
    cand.dense = [pid for pid, _ in ranked(cand.dense_score)][:max(depth, len(ids))]


def score_sentences(store: Store, qvec: np.ndarray, cand: Candidates, weight: float, ids: Sequence[str],
                    warm: WarmIndex | None = None) -> list[str]:
    """The sentence stage's scores of ``ids`` (each scored once: its dense score becomes the mix); returns them."""
    if not ids:
        return []
    rows = (warm or store).sentence_rows(ids)
    q = np.asarray(qvec, dtype=np.float32)
    heads = cosines(rows.heads, q) if rows.ids else []
    for i, (pid, best) in enumerate(zip(rows.ids, best_sentences(q, rows.vectors, rows.offsets))):
        paper = cand.dense_score.get(pid)
        if paper is None:
            paper = float(heads[i])
        cand.paper_score[pid] = paper
        if best is not None:
            cand.sentence_score[pid] = best[0]
            cand.sentence_at[pid] = (rows.text, i, best[1])
        cand.dense_score[pid] = mix(paper, best[0] if best else None, weight)
    return list(ids)
