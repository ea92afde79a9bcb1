"""Themes in a set of papers: KMeans over their vectors, k by silhouette, c-TF-IDF labels.

Everything here is a pure function of (ids, vectors, texts, seed): the rows are put in id
order first, KMeans runs with a fixed ``random_state``, themes are numbered by size (ties by
their first id) and papers within a theme by distance to the centre (ties by id), so the
same inputs and seed give the same result byte for byte, whatever order they came in.

Labels are class-based TF-IDF: all texts of one cluster form one document (as in
BERTopic's c-TF-IDF, Grootendorst 2022); a term's weight is its relative frequency in that
document times its inverse document frequency over the papers, ``log(N / df_t)``, and only
terms at least :data:`MIN_LIFT` times as frequent in the cluster as in the other clusters
may name it. BERTopic's own idf, ``log(1 + A / f_t)``, let words common to every cluster
("patients") head every label on the medical abstracts set; see docs/reviews.md.

scikit-learn is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from zsearch.errors import UsageError

# Any fixed value works; 42 is scikit-learn's documentation convention, kept so examples match.
DEFAULT_SEED = 42
# k-means++ restarts: scikit-learn's n_init before 1.4 ("auto" now means 1 for k-means++);
# 10 restarts make the result far less dependent on the seed (benchmarks/cluster.py).
DEFAULT_N_INIT = 10
# k tried by `--k auto`: 2 up to 10 themes (fewer than 2 is no clustering; more than ~10
# themes is more than a reviewer reads at once), capped at n - 1 for silhouette to exist.
AUTO_K_MIN, AUTO_K_MAX = 2, 10
# Terms in a theme label: three read as a phrase-length label (BERTopic shows 3-4).
LABEL_TERMS = 3
# Terms kept per theme in the output (label + context for a reader).
TOP_TERMS = 10
# How vectors are prepared before KMeans; "centered" won on the medical abstracts set
# (benchmarks/cluster.py, docs/reviews.md): subtract the set's mean vector, re-normalise.
DEFAULT_METHOD = "centered"
METHODS = ("plain", "centered", "pca-whiten", "hybrid")
# A label term must be this many times as frequent (per term) in its cluster as in the
# others: 1.5 removed "patients"/"study" from every medical-abstracts label while keeping the
# class words (benchmarks/cluster.py run with the label variants, docs/reviews.md).
MIN_LIFT = 1.5
# Letters first, then letters/digits/hyphens: keeps "covid-19", "il-6", drops "0.02", "+/-".
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w\-]*[^\W_]\b"


@dataclass
class Theme:
    """One cluster: its label, its most distinctive terms, its papers nearest-first."""

    theme: int  # 1-based; themes are numbered by size, largest first
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
    assignment: dict[str, int]  # paper id -> theme number
    silhouette: dict[int, float] = field(default_factory=dict)  # k -> mean silhouette (auto k)
    k_chosen_by: str = "given"  # "given", "silhouette" or "too few papers"
    seed: int = DEFAULT_SEED
    method: str = DEFAULT_METHOD
    n_init: int = DEFAULT_N_INIT

    @property
    def k_reason(self) -> str:
        """One line saying which k and why."""
        if self.k_chosen_by == "silhouette" and self.silhouette:
            tried = ", ".join(f"k={k}: {s:.3f}" for k, s in sorted(self.silhouette.items()))
            return f"k={self.k}: highest mean silhouette (cosine) of {tried}"
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
            "themes": [t.to_dict() for t in self.themes],
        }


def _l2(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def prepare_vectors(
    vectors: np.ndarray,
    method: str = DEFAULT_METHOD,
    *,
    texts: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """The matrix KMeans sees, from paper vectors (rows) by ``method``.

    * ``plain``: the vectors as given (the bundled model's are already unit length).
    * ``centered``: subtract the mean vector of this set, then unit length. Sentence
      embeddings share a large common direction; removing it spreads the set out
      (Mu & Viswanath 2018, "all-but-the-top").
    * ``pca-whiten``: PCA to at most 50 whitened components, then unit length.
    * ``hybrid``: centered vectors next to a 100-dimension LSA of the texts' TF-IDF, each
      half unit length (needs ``texts``).
    """
    x = np.asarray(vectors, dtype=np.float64)
    if method == "plain":
        return x
    if method == "centered":
        return _l2(x - x.mean(axis=0, keepdims=True))
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
        return np.hstack([_l2(x - x.mean(axis=0, keepdims=True)), lsa]) / math.sqrt(2)
    raise UsageError(f"unknown clustering method {method!r}; choose one of: {', '.join(METHODS)}")


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


def auto_k_range(n: int, lo: int = AUTO_K_MIN, hi: int = AUTO_K_MAX) -> list[int]:
    """The k tried for ``n`` papers: lo..hi, capped at n - 1 (silhouette needs k < n)."""
    return list(range(lo, min(hi, n - 1) + 1))


def theme_terms(
    texts: Sequence[str], assignment: Sequence[int], k: int, *, top: int = TOP_TERMS
) -> list[list[tuple[str, float]]]:
    """The ``top`` most distinctive terms of each cluster 0..k-1 by class-based TF-IDF.

    Unigrams and bigrams, English stop words removed. The weight of term t in cluster c
    is ``count(t, c) / count(all terms, c) * log(N / df(t))`` (N papers, df(t) papers that
    contain t). A term qualifies when it is at least :data:`MIN_LIFT` times as frequent in
    c as in the other clusters (with k >= 2), and when it occurs in at least two of c's
    papers if c has three or more, so that one paper's pet word does not name a theme.
    Ties are broken alphabetically. Weights are rounded to 6 places.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if not texts:
        return [[] for _ in range(k)]
    cv = CountVectorizer(
        stop_words="english", ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, lowercase=True
    )
    try:
        counts = cv.fit_transform(list(texts)).tocsr()
    except ValueError:  # no term left after stop words (empty texts)
        return [[] for _ in range(k)]
    vocab = cv.get_feature_names_out()
    assign = np.asarray(assignment)
    n_docs = counts.shape[0]
    per_class = np.zeros((k, counts.shape[1]), dtype=np.float64)
    doc_freq = np.zeros((k, counts.shape[1]), dtype=np.int64)
    for c in range(k):
        rows = counts[assign == c]
        per_class[c] = np.asarray(rows.sum(axis=0)).ravel()
        doc_freq[c] = np.asarray((rows > 0).sum(axis=0)).ravel()
    words = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.where(words == 0, 1.0, words)
    idf = np.log(n_docs / np.maximum(doc_freq.sum(axis=0), 1))
    score = tf * idf
    total_terms = per_class.sum(axis=0)
    out: list[list[tuple[str, float]]] = []
    for c in range(k):
        size = int((assign == c).sum())
        min_docs = 2 if size >= 3 else 1
        ok = (doc_freq[c] >= min_docs) & (per_class[c] > 0)
        rest_words = float(words.sum() - words[c, 0])
        if k >= 2 and rest_words > 0:
            rest_tf = (total_terms - per_class[c]) / rest_words
            ok &= tf[c] >= MIN_LIFT * rest_tf
        idx = np.flatnonzero(ok).tolist()
        ranked = sorted(idx, key=lambda j: (-score[c, j], vocab[j]))
        out.append([(str(vocab[j]), round(float(score[c, j]), 6)) for j in ranked[:top]])
    return out


def label_from_terms(terms: Sequence[str], n: int = LABEL_TERMS) -> str:
    """Join the first ``n`` terms that share no word with a term already taken.

    >>> label_from_terms(["heart failure", "heart", "failure", "stroke", "atrial"])
    'heart failure, stroke, atrial'
    """
    chosen: list[str] = []
    seen: set[str] = set()
    for t in terms:
        w = set(t.split())
        if w & seen:
            continue
        chosen.append(t)
        seen |= w
        if len(chosen) == n:
            break
    return ", ".join(chosen)


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
) -> Clustering:
    """Cluster papers into labelled themes.

    ``ids``, ``vectors`` (one row each) and ``texts`` (title + abstract) line up. ``k`` is a
    number, or ``"auto"`` to pick the k with the highest silhouette in ``k_range``
    (default 2..10, capped at n - 1).

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
            kk, chosen_by = best_k(silhouette), "silhouette"
    else:
        try:
            kk = int(k)
        except (TypeError, ValueError):
            raise UsageError(f"k must be a number or 'auto', not {k!r}") from None
        if kk < 1:
            raise UsageError("k must be at least 1")
        if kk > n:
            raise UsageError(f"k={kk} is more than the {n} papers to cluster")
        chosen_by = "given"

    if kk == 1:
        raw = np.zeros(n, dtype=int)
        centres = x.mean(axis=0, keepdims=True)
    else:
        raw, centres = kmeans(x, kk, seed=seed, n_init=n_init)

    # Number themes by size (largest first), ties by their first id: independent of
    # KMeans's arbitrary cluster numbering.
    members = {c: [i for i in range(n) if raw[i] == c] for c in range(kk)}
    members = {c: m for c, m in members.items() if m}
    renumber = sorted(members, key=lambda c: (-len(members[c]), sid[members[c][0]]))
    new_of = {c: j for j, c in enumerate(renumber)}
    assign = np.array([new_of[c] for c in raw])
    kk = len(renumber)

    terms = theme_terms(stexts, assign, kk)
    themes: list[Theme] = []
    for j, c in enumerate(renumber):
        centre = centres[c]
        cn = np.linalg.norm(centre) or 1.0
        rows = members[c]
        dist = {
            i: round(1.0 - float(x[i] @ centre) / ((np.linalg.norm(x[i]) or 1.0) * cn), 6)
            for i in rows
        }
        ranked = sorted(rows, key=lambda i: (dist[i], sid[i]))
        t = [w for w, _ in terms[j]]
        themes.append(
            Theme(
                theme=j + 1,
                label=label_from_terms(t) or f"theme {j + 1}",
                terms=t,
                size=len(rows),
                ids=[sid[i] for i in ranked],
                distances=[dist[i] for i in ranked],
            )
        )
    return Clustering(
        k=kk,
        themes=themes,
        assignment={sid[i]: int(assign[i]) + 1 for i in range(n)},
        silhouette=silhouette,
        k_chosen_by=chosen_by,
        seed=seed,
        method=method,
        n_init=n_init,
    )


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
