"""Retrieval: dense and full-text candidates, fused, then an optional cross-encoder rerank.

Candidates (each retriever's top :data:`CANDIDATE_DEPTH`, LanceDB prefilters applied first):

* **dense** — a paper's score is the better of its title+abstract vector and its best passage
  (MaxP, Dai & Callan 2019), so the body of a long paper counts, not only its first 256 tokens.
* **bm25** — LanceDB's native full-text index over title, abstract and body.
* **title** — BM25 over the title alone (field weighting: a query term in the title says
  more than the same term deep in the body), when the title index exists.

Then the **sentence stage** (:mod:`zsearch.ingest.sentences`): every candidate of either list gets
its dense score computed — the vector scores of BM25-only candidates are filled in — and
mixed with its best title/abstract sentence, ``(1 - w) * paper + w * sentence``. A paper
without sentence vectors keeps its paper score.

The lists are fused (:mod:`zsearch.search.fusion`; by default a convex combination of min-max
normalised scores) with the weights in :data:`DEFAULT_CONFIG`, chosen on SciFact's train split with ``zsearch eval beir`` (docs/benchmarks.md lists every
candidate that was measured, including those that did not help). A reranker
(:mod:`zsearch.embedding.rerank`), when asked for, re-orders the fused top ``rerank_top``.
See docs/search.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from zsearch.search.fusion import RRF_K, convex, ranked, rrf
from zsearch.papers.model import Hit
from zsearch.store.schema import HIT_COLUMNS
from zsearch.store.sql import sql_in
from zsearch.store.tables import Store

# Candidates taken from each retriever before fusion: 100 covers Recall@100 and gives a
# reranker its top 50 with room to spare.
CANDIDATE_DEPTH = 100
# Passages read per query: several passages of one paper often rank together.
PASSAGE_DEPTH_FACTOR = 3
MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("rrf", "convex")


@dataclass(frozen=True)
class SearchConfig:
    """How a query is answered. :data:`DEFAULT_CONFIG` is what every search uses unless told."""

    mode: str = "hybrid"  # hybrid | dense | bm25
    fusion: str = "rrf"  # rrf | convex (min-max normalised scores)
    rrf_k: int = RRF_K
    weights: Mapping[str, float] | None = None  # per list: dense, bm25, title
    depth: int = CANDIDATE_DEPTH
    title_field: bool = False  # add BM25 over titles alone as a third list
    rerank: str | None = None  # a reranker profile, hub name or path
    rerank_top: int = 50
    sentence_weight: float = 0.0  # w of the sentence stage; 0 switches it off
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> SearchConfig:
        return replace(self, **changes)

    def check(self) -> SearchConfig:
        from zsearch.errors import UsageError

        if self.mode not in MODES:
            raise UsageError(f"unknown search mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {self.fusion!r}; choose one of: {', '.join(FUSIONS)}")
        if self.rerank_top < 1:
            raise UsageError("--rerank-top must be at least 1")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise UsageError("the sentence weight must be between 0 and 1")
        return self


# The default: the sentence stage (w 0.5), then a convex combination of min-max normalised
# dense (0.7) and BM25 (0.3) scores (Bruch et al., TOIS 2023). Chosen with the bundled MiniLM
# on SciFact's train split (5,183 abstracts, 809 queries; docs/benchmarks.md, "Search
# quality", lists every candidate): without the sentence stage the best fusion was convex
# 0.5/0.5 at nDCG@10 0.7341 (RRF k=60: 0.7132); with it, dense carries more of the weight:
# 0.7484, and 0.7500 with abstract-only papers stored as ingest now stores them.
# The grid (w 0.3/0.5/0.7 x dense 0.6-0.8) gave the same choice on both halves of the
# queries.
DEFAULT_CONFIG = SearchConfig(fusion="convex", weights={"dense": 0.7, "bm25": 0.3}, sentence_weight=0.5)
# Without the sentence stage (a database whose papers have no sentence vectors, or
# `--compare`'s baseline row): the best fusion measured for that case.
NO_SENTENCE_CONFIG = SearchConfig(fusion="convex", weights={"dense": 0.5, "bm25": 0.5})


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


def _allowed_ids(store: Store, where: str) -> list[str]:
    return [r["id"] for r in store.rows(where, ["id"])]


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
    if store.chunks.count_rows():
        cq = store.chunks.search(qvec, vector_column_name="vector").distance_type("cosine")
        if where:
            # filters name paper columns: restrict passages to the papers that pass them
            cq = cq.where(sql_in("paper_id", _allowed_ids(store, where)), prefilter=True)
        for r in cq.select(["paper_id", "text", "_distance"]).limit(depth * PASSAGE_DEPTH_FACTOR).to_list():
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
    """Mix each candidate's dense score with its best sentence (zsearch.ingest.sentences), in place.

    Candidates of either list take part: a BM25-only candidate's paper score is its
    vector's cosine (filled in, so the fusion compares like with like). ``cand.dense`` is
    re-ranked by the mixed score.
    """
    from zsearch.search.sentences import best_sentence, mix

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


def fuse(cand: Candidates, cfg: SearchConfig) -> dict[str, float]:
    """One score per candidate from the lists ``cfg`` uses."""
    if cfg.mode == "dense":
        return dict(cand.dense_score)
    if cfg.mode == "bm25":
        lists = {"bm25": cand.bm25_score}
        if cfg.title_field:
            lists["title"] = cand.title_score
        return dict(cand.bm25_score) if len(lists) == 1 else convex(lists, cfg.weights)
    if cfg.fusion == "convex":
        lists = {"dense": cand.dense_score, "bm25": cand.bm25_score}
        if cfg.title_field:
            lists["title"] = cand.title_score
        return convex(lists, cfg.weights)
    rankings = {"dense": cand.dense, "bm25": cand.bm25}
    if cfg.title_field:
        rankings["title"] = cand.title
    return rrf(rankings, k=cfg.rrf_k, weights=cfg.weights)


def hybrid_search(
    store: Store,
    qvec: np.ndarray | None,
    query: str,
    *,
    k: int = 10,
    where: str | None = None,
    depth: int | None = None,
    weights: dict[str, float] | None = None,
    config: SearchConfig | None = None,
    reranker: Any = None,
) -> list[Hit]:
    """Candidates -> fusion -> (rerank) -> the top ``k`` as :class:`Hit`.

    ``reranker``: a loaded :class:`zsearch.embedding.rerank.Reranker` (``config.rerank`` names it; the
    caller loads it once).
    """
    cfg = (config or DEFAULT_CONFIG)
    if weights is not None:
        cfg = cfg.replace(weights=weights)
    cfg.check()
    depth = max(depth or cfg.depth, k, cfg.rerank_top if reranker is not None else 0)
    cand = gather(store, qvec, query, cfg, where, depth)
    fused = ranked(fuse(cand, cfg))
    if reranker is not None and fused:
        fused = rerank_candidates(store, reranker, query, fused, cand, cfg.rerank_top)
    return to_hits(store, fused[:k], cand)


def rerank_candidates(store: Store, reranker: Any, query: str, fused: list[tuple[str, float]],
                      cand: Candidates, top: int) -> list[tuple[str, float]]:
    """Re-order the first ``top`` of ``fused`` by the cross-encoder; the rest keep their order below."""
    head = [pid for pid, _ in fused[:top]]
    rows = store.get_rows(head, ["id", "title", "abstract"])
    texts = [reranker.fit_text(query, rows.get(pid, {}).get("title") or "", rows.get(pid, {}).get("abstract") or "",
                               cand.passage.get(pid)) for pid in head]
    scores = reranker.score(query, texts)
    cand.rerank_score = {pid: float(s) for pid, s in zip(head, scores)}
    order = sorted(range(len(head)), key=lambda i: (-float(scores[i]), i))
    reranked = [(head[i], float(scores[i])) for i in order]
    # below the reranked head: keep fused order, with scores under the head's lowest
    floor = min((s for _, s in reranked), default=0.0)
    tail = [(pid, floor - 1.0 - i) for i, (pid, _) in enumerate(fused[top:])]
    return reranked + tail


def to_hits(store: Store, top: Sequence[tuple[str, float]], cand: Candidates) -> list[Hit]:
    rows = store.get_rows([pid for pid, _ in top], HIT_COLUMNS)
    dense_rank = {pid: i + 1 for i, pid in enumerate(cand.dense)}
    bm25_rank = {pid: i + 1 for i, pid in enumerate(cand.bm25)}
    title_rank = {pid: i + 1 for i, pid in enumerate(cand.title)}
    rerank_scores = cand.rerank_score
    hits: list[Hit] = []
    for rank, (pid, score) in enumerate(top, start=1):
        r: dict[str, Any] = rows.get(pid, {"id": pid})
        scores: dict[str, float] = {}
        if pid in cand.dense_score:
            scores["dense"] = round(cand.dense_score[pid], 6)
            scores["dense_rank"] = dense_rank.get(pid, 0)
        if pid in cand.bm25_score:
            scores["bm25"] = round(cand.bm25_score[pid], 6)
            scores["bm25_rank"] = bm25_rank[pid]
        if pid in cand.title_score:
            scores["title_bm25"] = round(cand.title_score[pid], 6)
            scores["title_rank"] = title_rank[pid]
        if pid in cand.sentence_score:
            scores["paper"] = round(cand.paper_score[pid], 6)
            scores["sentence"] = round(cand.sentence_score[pid], 6)
        if pid in rerank_scores:
            scores["rerank"] = round(rerank_scores[pid], 6)
        hits.append(
            Hit(
                rank=rank,
                id=pid,
                score=round(float(score), 6),
                title=r.get("title") or "",
                year=r.get("year"),
                source=r.get("source") or "",
                authors=list(r.get("authors") or []),
                doi=r.get("doi"),
                url=r.get("url"),
                abstract=r.get("abstract") or "",
                passage=cand.passage.get(pid),
                sentence=cand.sentence.get(pid),
                scores=scores,
            )
        )
    return hits
