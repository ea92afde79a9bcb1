"""The warm index against LanceDB reads on an existing database: same hits, p50 of each, per stage.

    python benchmarks/warm.py DB [--queries 60]

DB: a zsearch database (for example one built by ``benchmarks/search.py --workdir W``:
``W/db-5000``). Queries are stored paper vectors plus a little noise, with the first six words
of a title as text; default hybrid search, k=10. In one process, one after the other: a Store
that reads LanceDB and one that holds the warm index (zsearch.store.memory). Prints how many
queries gave identical hits (every field), the p50/p95 of each path and their ratio, and the
p50 of each stage on the warm path. Figures: docs/benchmarks.md, "The warm index and the service".
"""

# ruff: noqa: B023  (each lambda is called at once, inside its loop turn)
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from zsearch.search import candidates as C
    from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG
    from zsearch.search.fusion import ranked
    from zsearch.search.pipeline import fuse, hybrid_search, to_hits
    from zsearch.store.tables import Store

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--queries", type=int, default=60)
    args = ap.parse_args()
    cold, hot = Store(args.db), Store(args.db)
    rows = cold.rows(None, ["vector", "title"], limit=args.queries)
    rng = np.random.default_rng(0)
    qv = [np.asarray(r["vector"], np.float32) + rng.normal(0, 0.02, len(r["vector"])).astype(np.float32) for r in rows]
    qv = [q / np.linalg.norm(q) for q in qv]
    texts = [" ".join((r["title"] or "").split()[:6]) or "study" for r in rows]
    t0 = time.perf_counter()
    hot.keep_warm(block=True)
    idx = hot.warm()
    print(f"warm index: {time.perf_counter() - t0:.2f} s, {idx.nbytes / 1e6:.0f} MB" if idx else "warm index: over budget")
    same = sum(hybrid_search(cold, q, t, k=10, config=cfg) == hybrid_search(hot, q, t, k=10, config=cfg)
               for q, t in zip(qv, texts) for cfg in (DEFAULT_CONFIG, NO_SENTENCE_CONFIG))
    print(f"identical hits: {same} of {2 * len(qv)}")
    p50 = {}
    for name, st in (("LanceDB reads", cold), ("warm index", hot)):
        ts = []
        for q, t in zip(qv, texts):
            a = time.perf_counter()
            hybrid_search(st, q, t, k=10, config=DEFAULT_CONFIG)
            ts.append((time.perf_counter() - a) * 1000)
        p50[name] = float(np.median(ts))
        print(f"{name:14s} p50 {p50[name]:6.1f} ms  p95 {np.percentile(ts, 95):6.1f} ms")
    print(f"ratio: {p50['LanceDB reads'] / p50['warm index']:.2f}x")
    stages: dict[str, list[float]] = {}

    def tm(key: str, fn):  # type: ignore[no-untyped-def]
        a = time.perf_counter()
        out = fn()
        stages.setdefault(key, []).append((time.perf_counter() - a) * 1000)
        return out

    ann = hot.ann_params()
    for q, t in zip(qv, texts):
        dc = tm("dense", lambda: C.dense_candidates(hot, q, 100, warm=idx, **ann))
        tm("bm25", lambda: C.fts_candidates(hot, t, 100))
        tm("bm25 title", lambda: C.fts_candidates(hot, t, 100, column="title"))
        tm("sentence stage", lambda: C.sentence_stage(hot, q, dc, DEFAULT_CONFIG.sentence_weight, 100, warm=idx))
        cand = C.gather(hot, q, t, DEFAULT_CONFIG, None, 100)
        fused = ranked(fuse(cand, DEFAULT_CONFIG))
        tm("hits", lambda: to_hits(hot, fused, cand, 10))
    for key, ts in stages.items():
        print(f"  {key:16s} p50 {np.median(ts):6.2f} ms")


if __name__ == "__main__":
    main()
