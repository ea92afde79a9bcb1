"""The sentence stage's scoring: a candidate's best sentence and the mix with its paper score.

Pure functions over vectors stored at ingest (zsearch.ingest.sentences chooses the
sentences; docs/search.md, "Sentence stage", gives the formula and its measurements).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def best_sentence(qvec: np.ndarray, vectors: Sequence[Sequence[float]] | np.ndarray | None) -> tuple[float, int] | None:
    """Cosine of the query's best sentence and that sentence's index; None without vectors.

    Vectors are L2-normalised at ingest, so the dot product is the cosine.

    >>> best_sentence(np.array([1.0, 0.0]), [[0.0, 1.0], [0.6, 0.8]])
    (0.6, 1)
    """
    if vectors is None or len(vectors) == 0:
        return None
    m = vectors if isinstance(vectors, np.ndarray) else np.asarray(list(vectors), dtype=np.float32)
    sims = m @ np.asarray(qvec, dtype=m.dtype)
    j = int(np.argmax(sims))
    return round(float(sims[j]), 6), j


def mix(paper_score: float, sentence_score: float | None, weight: float) -> float:
    """The dense score of a paper with the sentence stage: a convex mix (no sentence: unchanged).

    >>> mix(0.5, 0.7, 0.5)
    0.6
    >>> mix(0.5, None, 0.5)
    0.5
    """
    if sentence_score is None or weight <= 0:
        return paper_score
    return round((1.0 - weight) * paper_score + weight * sentence_score, 12)
