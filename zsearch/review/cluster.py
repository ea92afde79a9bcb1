"""Themes in a set of papers: kNN-smoothed vectors, KMeans, k by silhouette, an "other" group.

Everything here is a pure function of (ids, vectors, texts, seed): the rows are put in id
order first, neighbours are ranked with ties broken by row, KMeans runs with a fixed
``random_state``, themes are numbered by size (ties by their first id) and papers within a
theme by distance to the centre (ties by id), so the same inputs and seed give the same
result byte for byte, whatever order they came in.

The default preparation (``smoothed``) centres the vectors on the set's mean and then pulls
each paper towards its nearest neighbours, found by embedding and TF-IDF similarity together
(:func:`text_smooth_vectors`): on the two shared labelled sets this raised V-measure over
plain KMeans by 1.14x (medical) and 1.07x (arXiv math), where the same smoothing over
embedding neighbours alone gave 1.14x and 1.03x, and centring alone, PCA, UMAP, sentence
means, spectral and agglomerative clustering and consensus over seeds did less, and TF-IDF
next to the vectors helped arXiv but hurt the medical set (benchmarks/cluster.py,
docs/reviews.md).

Labels come from :mod:`zsearch.review.labels`. scikit-learn is imported inside the
functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from zsearch.errors import UsageError
from zsearch.review.labels import (
    LABEL_TERMS,
    TOKEN_PATTERN,
    TOP_TERMS,
    label_from_terms,
    theme_terms,
)
from zsearch.review.vectors import (
    DEFAULT_METHOD,
    DEFAULT_SEED,
    METHODS,
    SMOOTH_NEIGHBOURS,
    SMOOTH_STEPS,
    _centred,
    effective_neighbours,
    nearest_neighbours,
    prepare_vectors,
    sentence_mean_vectors,
    smooth_vectors,
    text_smooth_vectors,
)

__all__ = [
    "Clustering", "Theme", "cluster_papers", "cluster_assignments", "prepare_vectors",
    "smooth_vectors", "text_smooth_vectors", "nearest_neighbours", "sentence_mean_vectors", "silhouette_by_k",
    "best_k", "auto_k_range", "kmeans", "theme_terms", "label_from_terms",
    "LABEL_TERMS", "TOP_TERMS", "TOKEN_PATTERN", "METHODS", "DEFAULT_METHOD", "DEFAULT_SEED",
    "SMOOTH_NEIGHBOURS", "SMOOTH_STEPS", "effective_neighbours", "misfits", "clear_structure",
]

# k-means++ restarts: scikit-learn's n_init before 1.4 ("auto" now means 1 for k-means++);
# 10 restarts make the result far less dependent on the seed (benchmarks/cluster.py).
DEFAULT_N_INIT = 10
# k tried by `--k auto`: 2 to 10 (at most n - 1). Going further (20% steps up to sqrt(n / 2),
# the rule of thumb of Mardia, Kent & Bibby 1979) made it worse: on the medical set the
# silhouette of the smoothed vectors climbs again from k = 20 (0.17 at k = 5, 0.21 at k = 35),
# and no criterion tried picked ~30 on the arXiv set (docs/reviews.md, "Choosing k").
AUTO_K_MIN, AUTO_K_MAX = 2, 10
# A paper goes to the "other" group (theme 0, with ``other=True``) when fewer than this share
# of its nearest neighbours share its theme: it sits between themes (docs/reviews.md).
OTHER_AGREEMENT = 0.2
# "No clear structure" when the best silhouette rises less than this above the median over
# the k tried: blobs score 0.3+ above their median, the shared sets 0.01-0.03 (docs/reviews.md).
FLAT_SILHOUETTE = 0.05


@dataclass
class Theme:
    """One cluster: its label, its most distinctive terms, its papers nearest-first."""

    theme: int  # 1-based; themes are numbered by size, largest first; 0 is the "other" group
    label: str
    terms: list[str]
    size: int
    ids: list[str]  # ordered by distance to the centre, nearest first
    distances: list[float]  # cosine distance of each paper to the centre, rounded to 6 places

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Clustering:
    """The result of :func:`cluster_papers`."""

    k: int
    themes: list[Theme]
    assignment: dict[str, int]  # paper id -> theme number (0: the "other" group)
    silhouette: dict[int, float] = field(default_factory=dict)  # k -> mean silhouette (auto k)
    k_chosen_by: str = "given"  # "given", "silhouette", "no clear structure" or "too few papers"
    seed: int = DEFAULT_SEED
    method: str = DEFAULT_METHOD
    n_init: int = DEFAULT_N_INIT
    sample: int | None = None  # themes found on this many of the papers (zsearch.review.cluster_stream)
    total: int | None = None  # ... of this many

    @property
    def k_reason(self) -> str:
        """One line saying which k and why (and, for a large set, on how many papers the themes were found)."""
        line = self._k_reason()
        if self.sample is not None:
            line += f"; themes found on a sample of {self.sample:,} of the {self.total:,} papers, each paper then joins the theme with the nearest centre"
        return line

    def _k_reason(self) -> str:
        if self.k_chosen_by in ("silhouette", "no clear structure") and self.silhouette:
            tried = ", ".join(f"k={k}: {s:.3f}" for k, s in sorted(self.silhouette.items()))
            line = f"k={self.k}: highest mean silhouette (cosine) of {tried}"
            if self.k_chosen_by == "no clear structure":
                lo, hi = min(self.silhouette.values()), max(self.silhouette.values())
                line += (f"; no clear structure: every k scores {lo:.3f}-{hi:.3f}, so these "
                         "themes are one way to divide the papers, not a division they carry")
            return line
        if self.k_chosen_by == "too few papers":
            return f"k={self.k}: too few papers to choose k by silhouette"
        return f"k={self.k}: given"

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "k_reason": self.k_reason,
            "silhouette": {str(k): v for k, v in sorted(self.silhouette.items())},
            "seed": self.seed,
            "method": self.method,
            "n_init": self.n_init,
            **({"sample": self.sample, "total": self.total} if self.sample is not None else {}),
            "themes": [t.to_dict() for t in self.themes],
        }


def kmeans(
    x: np.ndarray, k: int, *, seed: int = DEFAULT_SEED, n_init: int = DEFAULT_N_INIT
) -> tuple[np.ndarray, np.ndarray]:
    """KMeans (k-means++, ``n_init`` restarts, fixed seed): (cluster of each row, centres)."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
    return km.labels_.astype(int), km.cluster_centers_


