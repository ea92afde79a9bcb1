"""Clustering quality on the medical abstracts set: baseline vs zsearch's preparations.

Embeds the 2,888 abstracts of ../shared/data/clustering/medical_abstracts_tc with the
bundled model (all-MiniLM-L6-v2) once, then clusters them with k=5 (the number of classes)
and with k chosen by silhouette, under each preparation of the vectors in
``zsearch.review.cluster.METHODS``, over several seeds, and prints V-measure, ARI and NMI
against the labels. The baseline is KMeans on the plain bundled-model embeddings
(``method="plain"``), measured in the same run.

    python benchmarks/cluster.py [--data DIR] [--seeds 5] [--cache /tmp/medical_vecs.npy]

Also prints each theme's label next to its majority class, so a person can judge whether
the labels read as the classes.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zsearch.review.cluster import METHODS, cluster_papers

DATA = Path(__file__).resolve().parents[2] / "shared/data/clustering/medical_abstracts_tc"


def load(data: Path) -> tuple[list[str], list[str]]:
    names = {}
    with (data / "medical_tc_labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            names[row["condition_label"]] = row["condition_name"]
    texts, labels = [], []
    with (data / "medical_tc_test.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["medical_abstract"])
            labels.append(names.get(row["condition_label"], row["condition_label"]))
    return texts, labels


def scores(labels: list[str], pred: list[int]) -> dict[str, float]:
    from zsearch.evaluate.clusters import cluster_scores  # the exact scoring `zsearch eval clusters` uses

    return cluster_scores(labels, pred)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="save/load the embeddings here")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--auto", action="store_true", help="also run k=auto (slower; first seed only)")
    args = ap.parse_args()

    texts, labels = load(args.data)
    ids = [f"{i:05d}" for i in range(len(texts))]
    if args.cache and args.cache.exists():
        vecs = np.load(args.cache)
        print(f"embeddings: loaded {vecs.shape} from {args.cache}", file=sys.stderr)
    else:
        from zsearch.embedding.embedder import load_embedder

        t0 = time.perf_counter()
        vecs = load_embedder("minilm").encode_documents(texts)
        print(f"embeddings: {vecs.shape} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        if args.cache:
            np.save(args.cache, vecs)

    seeds = list(range(args.seeds))
    results: dict[str, dict[str, list[float]]] = {}
    ks = ["5"] + (["auto"] if args.auto else [])
    for kk in ks:
        for method in args.methods.split(","):
            key = f"{method} k={kk}"
            acc: dict[str, list[float]] = {"v_measure": [], "ari": [], "nmi": [], "k": []}
            t0 = time.perf_counter()
            for seed in seeds if kk != "auto" else seeds[:1]:
                c = cluster_papers(ids, vecs, texts, k=int(kk) if kk != "auto" else "auto",
                                   seed=seed, method=method)
                pred = [c.assignment[i] for i in ids]
                for name, v in scores(labels, pred).items():
                    acc[name].append(v)
                acc["k"].append(c.k)
                if seed == 0:
                    print(f"\n{key} seed 0 themes ({c.k_reason}):")
                    for t in c.themes:
                        cls = Counter(labels[int(i)] for i in t.ids).most_common(1)[0]
                        print(f"  {t.theme} ({t.size:4d}) {t.label:45s} majority: {cls[0]} "
                              f"({cls[1] / t.size:.0%})")
            results[key] = acc
            dt = (time.perf_counter() - t0) / len(acc["k"])
            print(f"{key}: {dt:.1f}s per run", file=sys.stderr)

    base = results["plain k=5"]
    print(f"\nseeds {seeds} (k=auto: seed 0 only); mean ± sd over seeds; "
          "ratio = mean V-measure / baseline (plain k=5)")
    print(f"{'method':22s} {'V-measure':>15s} {'ARI':>15s} {'NMI':>15s} {'k':>6s} {'ratio':>6s}")
    for key, acc in results.items():
        cells = [
            f"{statistics.mean(acc[m]):.4f}±{statistics.pstdev(acc[m]):.4f}"
            for m in ("v_measure", "ari", "nmi")
        ]
        ratio = statistics.mean(acc["v_measure"]) / statistics.mean(base["v_measure"])
        kk = "/".join(str(x) for x in sorted(set(acc["k"])))
        print(f"{key:22s} {cells[0]:>15s} {cells[1]:>15s} {cells[2]:>15s} {kk:>6s} {ratio:6.3f}")


if __name__ == "__main__":
    main()
