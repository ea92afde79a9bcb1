"""The matrix KMeans sees: paper vectors centred, smoothed over their neighbours, reduced or joined with TF-IDF.

Split from :mod:`zsearch.review.cluster` (which re-exports these names) so that each stays
one screen of purpose: this module prepares vectors, that one clusters and labels them.
scikit-learn is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from zsearch.errors import UsageError
from zsearch.review.labels import TOKEN_PATTERN, clean_text

# Any fixed value works; 42 is scikit-learn's documentation convention, kept so examples match.
DEFAULT_SEED = 42
# How vectors are prepared before KMeans; "smoothed" won on both shared labelled sets
# (benchmarks/cluster.py, docs/reviews.md).
DEFAULT_METHOD = "smoothed"
METHODS = ("smoothed", "smoothed-dense", "centered", "plain", "pca-whiten", "hybrid")
# smoothed-dense (:func:`smooth_vectors`, the default before TF-IDF picked the neighbours):
# 10 neighbours, 2 steps was best of 5-40 neighbours and 1-3 steps over both shared sets
# (docs/reviews.md); a set of fewer than 50 papers uses n // 5 neighbours so that a theme of
# 5 papers is not averaged away. The "other" group (cluster.misfits) uses the same 10.
SMOOTH_NEIGHBOURS = 10
SMOOTH_STEPS = 2
# smoothed (:func:`text_smooth_vectors`): neighbours by 0.35 x embedding cosine + 0.65 x
# TF-IDF cosine (words and two-word phrases), 15 of them, each step keeping half of the
# paper's own vector. Best of dense weights 0.2-0.8 (0.3-0.35 the top, 0.4-0.5 within 0.005),
# 7-20 neighbours and self weights 0.3-1 on both shared sets, seeds 0-2 (docs/reviews.md).
LINK_DENSE_WEIGHT = 0.35
LINK_NEIGHBOURS = 15
LINK_STEPS = 2
LINK_SELF_WEIGHT = 0.5


def _l2(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def _centred(x: np.ndarray) -> np.ndarray:
    return _l2(x - x.mean(axis=0, keepdims=True))


def sentence_mean_vectors(sentence_vectors: Sequence[np.ndarray], fallback: np.ndarray) -> np.ndarray:
    """One vector per paper: the mean of its sentence vectors, unit length.

    ``sentence_vectors[i]`` holds paper i's sentence vectors (rows); a paper without any
    takes ``fallback[i]`` (its stored paper vector). Measured as a clustering input in
    docs/reviews.md; kept for callers that want vectors covering a whole abstract.
    """
    fallback = np.asarray(fallback, dtype=np.float64)
    out = fallback.copy()
    for i, s in enumerate(sentence_vectors):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim == 2 and len(s):
            out[i] = s.mean(axis=0)
    return _l2(out)


def _top_neighbours(
    similarities: Callable[[int, int], np.ndarray], n: int, m: int, block: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` most similar other rows of each row, best first, and their similarities.

    ``similarities(start, stop)`` gives rows start..stop-1 of an n x n similarity matrix;
    among the chosen neighbours ties go to the lower row.
    """
    out = np.zeros((n, m), dtype=np.int64)
    vals = np.zeros((n, m), dtype=np.float64)
    if m == 0:
        return out, vals
    rows = np.arange(n)
    for start in range(0, n, block):
        sim = np.array(similarities(start, min(n, start + block)), dtype=np.float64)
        b = sim.shape[0]
        sim[np.arange(b), rows[start : start + block]] = -np.inf  # not itself
        if m < n - 1:  # the m best, unordered, then ordered by (-similarity, row)
            top = np.argpartition(-sim, m - 1, axis=1)[:, :m]
        else:
            top = np.broadcast_to(rows, (b, n)).copy()
        top_sim = np.take_along_axis(sim, top, axis=1)
        order = np.lexsort((top, -top_sim), axis=1)[:, :m]
        out[start : start + b] = np.take_along_axis(top, order, axis=1)
        vals[start : start + b] = np.take_along_axis(top_sim, order, axis=1)
    return out, vals


def nearest_neighbours(x: np.ndarray, n_neighbours: int, *, block: int = 512) -> np.ndarray:
    """Row indices of each row's ``n_neighbours`` most cosine-similar other rows, best first.

    Exact (a matrix product per block of rows, so memory stays at ``block`` rows of
    similarities); among the chosen neighbours ties go to the lower row, so the result is a
    function of ``x`` alone.
    """
    x = _l2(np.asarray(x, dtype=np.float64))
    n = x.shape[0]
    m = max(0, min(n_neighbours, n - 1))
    return _top_neighbours(lambda a, b: x[a:b] @ x.T, n, m, block)[0]