def silhouette_by_k(
    x: np.ndarray,
    ks: Sequence[int],
    *,
    seed: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
) -> dict[int, float]:
    """Mean silhouette (cosine distance) of the KMeans clustering for each k, rounded to 6."""
    from sklearn.metrics import silhouette_score

    out: dict[int, float] = {}
    for k in ks:
        labels, _ = kmeans(x, k, seed=seed, n_init=n_init)
        if len(set(labels.tolist())) < 2:
            out[k] = -1.0
            continue
        out[k] = round(float(silhouette_score(x, labels, metric="cosine")), 6)
    return out


def best_k(scores: dict[int, float]) -> int:
    """The k with the highest silhouette; a tie goes to the smaller k (fewer themes)."""
    return min(scores, key=lambda k: (-scores[k], k))


def clear_structure(scores: dict[int, float]) -> bool:
    """Whether the silhouettes single out a k rather than lie flat (see :data:`FLAT_SILHOUETTE`)."""
    if len(scores) < 2:
        return True
    vals = sorted(scores.values())
    return vals[-1] - float(np.median(vals)) >= FLAT_SILHOUETTE


def auto_k_range(n: int, lo: int = AUTO_K_MIN, hi: int = AUTO_K_MAX) -> list[int]:
    """The k tried for ``n`` papers: ``lo`` to ``hi``, never n or more (silhouette needs k < n).

    >>> auto_k_range(30)
    [2, 3, 4, 5, 6, 7, 8, 9, 10]
    >>> auto_k_range(5)
    [2, 3, 4]
    """
    return [k for k in range(lo, hi + 1) if k < n]


def _parse_k(k: int | str, n: int) -> int:
    try:
        kk = int(k)
    except (TypeError, ValueError):
        raise UsageError(f"k must be a number or 'auto', not {k!r}") from None
    if kk < 1:
        raise UsageError("k must be at least 1")
    if kk > n:
        raise UsageError(f"k={kk} is more than the {n} papers to cluster")
    return kk


