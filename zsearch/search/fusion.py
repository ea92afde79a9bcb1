"""Rank and score fusion, as pure functions over ranked lists of ids and score maps.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): each list gives a
document ``weight / (k + rank)``, ranks starting at 1; scores add up across lists.

Convex combination (Bruch, Gai & Ingber, "An analysis of fusion functions for hybrid
retrieval", TOIS 2023): each list's scores are min-max normalised over its own candidates,
then summed with weights; a document missing from a list gets that list's minimum (0).
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


def minmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Scale scores to [0, 1] over the given candidates (all equal: all 1).

    >>> minmax({"a": 3.0, "b": 1.0, "c": 2.0})
    {'a': 1.0, 'b': 0.0, 'c': 0.5}
    """
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi <= lo:
        return {d: 1.0 for d in scores}
    return {d: (s - lo) / (hi - lo) for d, s in scores.items()}


def convex(
    score_lists: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Weighted sum of min-max normalised scores; a missing document counts 0 in that list.

    >>> convex({"dense": {"a": 0.9, "b": 0.5}, "bm25": {"b": 12.0, "c": 4.0}}, {"dense": 0.5, "bm25": 0.5})
    {'a': 0.5, 'b': 0.5, 'c': 0.0}
    """
    out: dict[str, float] = {}
    for name, scores in score_lists.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for d, s in minmax(scores).items():
            out[d] = out.get(d, 0.0) + w * s
    return out


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Sort ``{id: score}`` best first; ties broken by id so output is deterministic."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
