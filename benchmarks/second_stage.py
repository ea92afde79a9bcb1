"""Second-stage candidates for the CPU default, scored on a BEIR split in one run.

    python benchmarks/second_stage.py --db /tmp/zs-scifact-db [--data ../shared/data] [--split train]

Reads an evaluation database made by ``zsearch eval beir`` (its papers' vectors, passages
and sentence vectors: run ``zsearch eval beir`` first, which also fills in missing sentence
vectors), runs LanceDB's BM25 for every judged query once, then scores each candidate
offline with exact cosine scores, so a grid of a hundred variants takes minutes, not hours.
The baseline in the same run is the fusion without a second stage (convex 0.5/0.5 over the
top 100 of each list), and every row prints its difference to it. Metrics: ranx, as
``zsearch eval`` (zsearch.evaluate.beir.score_run). Each row also gives nDCG@10 on two random
halves of the queries: a choice that only helps one half is noise.

Candidates: the sentence stage at several weights, dense fill-in over the union, title
vectors, dense pseudo-relevance feedback (Rocchio on the fused top k), and score smoothing
over candidate neighbours. docs/benchmarks.md ("Search quality") holds the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEPTH = 100


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def minmax_over(S: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per row: min-max over the masked entries, 0 elsewhere (zsearch.search.fusion.minmax, vectorised)."""
    big = np.where(mask, S, np.inf).min(axis=1, keepdims=True)
    top = np.where(mask, S, -np.inf).max(axis=1, keepdims=True)
    span = np.where(top > big, top - big, 1.0)
    out = np.where(mask, (S - big) / span, 0.0)
    return np.where(mask & (top <= big), 1.0, out).astype(np.float32)


