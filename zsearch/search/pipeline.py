"""The search pipeline: candidates -> sentence stage -> fusion -> (rerank) -> Hits.

1. **Candidates** (:mod:`zsearch.search.candidates`): each retriever's top ``depth`` — dense
   (paper vector or best passage), BM25 over the full text, optionally BM25 over titles —
   with the filters applied as LanceDB prefilters.
2. **Sentence stage** (same module; scoring in :mod:`zsearch.search.sentences`): every
   candidate of either list gets its dense score computed — the vector scores of BM25-only
   candidates are filled in — and mixed with its best title/abstract sentence,
   ``(1 - w) * paper + w * sentence``. A paper without sentence vectors keeps its paper score.
3. **Fusion** (:func:`fuse`, formulas in :mod:`zsearch.search.fusion`; by default a convex
   combination of min-max normalised scores) with the weights of
   :data:`zsearch.search.config.DEFAULT_CONFIG`, chosen on SciFact's train split with
   ``zsearch eval beir`` (docs/benchmarks.md lists every candidate that was measured,
   including those that did not help).
4. **Rerank** (:func:`rerank_candidates`): a cross-encoder (:mod:`zsearch.embedding.rerank`),
   when asked for, re-orders the fused top ``rerank_top``.

See docs/search.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zsearch.papers.model import Hit
from zsearch.search.candidates import Candidates, gather
from zsearch.search.config import (
    DEFAULT_CONFIG,
    NO_SENTENCE_CONFIG,  # noqa: F401  (re-exported: zsearch.evaluate.beir still imports it from here)
    SearchConfig,
)
from zsearch.search.fusion import convex, ranked, rrf
from zsearch.store.schema import HIT_COLUMNS
from zsearch.store.tables import Store


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
    return to_hits(store, fused, cand, k)


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


def to_hits(store: Store, ranking: Sequence[tuple[str, float]], cand: Candidates, k: int | None = None) -> list[Hit]:
    """The first ``k`` ranked ``(id, score)`` pairs as :class:`Hit`, each with its per-list scores and ranks.

    A candidate whose paper row is not there is skipped, never shown title-less: a passage
    found while a writer is between its passages commit and its papers commit has no
    paper yet (zsearch.store.tables.commit). The rows come from the warm index the candidates
    were read from, if any (one snapshot per query), else from LanceDB.
    """
    k = len(ranking) if k is None else k
    warm = cand.warm
    read = warm.hit_rows if warm is not None else (lambda ids: store.get_rows(ids, HIT_COLUMNS))
    rows = read([pid for pid, _ in ranking[:k]])
    if len(rows) < min(k, len(ranking)):  # rare: read the rest of the ranking too
        rows = read([pid for pid, _ in ranking])
    top = [(pid, s) for pid, s in ranking if pid in rows][:k]
    dense_rank = {pid: i + 1 for i, pid in enumerate(cand.dense)}
    bm25_rank = {pid: i + 1 for i, pid in enumerate(cand.bm25)}
    title_rank = {pid: i + 1 for i, pid in enumerate(cand.title)}
    rerank_scores = cand.rerank_score
    hits: list[Hit] = []
    for rank, (pid, score) in enumerate(top, start=1):
        r: dict[str, Any] = rows[pid]
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
                sentence=cand.sentence_of(pid),
                scores=scores,
            )
        )
    return hits
