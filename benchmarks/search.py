"""Search latency (p50/p95) and ANN recall at 5k and 100k papers.

    python benchmarks/search.py --sizes 5000,100000 --queries 40 --json /tmp/search-bench.json

Rows are SciFact's real titles and abstracts (repeated with a suffix past 5,183) written straight
into a zsearch LanceDB store (no re-embedding): BM25 sees real text. Vectors are synthetic
384-dim unit vectors drawn around 256 cluster centres (papers of one topic lie close together,
as real embeddings do; uniform random vectors would be a needlessly hard case for IVF); query
vectors are perturbed corpus vectors. The store records the bundled MiniLM as its model, so the
cold CLI call (`zsearch search`) loads and runs the real model for the query.

Each paper also gets sentence vectors (one per title/abstract sentence, as an ingest makes them;
synthetic: its paper vector plus noise), so the default's sentence stage reads what it reads in
a real database.

Measured per query, in-process and warm: dense (papers + passages), full text (BM25), hybrid
without the sentence stage (NO_SENTENCE_CONFIG), hybrid as the default config (sentence stage,
then fusion), hybrid + rerank of the top 50 with a tiny random-weight BERT
cross-encoder (its cost is the pipeline's, not a real reranker's: a real one is ~100-1000x the
FLOPs). At sizes >= the ANN threshold the IVF_RQ index is built and recall@10 of the ANN search
against exact search (``bypass_vector_index``) is reported for a grid of nprobes/refine_factor.

Everything prints as it goes; figures go to docs/benchmarks.md ("Search latency").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
SCIFACT = Path(os.environ.get("SCIFACT_DIR", "/work/shared/data/beir/scifact"))
DIM = 384
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q))


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    owner = rng.integers(0, len(centres), n)
    v = centres[owner] + 0.04 * rng.standard_normal((n, DIM)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def build(db: Path, n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    from zsearch.papers.model import Paper
    from zsearch.papers.sentences import paper_sentences
    from zsearch.store.schema import paper_row
    from zsearch.store.tables import Store

    docs = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open()]
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").open()]
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((256, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    st = Store(db)
    st.ensure(MODEL_ID, DIM)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    sample = None
    for start in range(0, n, 10_000):
        m = min(10_000, n - start)
        vecs = clustered(m, rng, centres)
        if sample is None:
            sample = vecs[:200].copy()
        rows = []
        for j in range(m):
            i = start + j
            d = docs[i % len(docs)]
            rep = i // len(docs)
            p = Paper(id=f"beir:bench:{d['_id']}-{rep}", source=("arxiv", "pubmed", "pdf")[i % 3],
                      title=d.get("title") or "", abstract=d.get("text") or "", year=1990 + i % 35)
            sents = paper_sentences(p.title, p.abstract)
            sv = vecs[j] + 0.05 * rng.standard_normal((len(sents), DIM)).astype(np.float32)
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
            rows.append(paper_row(p, vector=vecs[j], token_count=0, n_chunks=0, added=now,
                                  sentences=sents, sentence_vectors=sv))
        st.papers.add(rows)
    print(f"  wrote {n} rows in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    st.optimize()
    print(f"  indexes (FTS, scalar{', IVF_RQ' if st.ann_params() else ''}) in {time.perf_counter() - t0:.1f}s",
          flush=True)
    assert sample is not None
    qv = sample + 0.02 * rng.standard_normal(sample.shape).astype(np.float32)
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    return qv, queries


def warm(db: Path, qv: np.ndarray, texts: list[str], nq: int, reranker_dir: Path | None) -> dict[str, dict[str, float]]:
    from zsearch.search.candidates import dense_candidates, fts_candidates
    from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG
    from zsearch.search.pipeline import hybrid_search
    from zsearch.store.tables import Store

    st = Store(db)
    out: dict[str, dict[str, float]] = {}
    reranker = None
    if reranker_dir is not None:
        from zsearch.embedding.rerank import load_reranker

        reranker = load_reranker(str(reranker_dir), device="cpu")
    ann = st.ann_params()
    runs = {
        "dense": lambda q, t: dense_candidates(st, q, 100, **ann),
        "full text": lambda q, t: fts_candidates(st, t, 100),
        "hybrid, no sentence stage": lambda q, t: hybrid_search(st, q, t, k=10, config=NO_SENTENCE_CONFIG),
        "hybrid (default: sentence stage)": lambda q, t: hybrid_search(st, q, t, k=10, config=DEFAULT_CONFIG),
    }
    # the warm index (zsearch.store.memory): what the service and a searching-again Library use
    hot = Store(db)
    t0 = time.perf_counter()
    hot.keep_warm(block=True)
    idx = hot.warm()
    out["warm index load"] = {"seconds": round(time.perf_counter() - t0, 2),
                              "mb": round(idx.nbytes / 1e6, 1) if idx is not None else None}
    print(f"  warm index: loaded in {out['warm index load']['seconds']} s, {out['warm index load']['mb']} MB", flush=True)
    if idx is not None:
        runs["hybrid, no sentence stage, warm index"] = lambda q, t: hybrid_search(hot, q, t, k=10, config=NO_SENTENCE_CONFIG)
        runs["hybrid (default), warm index"] = lambda q, t: hybrid_search(hot, q, t, k=10, config=DEFAULT_CONFIG)
    if reranker is not None:
        runs["hybrid + rerank 50 (tiny CE)"] = lambda q, t: hybrid_search(
            st, q, t, k=10, config=DEFAULT_CONFIG.replace(rerank="tiny"), reranker=reranker)
    for name, fn in runs.items():
        fn(qv[0], texts[0])  # warm caches
        times = []
        for i in range(nq):
            t0 = time.perf_counter()
            fn(qv[i % len(qv)], texts[i % len(texts)])
            times.append(time.perf_counter() - t0)
        out[name] = {"p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1)}
        print(f"  warm {name:38s} p50 {out[name]['p50_ms']:8.1f} ms  p95 {out[name]['p95_ms']:8.1f} ms", flush=True)
    base, fast = out["hybrid (default: sentence stage)"]["p50_ms"], out.get("hybrid (default), warm index", {}).get("p50_ms")
    if fast:
        out["warm index speed-up (default, p50)"] = {"ratio": round(base / fast, 2)}
        print(f"  default hybrid p50: LanceDB reads {base} ms, warm index {fast} ms: {base / fast:.2f}x", flush=True)
    return out


def ann_recall(db: Path, qv: np.ndarray, grid: list[tuple[int, int]]) -> list[dict[str, float]]:
    from zsearch.store.tables import Store

    st = Store(db)
    res = []
    exact = []
    t_exact = []
    for q in qv:
        t0 = time.perf_counter()
        r = st.papers.search(q, vector_column_name="vector").distance_type("cosine").bypass_vector_index() \
            .select(["id"]).limit(10).to_list()
        t_exact.append(time.perf_counter() - t0)
        exact.append({x["id"] for x in r})
    print(f"  exact scan p50 {pct(t_exact, 50):.1f} ms", flush=True)
    for nprobes, refine in grid:
        rec, ts = [], []
        for q, ex in zip(qv, exact):
            t0 = time.perf_counter()
            r = st.papers.search(q, vector_column_name="vector").distance_type("cosine").nprobes(nprobes) \
                .refine_factor(refine).select(["id"]).limit(10).to_list()
            ts.append(time.perf_counter() - t0)
            rec.append(len({x["id"] for x in r} & ex) / 10)
        row = {"nprobes": nprobes, "refine_factor": refine, "recall@10": round(float(np.mean(rec)), 4),
               "p50_ms": round(pct(ts, 50), 1), "exact_p50_ms": round(pct(t_exact, 50), 1)}
        res.append(row)
        print(f"  ANN nprobes={nprobes:3d} refine={refine:3d} recall@10 {row['recall@10']:.4f} p50 {row['p50_ms']:.1f} ms",
              flush=True)
    return res


def cold_cli(db: Path, text: str, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zsearch", "search", text, "--db", str(db), "--format", "json"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    r = {"p50_ms": round(pct(times, 50), 1), "max_ms": round(max(times) * 1000, 1)}
    print(f"  cold CLI `zsearch search` p50 {r['p50_ms']:.0f} ms (max {r['max_ms']:.0f}) over {repeats}", flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="5000,100000")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--cold", type=int, default=3, help="cold CLI calls per size (0: skip)")
    ap.add_argument("--workdir", default="/tmp/zs-bench-search")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-rerank", action="store_true")
    args = ap.parse_args()
    import shutil

    import torch

    torch.set_num_threads(1)
    work = Path(args.workdir)
    reranker_dir = None
    if not args.no_rerank:
        from test_rerank import build_tiny_bert_ce

        reranker_dir = work / "tiny-bert-ce"
        if not (reranker_dir / "config.json").exists():
            build_tiny_bert_ce(reranker_dir)
    report: dict[str, object] = {"load_avg": os.getloadavg(), "cpus": os.cpu_count()}
    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"== {n} papers", flush=True)
        db = work / f"db-{n}"
        shutil.rmtree(db, ignore_errors=True)
        qv, texts = build(db, n)
        entry: dict[str, object] = {"warm": warm(db, qv, texts, args.queries, reranker_dir)}
        from zsearch.store.tables import Store

        if Store(db).ann_params():
            entry["ann"] = ann_recall(db, qv[: args.queries], [(8, 1), (16, 5), (32, 10), (64, 10), (32, 20)])
        if args.cold:
            entry["cold_cli"] = cold_cli(db, texts[0], args.cold)
        report[str(n)] = entry
    report["load_avg_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