def topk_mask(S: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-S, k, axis=1)[:, :k]
    m = np.zeros(S.shape, dtype=bool)
    np.put_along_axis(m, part, True, axis=1)
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="database made by `zsearch eval beir`")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--dataset", default="scifact")
    ap.add_argument("--split", default="train")
    args = ap.parse_args(argv)

    from zsearch.evaluate.beir import load_beir, paper_id, score_run
    from zsearch.library import Library
    from zsearch.search.candidates import fts_candidates

    data = load_beir(args.data / "beir" / args.dataset, args.split)
    lib = Library.open(args.db)
    st = lib.store
    emb = lib.embedder
    log("reading vectors")
    P = st.papers.to_arrow().select(["id", "title", "vector", "sentence_vectors"]).to_pylist()
    C = st.chunks.to_arrow().select(["paper_id", "vector"]).to_pylist()
    ids = [p["id"] for p in P]
    index = {pid: i for i, pid in enumerate(ids)}
    n = len(ids)
    PV = np.asarray([p["vector"] for p in P], dtype=np.float32)
    CV = np.asarray([c["vector"] for c in C], dtype=np.float32).reshape(len(C), PV.shape[1])
    cp = np.asarray([index[c["paper_id"]] for c in C], dtype=np.int64)
    sv_rows = [np.asarray(p["sentence_vectors"] or [], dtype=np.float32) for p in P]
    if not any(len(r) for r in sv_rows):
        print("error: the database has no sentence vectors; run `zsearch reembed --sentences --db ...`", file=sys.stderr)
        return 2
    SV = np.concatenate([r for r in sv_rows if len(r)])
    sown = np.concatenate([np.full(len(r), i) for i, r in enumerate(sv_rows) if len(r)])
    qids = list(data.queries)
    log(f"{n} papers, {len(C)} passages, {len(SV)} sentences; {len(qids)} queries")
    QV = emb.encode_queries([data.queries[q] for q in qids])
    log("title vectors (the 'separate title vector' candidate)")
    TV = emb.encode_documents([p["title"] or "" for p in P])
    log("BM25 runs")
    BM = np.zeros((len(qids), n), dtype=np.float32)
    for qi, q in enumerate(qids):
        _, scores = fts_candidates(st, data.queries[q], DEPTH)
        for pid, s in scores.items():
            BM[qi, index[pid]] = s
    log("dense scores")
    HS = QV @ PV.T
    MS = HS.copy()  # MaxP: paper vector or best passage
    CS = QV @ CV.T
    SS = QV @ SV.T
    MX = np.full_like(HS, -1.0)  # best sentence
    for qi in range(len(qids)):
        np.maximum.at(MS[qi], cp, CS[qi])
        np.maximum.at(MX[qi], sown, SS[qi])
    MX = np.where(MX < -0.5, MS, MX)  # a paper without sentences keeps its paper score
    TS = QV @ TV.T

    dm = topk_mask(MS, DEPTH)
    bm = topk_mask(BM, DEPTH) & (BM > 0)
    union = dm | bm
    B = minmax_over(BM, bm)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(qids))
    halves = ({qids[i] for i in perm[: len(qids) // 2]}, {qids[i] for i in perm[len(qids) // 2 :]})

    def score(F: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float]:
        run = {}
        for qi, q in enumerate(qids):
            cand = np.where(mask[qi])[0]
            top = cand[np.argsort(-F[qi, cand], kind="stable")][:DEPTH]
            run[q] = {pid_to_doc[ids[d]]: float(DEPTH - r) for r, d in enumerate(top)}
        m = score_run(data.qrels, run)
        hv = [score_run({q: data.qrels[q] for q in h}, run)["ndcg@10"] for h in halves]
        return m["ndcg@10"], m["recall@100"], hv[0], hv[1]

    pid_to_doc = {paper_id(data.name, d): d for d in data.corpus}
    rows: list[tuple[str, tuple[float, float, float, float]]] = []

    def row(name: str, F: np.ndarray, mask: np.ndarray) -> None:
        res = score(F, mask)
        rows.append((name, res))
        base = rows[0][1][0]
        print(f"{name:62s} nDCG@10 {res[0]:.4f} ({res[0] - base:+.4f})  R@100 {res[1]:.4f}  "
              f"halves {res[2]:.4f} / {res[3]:.4f}", flush=True)

    row("baseline: convex 0.5/0.5, no second stage", 0.5 * minmax_over(MS, dm) + 0.5 * B, union)
    row("dense only, MaxP", MS, dm)
    row("dense only + sentence stage w 0.5", 0.5 * MS + 0.5 * MX, dm)
    row("dense filled in over the union, convex 0.5/0.5", 0.5 * minmax_over(MS, union) + 0.5 * B, union)
    for w in (0.3, 0.5, 0.7):
        D = minmax_over((1 - w) * MS + w * MX, union)
        for d in (0.5, 0.6, 0.7, 0.8):
            row(f"sentence stage w {w}, convex dense {d} / bm25 {1 - d:.1f}", d * D + (1 - d) * B, union)
    # an abstract-only paper whose every sentence has a vector needs no passages: what would
    # dropping them (and their ingest cost) lose?
    hm = topk_mask(HS, DEPTH)
    row("sentence stage w 0.5 without passages (paper vector only), convex 0.7/0.3",
        0.7 * minmax_over(0.5 * HS + 0.5 * MX, hm | bm) + 0.3 * B, hm | bm)
    for t in (0.1, 0.2):
        row(f"title vector mixed in ({t}), convex 0.5/0.5", 0.5 * minmax_over((1 - t) * MS + t * TS, union)
            + 0.5 * B, union)
    base = 0.5 * minmax_over(MS, dm) + 0.5 * B
    for k, beta in ((3, 0.3), (5, 0.3), (5, 0.6), (10, 0.3)):
        top = np.argsort(-np.where(union, base, -np.inf), axis=1)[:, :k]
        Q2 = QV + beta * PV[top].mean(axis=1)
        Q2 /= np.linalg.norm(Q2, axis=1, keepdims=True)
        M2 = Q2 @ PV.T
        C2 = Q2 @ CV.T
        for qi in range(len(qids)):
            np.maximum.at(M2[qi], cp, C2[qi])
        row(f"dense PRF (Rocchio) k {k}, beta {beta}, convex 0.5/0.5", 0.5 * minmax_over(M2, union) + 0.5 * B, union)
    best = 0.7 * minmax_over(0.5 * MS + 0.5 * MX, union) + 0.3 * B
    for kk, g in ((3, 0.1), (5, 0.1), (5, 0.3)):
        F = best.copy()
        for qi in range(len(qids)):
            c = np.where(union[qi])[0]
            sim = PV[c] @ PV[c].T
            np.fill_diagonal(sim, -9)
            nb = np.argsort(-sim, axis=1)[:, :kk]
            F[qi, c] = best[qi, c] + g * best[qi, c][nb].mean(axis=1)
        row(f"default + neighbour smoothing k {kk}, g {g}", F, union)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
