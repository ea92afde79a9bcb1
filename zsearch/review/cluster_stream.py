"""Themes for more papers than one clustering should hold: fit on a sample, assign every paper in batches.

``zsearch cluster --all`` on a large database cannot hold every paper's text and vector, nor
compare every paper with every other (the kNN smoothing is quadratic). Instead:

1. one pass over the stored vectors keeps the ids, the little each output line shows
   (title, year, doi, url) and a sample of :data:`FIT_SAMPLE` papers, those with the
   smallest hash of (seed, id), so the sample does not depend on the table's order;
2. :func:`zsearch.review.cluster.cluster_papers` finds and labels the themes on the sample;
3. a second pass assigns every paper, batch by batch, to the theme whose centre (the mean
   of its sample papers' centred vectors) is nearest by cosine.

Memory is the sample plus a few bytes per paper, whatever the number of papers; the same
papers and seed give the same themes, byte for byte.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from zsearch.review.cluster import (
    DEFAULT_METHOD,
    DEFAULT_N_INIT,
    DEFAULT_SEED,
    Clustering,
    Theme,
    cluster_papers,
)

# Papers the themes are found on when there are more: 5,000 gives each theme of a 30-class
# set about 170 papers (the shared sets have 2,888 and 3,397 papers in all), and fitting
# it (kNN smoothing, KMeans, labels) takes under a minute on 2 busy cores (docs/reviews.md).
FIT_SAMPLE = 5_000
# Decimal places of the distances, as zsearch.review.cluster._theme rounds them.
DIST_DIGITS = 6


def sample_key(pid: str, seed: int) -> int:
    """A paper's place in the sample order: a 64-bit hash of (seed, id), the same in every run."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{pid}".encode(), digest_size=8).digest(), "big")


class Sample:
    """The ``size`` papers with the smallest :func:`sample_key`, offered one batch at a time."""

    def __init__(self, size: int | None = None, seed: int = DEFAULT_SEED) -> None:
        self.size, self.seed = FIT_SAMPLE if size is None else size, seed
        self._heap: list[tuple[int, str, np.ndarray, str]] = []  # (-key, id, vector, text): a max-heap

    def offer(self, ids: Sequence[str], vectors: np.ndarray, texts: Callable[[int], str]) -> None:
        """Consider a batch; ``texts(i)`` gives row i's text (called only for papers kept)."""
        for i, pid in enumerate(ids):
            item = (-sample_key(pid, self.seed), pid)
            if len(self._heap) < self.size:
                heapq.heappush(self._heap, (*item, np.array(vectors[i]), texts(i)))
            elif item > self._heap[0][:2]:
                heapq.heapreplace(self._heap, (*item, np.array(vectors[i]), texts(i)))

    def __len__(self) -> int:
        return len(self._heap)

    def rows(self) -> tuple[list[str], np.ndarray, list[str]]:
        """The kept papers in id order: ids, vectors (rows), texts."""
        kept = sorted(self._heap, key=lambda t: t[1])
        if not kept:
            return [], np.zeros((0, 0), np.float32), []
        return [t[1] for t in kept], np.vstack([t[2] for t in kept]), [t[3] for t in kept]


class Listing:
    """What a theme's listing shows of a paper (title, year, doi, url): a few hundred bytes, not a Paper's kilobytes.

    ``zsearch cluster --all`` keeps one per paper; the renderers read these four fields.
    """

    __slots__ = ("id", "source", "title", "year", "doi", "url")

    def __init__(self, id: str, source: str, title: str, year: int | None, doi: str | None, url: str | None):
        self.id, self.source, self.title, self.year, self.doi, self.url = id, source, title, year, doi, url


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def cluster_streamed(
    ids: Sequence[str],
    sample: Sample,
    batches: Callable[[], Iterable[tuple[Sequence[str], np.ndarray]]],
    *,
    k: int | str = "auto",
    seed: int = DEFAULT_SEED,
    n_init: int = DEFAULT_N_INIT,
    method: str = DEFAULT_METHOD,
) -> Clustering:
    """Themes of all ``ids``, found on ``sample`` and given to every paper by ``batches()``.

    ``batches()`` yields ``(ids, vectors)`` for every paper once, in any order (a second
    scan of the table). A paper is assigned to the nearest theme centre by cosine on
    vectors centred on the sample mean; its distance is 1 - that cosine. Themes are
    numbered by size, largest first (ties by their first id), papers by distance, then id.
    """
    s_ids, s_vec, s_texts = sample.rows()
    fit = cluster_papers(s_ids, s_vec, s_texts, k=k, seed=seed, n_init=n_init, method=method)
    s_vec = np.asarray(s_vec, dtype=np.float64)
    mean = s_vec.mean(axis=0)
    centred = _unit(s_vec - mean)
    row = {pid: i for i, pid in enumerate(s_ids)}
    fitted = [t for t in fit.themes if t.theme != 0]
    centres = _unit(np.vstack([centred[[row[p] for p in t.ids]].mean(axis=0) for t in fitted]))

    position: dict[str, int] | None = None  # built only if a scan comes back in another order
    which = np.full(len(ids), -1, dtype=np.int32)
    dist = np.zeros(len(ids), dtype=np.float64)
    offset = 0
    for b_ids, b_vec in batches():
        x = _unit(np.asarray(b_vec, dtype=np.float64) - mean)
        sim = x @ centres.T
        best = sim.argmax(axis=1)  # ties: the lower theme
        if position is None and list(b_ids) == list(ids[offset : offset + len(b_ids)]):
            at = np.arange(offset, offset + len(b_ids))
        else:
            position = position or {pid: i for i, pid in enumerate(ids)}
            at = np.fromiter((position[p] for p in b_ids), dtype=np.int64, count=len(b_ids))
        offset += len(b_ids)
        which[at] = best
        dist[at] = np.round(1.0 - sim[np.arange(len(best)), best], DIST_DIGITS)
    if (which < 0).any():
        raise RuntimeError("the papers changed while they were being clustered; run it again")

    rank = np.empty(len(ids), dtype=np.int64)
    rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))  # id order
    groups = []
    for j, t in enumerate(fitted):
        members = np.flatnonzero(which == j)
        if len(members):
            members = members[np.lexsort((rank[members], dist[members]))]
            groups.append((t, members))
    groups.sort(key=lambda g: (-len(g[1]), ids[g[1][np.argmin(rank[g[1]])]]))
    themes = [
        Theme(theme=n, label=t.label, terms=t.terms, size=len(m), ids=[ids[i] for i in m],
              distances=[float(d) for d in dist[m]])
        for n, (t, m) in enumerate(groups, 1)
    ]
    number = np.zeros(len(ids), dtype=np.int32)
    for t, (_, m) in zip(themes, groups):
        number[m] = t.theme
    return Clustering(
        k=len(themes),
        themes=themes,
        assignment={ids[i]: int(number[i]) for i in np.argsort(rank)},
        silhouette=fit.silhouette,
        k_chosen_by=fit.k_chosen_by,
        seed=seed,
        method=method,
        n_init=n_init,
        sample=len(s_ids),
        total=len(ids),
    )
