"""The sentence stage's scoring: a candidate's best sentence and the mix with its paper score.

Pure functions over vectors stored at ingest (zsearch.papers.sentences chooses the
sentences; docs/search.md, "Sentence stage", gives the formula and its measurements).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cosines(vectors: Sequence[Sequence[float]] | np.ndarray, qvec: Sequence[float] | np.ndarray) -> np.ndarray:
    """Cosine of each row with the query, in float64, one row at a time.

    A row's score depends on that row alone, not on the matrix it sits in (a BLAS
    matrix-vector product may sum a row differently by its shape): the warm index and a
    LanceDB read hand over the same float32 rows in different company, and print the same
    scores. float32 x float32 products are exact in float64.

    >>> [round(float(x), 6) for x in cosines([[0.0, 2.0], [0.6, 0.8]], [1.0, 0.0])]
    [0.0, 0.6]
    """
    m = np.asarray(vectors, dtype=np.float32).astype(np.float64)
    q = np.asarray(qvec, dtype=np.float32).astype(np.float64)
    if m.ndim != 2 or not len(m):
        return np.zeros(0, np.float64)
    # einsum's row loops, not BLAS: each row summed the same way wherever it sits
    norms = np.sqrt(np.einsum("ij,ij->i", m, m)) * np.sqrt(np.einsum("j,j->", q, q))
    return np.einsum("ij,j->i", m, q) / np.where(norms > 0, norms, 1.0)


def best_sentence(qvec: np.ndarray, vectors: Sequence[Sequence[float]] | np.ndarray | None) -> tuple[float, int] | None:
    """Cosine of the query's best sentence and that sentence's index; None without vectors.

    Scored by :func:`cosines`.

    >>> best_sentence(np.array([1.0, 0.0]), [[0.0, 1.0], [0.6, 0.8]])
    (0.6, 1)
    """
    if vectors is None or len(vectors) == 0:
        return None
    return best_sentences(qvec, vectors if isinstance(vectors, np.ndarray) else list(vectors), [0, len(vectors)])[0]


def best_sentences(qvec: Sequence[float] | np.ndarray, vectors: Sequence[Sequence[float]] | np.ndarray,
                   offsets: Sequence[int] | np.ndarray) -> list[tuple[float, int] | None]:
    """:func:`best_sentence` of many papers at once: paper ``i`` owns ``vectors[offsets[i]:offsets[i+1]]``.

    >>> best_sentences([1.0, 0.0], [[0.0, 1.0], [0.6, 0.8], [1.0, 0.0]], [0, 2, 2, 3])
    [(0.6, 1), None, (1.0, 0)]
    """
    sims = cosines(vectors, qvec) if len(vectors) else np.zeros(0)
    out: list[tuple[float, int] | None] = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        if b <= a:
            out.append(None)
            continue
        j = int(np.argmax(sims[a:b]))
        out.append((round(float(sims[a + j]), 6), j))
    return out


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
