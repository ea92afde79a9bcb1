"""Clustering quality on the two shared labelled sets: every candidate method against plain KMeans.

Sets (../shared/data/clustering):

* ``medical``: 2,888 medical abstracts, 5 classes (``medical_abstracts_tc``);
* ``arxiv``: 3,397 arXiv math papers of May 2025, 30 subclasses (``arxiv_math_2025_05``).

Each set's title + abstract is embedded once with the bundled model (all-MiniLM-L6-v2; cached
under ``--cache``), then every method clusters it with k = the number of classes over
``--seeds`` seeds, and the baseline, plain KMeans (k-means++, n_init 10) on the same
vectors, runs in the same process. Printed per set and method: V-measure and ARI (mean ±
sd over seeds), the k, seconds per run and the ratio of mean V-measure to the baseline's.
``--auto`` also runs zsearch's default with ``k="auto"`` (seed 0) and prints the k it picks
and why; ``--labels`` prints the default's theme labels next to each theme's majority class.

    python benchmarks/cluster.py --cache /tmp/zs-cluster-cache                # every method, 3 seeds
    python benchmarks/cluster.py --sets arxiv --methods plain,smoothed --seeds 3 --auto --labels

Methods (``--methods``, comma-separated; docs/reviews.md has the figures):

* ``plain``: KMeans on the vectors as stored (the baseline);
* ``centered``, ``smoothed`` (zsearch's default: neighbours by embedding + TF-IDF
  similarity), ``smoothed-dense`` (neighbours by embedding alone, the default before),
  ``pca-whiten``, ``hybrid``: zsearch's own preparations
  (``zsearch.review.cluster.prepare_vectors``);
* ``smoothed-hybrid``: dense (weight 0.8) next to a 100-dimension LSA of TF-IDF (0.2),
  smoothed over 20 neighbours;
* ``spectral``: spectral clustering on the symmetric 10-nearest-neighbour graph;
* ``ward``: agglomerative (Ward) clustering restricted to the 10-nearest-neighbour graph;
* ``consensus``: co-association of 20 one-restart KMeans runs, cut by average linkage;
* ``umap``: KMeans on a 10-dimension UMAP (30 neighbours, cosine), when umap-learn is installed.

This takes long: about half a minute per method, seed and set on two cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zsearch.review.cluster import DEFAULT_METHOD, cluster_papers, prepare_vectors, smooth_vectors  # noqa: E402

# ../shared beside the checkout (a worktree under wt/ looks one level further up)
DATA = next((p / "shared/data/clustering" for p in Path(__file__).resolve().parents[2:4]
             if (p / "shared/data/clustering").is_dir()), Path("../shared/data/clustering"))
METHODS = ("plain", "centered", "smoothed", "smoothed-dense", "pca-whiten", "hybrid", "smoothed-hybrid", "spectral", "ward",
           "consensus", "umap")


def load_set(name: str, data: Path) -> tuple[list[str], list[str]]:
    """(title + abstract texts, class names) of a shared set."""
    if name == "medical":
        d = data / "medical_abstracts_tc"
        with (d / "medical_tc_labels.csv").open(newline="") as fh:
            names = {r["condition_label"]: r["condition_name"] for r in csv.DictReader(fh)}
        with (d / "medical_tc_test.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        return [r["medical_abstract"] for r in rows], [names[r["condition_label"]] for r in rows]
    with (data / "arxiv_math_2025_05" / "arxiv_math_2025_05.jsonl").open() as fh:
        recs = [json.loads(line) for line in fh]
    return ["\n\n".join(p for p in (r["title"], r["abstract"]) if p) for r in recs], [r["label"] for r in recs]


def vectors(name: str, texts: list[str], cache: Path | None) -> np.ndarray:
    path = cache / f"{name}_head.npy" if cache else None
    if path and path.exists():
        v = np.load(path)
        if len(v) == len(texts):
            return v
    from zsearch.embedding.embedder import load_embedder

    t0 = time.perf_counter()
    v = load_embedder("minilm").encode_documents(texts)
    print(f"{name}: embedded {v.shape} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, v)
    return v


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _km(x: np.ndarray, k: int, seed: int, n_init: int = 10) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x).labels_


def _knn_graph(x: np.ndarray, nn: int):
    from sklearn.neighbors import kneighbors_graph

    a = kneighbors_graph(_l2(x), nn, mode="distance", metric="cosine", include_self=False)
    a.data = np.clip(1.0 - a.data, 0.0, None)
    return a.maximum(a.T)


def _lsa(texts: list[str], seed: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tf = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(texts)
    return _l2(TruncatedSVD(n_components=100, random_state=seed).fit_transform(tf))


def run(method: str, v: np.ndarray, texts: list[str], k: int, seed: int) -> np.ndarray:
    """Cluster of each row under ``method``."""
    if method == "plain":
        return _km(v, k, seed)
    if method in ("centered", "smoothed", "smoothed-dense", "pca-whiten", "hybrid"):
        ids = [f"{i:09d}" for i in range(len(v))]
        c = cluster_papers(ids, v, texts, k=k, seed=seed, method=method)
        return np.array([c.assignment[i] for i in ids])
    centred = prepare_vectors(v, "centered")
    if method == "smoothed-hybrid":
        x = np.hstack([np.sqrt(0.8) * centred, np.sqrt(0.2) * _lsa(texts, seed)])
        return _km(smooth_vectors(x, 20, 2), k, seed)
    if method == "spectral":
        from sklearn.manifold import spectral_embedding

        e = spectral_embedding(_knn_graph(centred, 10), n_components=k, random_state=seed, drop_first=False)
        return _km(_l2(e), k, seed)
    if method == "ward":
        from sklearn.cluster import AgglomerativeClustering
        from sklearn.neighbors import kneighbors_graph

        conn = kneighbors_graph(centred, 10, include_self=False)
        return AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=conn).fit(centred).labels_
    if method == "consensus":
        from sklearn.cluster import AgglomerativeClustering

        co = np.zeros((len(v), len(v)), np.float32)
        for r in range(20):
            lab = _km(centred, k, seed * 1000 + r, n_init=1)
            co += lab[:, None] == lab[None, :]
        return AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average").fit(
            1 - co / 20).labels_
    if method == "umap":
        import umap  # umap-learn: only this benchmark needs it

        z = umap.UMAP(n_components=10, n_neighbors=30, min_dist=0.0, metric="cosine",
                      random_state=seed).fit_transform(v)
        return _km(z, k, seed)
    raise SystemExit(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def main() -> None:
    from zsearch.evaluate.clusters import cluster_scores  # the scoring `zsearch eval clusters` uses

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--sets", default="medical,arxiv")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=None, help="directory to keep the embeddings in")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--auto", action="store_true", help="also run the default with k=auto (seed 0)")
    ap.add_argument("--labels", action="store_true", help="print the default's labels beside the classes")
    args = ap.parse_args()
    methods = args.methods.split(",")
    if "plain" not in methods:
        methods.insert(0, "plain")
    seeds = list(range(args.seeds))
    for name in args.sets.split(","):
        texts, labels = load_set(name, args.data)
        k = len(set(labels))
        v = vectors(name, texts, args.cache)
        rows = {}
        for method in methods:
            if method == "umap":
                try:
                    import umap  # noqa: F401
                except ImportError:
                    print(f"{name} umap: skipped (pip install umap-learn)", file=sys.stderr)
                    continue
            vs, aris, secs = [], [], []
            for seed in seeds:
                t0 = time.perf_counter()
                pred = run(method, v, texts, k, seed)
                secs.append(time.perf_counter() - t0)
                s = cluster_scores(labels, pred.tolist())
                vs.append(s["v_measure"])
                aris.append(s["ari"])
            rows[method] = (vs, aris, secs)
            print(f"{name} {method}: V {statistics.mean(vs):.4f} ({', '.join(f'{x:.4f}' for x in vs)})",
                  file=sys.stderr, flush=True)
        base = statistics.mean(rows["plain"][0])
        print(f"\n{name}: {len(texts)} papers, {k} classes, seeds {seeds}, mean ± sd over seeds")
        print("| method | V-measure | ARI | k | s per run | V / plain |\n|---|---|---|---|---|---|")
        for method, (vs, aris, secs) in rows.items():
            print(f"| {method}{' (default)' if method == DEFAULT_METHOD else ''} "
                  f"| {statistics.mean(vs):.4f} ± {statistics.pstdev(vs):.4f} "
                  f"| {statistics.mean(aris):.4f} ± {statistics.pstdev(aris):.4f} | {k} "
                  f"| {statistics.mean(secs):.1f} | {statistics.mean(vs) / base:.3f} |")
        if args.auto or args.labels:
            ids = [f"{i:09d}" for i in range(len(texts))]
            runs = [("given", k)] + ([("auto", "auto")] if args.auto else [])
            for what, kk in runs:
                t0 = time.perf_counter()
                c = cluster_papers(ids, v, texts, k=kk, seed=0, other=True)
                dt = time.perf_counter() - t0
                print(f"\n{name} k={what}: {c.k} themes in {dt:.0f}s; {c.k_reason}")
                if args.labels and what == "given":
                    print("| theme | papers | label | majority class (share) |\n|---|---|---|---|")
                    for t in c.themes:
                        cls, n = Counter(labels[int(i)] for i in t.ids).most_common(1)[0]
                        print(f"| {t.theme} | {t.size} | {t.label} | {cls} ({n / t.size:.0%}) |")


if __name__ == "__main__":
    main()
