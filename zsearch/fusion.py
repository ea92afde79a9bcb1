"""Rank fusion, as pure functions over ranked lists of ids.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list gives a
document ``weight / (k + rank)``, ranks starting at 1; scores add up across lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# k=60: the constant of Cormack et al. 2009, also pyserini's and ranx's default
RRF_K = 60


def rrf(
    rankings: Mapping[str, Sequence[str]],
    *,
    k: int = RRF_K,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Fuse named rankings (best first) into ``{doc_id: score}``.

    >>> rrf({"dense": ["a", "b"], "bm25": ["b", "c"]})["b"] == 1 / 62 + 1 / 61
    True
    """
    scores: dict[str, float] = {}
    for name, ranking in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        if w == 0:
            continue
        seen: set[str] = set()
        rank = 0
        for doc in ranking:
            if doc in seen:  # a list may repeat an id (e.g. several passages): first counts
                continue
            seen.add(doc)
            rank += 1
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return scores


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Sort ``{id: score}`` best first; ties broken by id so output is deterministic."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
