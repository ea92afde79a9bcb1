"""Retrieval: dense (title+abstract and best passage) and full-text candidates, fused.

A paper's dense score is the better of its title+abstract vector and its best passage
(MaxP, Dai & Callan 2019) — so the body of a long paper counts, not only its first 256
tokens. The dense ranking and LanceDB's BM25 ranking are fused with reciprocal rank
fusion (:func:`zsearch.fusion.rrf`). See docs/long-papers.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zsearch.fusion import ranked, rrf
from zsearch.papers import Hit
from zsearch.store import HIT_COLUMNS, Store, sql_in

# Candidates taken from each retriever before fusion: 100 covers Recall@100 and gives a
# reranker its top 50 with room to spare.
CANDIDATE_DEPTH = 100
# Passages read per query: several passages of one paper often rank together.
PASSAGE_DEPTH_FACTOR = 3


@dataclass
class Candidates:
    """Ranked ids per retriever, and what the fusion and rendering need."""

    dense: list[str] = field(default_factory=list)
    dense_score: dict[str, float] = field(default_factory=dict)
    passage: dict[str, str] = field(default_factory=dict)  # id -> best passage when it beat the head
    bm25: list[str] = field(default_factory=list)
    bm25_score: dict[str, float] = field(default_factory=dict)


def dense_candidates(store: Store, qvec: np.ndarray, depth: int, where: str | None = None) -> Candidates:
    """Papers by max(cosine to title+abstract vector, cosine to best passage)."""
    c = Candidates()
    q = store.papers.search(qvec, vector_column_name="vector").distance_type("cosine")
    if where:
        q = q.where(where, prefilter=True)
    for r in q.select(["id", "_distance"]).limit(depth).to_list():
        c.dense_score[r["id"]] = 1.0 - float(r["_distance"])
    if store.chunks.count_rows():
        cq = store.chunks.search(qvec, vector_column_name="vector").distance_type("cosine")
        if where:
            # filters name paper columns: restrict passages to the papers that pass them
            allowed = [r["id"] for r in store.rows(where, ["id"])]
            cq = cq.where(sql_in("paper_id", allowed), prefilter=True)
        for r in cq.select(["paper_id", "text", "_distance"]).limit(depth * PASSAGE_DEPTH_FACTOR).to_list():
            s = 1.0 - float(r["_distance"])
            pid = r["paper_id"]
            if s > c.dense_score.get(pid, -2.0):
                c.dense_score[pid] = s
                c.passage[pid] = r["text"]
    c.dense = [pid for pid, _ in ranked(c.dense_score)][:depth]
    return c


def fts_candidates(store: Store, query: str, depth: int, where: str | None = None) -> tuple[list[str], dict[str, float]]:
    """BM25 ranking from LanceDB's native full-text index (empty before the first index)."""
    if not store.has_fts() or not query.strip():
        return [], {}
    q = store.papers.search(query, query_type="fts", fts_columns="fts_text")
    if where:
        q = q.where(where, prefilter=True)
    rows = q.select(["id", "_score"]).limit(depth).to_list()
    return [r["id"] for r in rows], {r["id"]: float(r["_score"]) for r in rows}


def hybrid_search(
    store: Store,
    qvec: np.ndarray,
    query: str,
    *,
    k: int = 10,
    where: str | None = None,
    depth: int = CANDIDATE_DEPTH,
    weights: dict[str, float] | None = None,
) -> list[Hit]:
    """Dense + BM25 candidates fused with RRF; returns the top ``k`` as :class:`Hit`."""
    depth = max(depth, k)
    cand = dense_candidates(store, qvec, depth, where)
    cand.bm25, cand.bm25_score = fts_candidates(store, query, depth, where)
    fused = rrf({"dense": cand.dense, "bm25": cand.bm25}, weights=weights)
    top = ranked(fused)[:k]
    return to_hits(store, top, cand)


def to_hits(store: Store, top: Sequence[tuple[str, float]], cand: Candidates) -> list[Hit]:
    rows = store.get_rows([pid for pid, _ in top], HIT_COLUMNS)
    dense_rank = {pid: i + 1 for i, pid in enumerate(cand.dense)}
    bm25_rank = {pid: i + 1 for i, pid in enumerate(cand.bm25)}
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
                scores=scores,
            )
        )
    return hits