def text_tfidf(texts: Sequence[str]):  # -> scipy.sparse.csr_matrix | None
    """Unit-length TF-IDF rows of the texts' words and two-word phrases; None without a shared term.

    The prose only (:func:`zsearch.review.labels.clean_text`: no formulas, LaTeX or markup),
    English stop words out, sublinear term frequency, terms in at least two texts.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        return TfidfVectorizer(
            stop_words="english", token_pattern=TOKEN_PATTERN, sublinear_tf=True, min_df=2,
            ngram_range=(1, 2),
        ).fit_transform([clean_text(t) for t in texts]).tocsr()
    except ValueError:  # empty vocabulary: no term is in two texts
        return None


def text_smooth_vectors(
    x: np.ndarray,
    texts: Sequence[str] | None,
    n_neighbours: int = LINK_NEIGHBOURS,
    steps: int = LINK_STEPS,
    *,
    dense_weight: float = LINK_DENSE_WEIGHT,
    self_weight: float = LINK_SELF_WEIGHT,
    block: int = 512,
) -> np.ndarray:
    """Centred vectors smoothed over neighbours found by what the papers say *and* the words they use.

    A paper's neighbours are the ``n_neighbours`` papers with the highest
    ``dense_weight * cos(vectors) + (1 - dense_weight) * cos(TF-IDF)``; each of ``steps``
    steps sets ``x_i <- unit(self_weight * x_i + sum_j w_ij x_j)``, the ``w_ij`` those
    similarities (floored at 1e-6) divided by their sum over i's neighbours. Only the
    embedding vectors are averaged: TF-IDF picks whom a paper listens to, not what KMeans
    sees (TF-IDF next to the vectors hurt the medical set, docs/reviews.md). Shared rare
    terms ("symplectic", "p-adic") find a paper's true neighbours where the 256-token
    embedding blurs them. Without texts that share a term this is :func:`smooth_vectors`.
    """
    tf = text_tfidf(texts) if texts is not None and len(texts) else None
    if tf is None:
        return smooth_vectors(x)
    y = _centred(np.asarray(x, dtype=np.float64))
    n = y.shape[0]
    nn = effective_neighbours(n, n_neighbours)
    if nn < 1:
        return y
    a = float(dense_weight)
    idx, sim = _top_neighbours(
        lambda s, e: a * (y[s:e] @ y.T) + (1.0 - a) * (tf[s:e] @ tf.T).toarray(), n, nn, block
    )
    w = np.maximum(sim, 1e-6)
    w /= w.sum(axis=1, keepdims=True)
    for _ in range(steps):
        y = _l2(self_weight * y + np.einsum("ij,ijd->id", w, y[idx]))
    return y


def smooth_vectors(
    x: np.ndarray, n_neighbours: int = SMOOTH_NEIGHBOURS, steps: int = SMOOTH_STEPS
) -> np.ndarray:
    """Centred vectors, each pulled ``steps`` times towards the mean of its nearest neighbours.

    One step is ``x_i <- unit(x_i + mean of x_j over i's neighbours)``, with the neighbours
    found once on the centred vectors. A paper's own words decide half of where it sits and
    the papers most like it the other half, which takes the noise of single abstracts out
    of the space KMeans partitions: the propagation step of simplified graph convolution
    (Wu et al. 2019, "Simplifying Graph Convolutional Networks") without the learning.
    """
    y = _centred(np.asarray(x, dtype=np.float64))
    n = y.shape[0]
    nn = effective_neighbours(n, n_neighbours)
    if nn < 1:
        return y
    idx = nearest_neighbours(y, nn)
    for _ in range(steps):
        y = _l2(y + y[idx].mean(axis=1))
    return y


def effective_neighbours(n: int, n_neighbours: int = SMOOTH_NEIGHBOURS) -> int:
    """Neighbours used for ``n`` papers: ``n_neighbours``, at most n // 5 (small sets)."""
    return max(0, min(n_neighbours, n // 5, n - 1))


def prepare_vectors(
    vectors: np.ndarray,
    method: str = DEFAULT_METHOD,
    *,
    texts: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """The matrix KMeans sees, from paper vectors (rows) by ``method``.

    * ``smoothed`` (default): centred, then each paper pulled towards its 15 nearest
      neighbours by embedding and TF-IDF similarity together, twice
      (:func:`text_smooth_vectors`; needs ``texts``, else it is ``smoothed-dense``).
    * ``smoothed-dense``: centred, then each paper pulled towards its 10 nearest neighbours
      by embedding alone, twice (:func:`smooth_vectors`; the default until TF-IDF joined).
    * ``centered``: subtract the mean vector of this set, then unit length. Sentence
      embeddings share a large common direction; removing it spreads the set out
      (Mu & Viswanath 2018, "all-but-the-top").
    * ``plain``: the vectors as given (the bundled model's are already unit length).
    * ``pca-whiten``: PCA to at most 50 whitened components, then unit length.
    * ``hybrid``: centered vectors next to a 100-dimension LSA of the texts' TF-IDF, each
      half unit length (needs ``texts``).
    """
    x = np.asarray(vectors, dtype=np.float64)
    if method == "plain":
        return x
    if method == "centered":
        return _centred(x)
    if method == "smoothed":
        return text_smooth_vectors(x, texts)
    if method == "smoothed-dense":
        return smooth_vectors(x)
    if method == "pca-whiten":
        from sklearn.decomposition import PCA

        n = min(50, x.shape[0] - 1, x.shape[1])  # 50: the usual pre-clustering size
        return _l2(PCA(n_components=max(1, n), whiten=True, random_state=seed).fit_transform(x))
    if method == "hybrid":
        if texts is None:
            raise UsageError("the hybrid method needs the texts")
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        tf = TfidfVectorizer(
            stop_words="english", token_pattern=TOKEN_PATTERN, sublinear_tf=True, min_df=2
        ).fit_transform(list(texts))
        n = max(1, min(100, tf.shape[1] - 1, x.shape[0] - 1))  # 100: LSA's usual size
        lsa = _l2(TruncatedSVD(n_components=n, random_state=seed).fit_transform(tf))
        return np.hstack([_centred(x), lsa]) / math.sqrt(2)
    raise UsageError(f"unknown clustering method {method!r}; choose one of: {', '.join(METHODS)}")