def cluster_papers(
    ids: Sequence[str],
    vectors: np.ndarray,
    texts: Sequence[str],
    *,
    k: int | str = "auto",
    seed: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    method: str = DEFAULT_METHOD,
    k_range: Sequence[int] | None = None,
    other: bool = False,
) -> Clustering:
    """Cluster papers into labelled themes.

    ``ids``, ``vectors`` (one row each) and ``texts`` (title + abstract) line up. ``k`` is a
    number, or ``"auto"`` to pick the k with the highest silhouette in ``k_range``
    (default :func:`auto_k_range`); when no k stands out the reason says so. With
    ``other=True`` a paper whose nearest neighbours lie mostly in other themes goes to an
    "other" group (theme 0, listed last) instead of its theme.

    >>> import numpy as np
    >>> v = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    >>> c = cluster_papers(["a", "b", "c", "d"], v, ["x", "x", "y", "y"], k=2, method="plain")
    >>> [t.ids for t in c.themes]
    [['a', 'b'], ['c', 'd']]
    """
    n = len(ids)
    vectors = np.asarray(vectors)
    if vectors.shape[0] != n or len(texts) != n:
        raise ValueError("ids, vectors and texts must have the same length")
    if len(set(ids)) != n:
        raise UsageError("the same paper id appears twice in the set to cluster")
    if n == 0:
        raise UsageError("nothing to cluster: no papers")
    order = sorted(range(n), key=lambda i: ids[i])  # id order: the input order cannot matter
    sid = [ids[i] for i in order]
    stexts = [texts[i] for i in order]
    x = prepare_vectors(vectors[order], method, texts=stexts, seed=seed)

    silhouette: dict[int, float] = {}
    if k == "auto":
        ks = [kk for kk in (k_range or auto_k_range(n)) if 2 <= kk < n]
        if not ks:
            kk, chosen_by = 1, "too few papers"
        else:
            silhouette = silhouette_by_k(x, ks, seed=seed, n_init=n_init)
            kk = best_k(silhouette)
            chosen_by = "silhouette" if clear_structure(silhouette) else "no clear structure"
    else:
        kk, chosen_by = _parse_k(k, n), "given"

    if kk == 1:
        raw = np.zeros(n, dtype=int)
    else:
        raw, _ = kmeans(x, kk, seed=seed, n_init=n_init)

    # Number themes by size (largest first), ties by their first id: independent of
    # KMeans's arbitrary cluster numbering.
    members = {c: [i for i in range(n) if raw[i] == c] for c in range(kk)}
    members = {c: m for c, m in members.items() if m}
    renumber = sorted(members, key=lambda c: (-len(members[c]), sid[members[c][0]]))
    new_of = {c: j for j, c in enumerate(renumber)}
    assign = np.array([new_of[c] for c in raw])
    kk = len(renumber)

    outside = np.zeros(n, dtype=bool)
    if other and kk >= 2:
        outside = misfits(vectors[order], assign)
    label_assign = np.where(outside, -1, assign)
    terms = theme_terms(stexts, label_assign, kk)
    themes: list[Theme] = []
    kept = {j: [i for i in range(n) if assign[i] == j and not outside[i]] for j in range(kk)}
    # numbered by size once the "other" group has left (ties: first id); an emptied theme drops out
    for j in sorted((j for j in kept if kept[j]), key=lambda j: (-len(kept[j]), sid[kept[j][0]])):
        t = [w for w, _ in terms[j]]
        themes.append(_theme(len(themes) + 1, x, kept[j], sid, label_from_terms(terms[j]) or f"theme {j + 1}", t))
    number = {}  # a theme emptied by the "other" group gives its number up
    for t in themes:
        number.update({pid: t.theme for pid in t.ids})
    rest = [i for i in range(n) if outside[i]]
    if rest:
        themes.append(_theme(0, x, rest, sid, "other (fits no theme)", []))
    return Clustering(
        k=kk,
        themes=themes,
        assignment={pid: number.get(pid, 0) for pid in sid},
        silhouette=silhouette,
        k_chosen_by=chosen_by,
        seed=seed,
        method=method,
        n_init=n_init,
    )


def _theme(number: int, x: np.ndarray, rows: list[int], sid: list[str], label: str, terms: list[str]) -> Theme:
    """A theme of ``rows`` of ``x``: papers by cosine distance to their mean, nearest first."""
    centre = x[rows].mean(axis=0)
    cn = float(np.linalg.norm(centre)) or 1.0
    dist = {
        i: round(1.0 - float(x[i] @ centre) / ((float(np.linalg.norm(x[i])) or 1.0) * cn), 6)
        for i in rows
    }
    ranked = sorted(rows, key=lambda i: (dist[i], sid[i]))
    return Theme(
        theme=number, label=label, terms=terms, size=len(rows),
        ids=[sid[i] for i in ranked], distances=[dist[i] for i in ranked],
    )


def misfits(vectors: np.ndarray, assign: np.ndarray, n_neighbours: int = SMOOTH_NEIGHBOURS) -> np.ndarray:
    """Which papers fit no theme: under :data:`OTHER_AGREEMENT` of their neighbours share theirs.

    Neighbours are taken on the centred vectors, before any smoothing, so that a paper is
    judged by what it says, not by where smoothing pulled it.
    """
    nn = effective_neighbours(len(assign), n_neighbours)
    if nn < 1:
        return np.zeros(len(assign), dtype=bool)
    idx = nearest_neighbours(_centred(np.asarray(vectors, dtype=np.float64)), nn)
    agree = (assign[idx] == assign[:, None]).mean(axis=1)
    return agree < OTHER_AGREEMENT


def cluster_assignments(
    vectors: np.ndarray,
    k: int | str,
    *,
    texts: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    method: str = DEFAULT_METHOD,
) -> tuple[np.ndarray, int]:
    """Cluster number of each row (in input order) and k, for evaluation against labels."""
    n = len(vectors)
    ids = [f"{i:09d}" for i in range(n)]  # zero-padded: id order is input order
    c = cluster_papers(
        ids, vectors, list(texts) if texts is not None else [""] * n,
        k=k, seed=seed, n_init=n_init, method=method,
    )
    return np.array([c.assignment[i] for i in ids]), c.k
