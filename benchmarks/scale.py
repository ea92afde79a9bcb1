"""Scale: databases of 100k-1M papers built without the model, and what zsearch costs on them.

    python benchmarks/scale.py --sizes 100000,1000000 [--data ../shared/data] [--out /tmp/zs-scale]

Rows are real text — the arXiv snapshot's records (title, abstract, categories) and SciFact's
5,183 abstracts, half and half, repeated with 8% of their words swapped for words of other
abstracts, so no two papers are equal and BM25 sees real vocabulary — with synthetic vectors
shaped like real ones: 384-dim unit vectors around 1,024 topic centres, and one vector per
title/abstract sentence (zsearch.papers.sentences splits the real text: 8-12 per abstract)
near its paper's vector. Ids, identifiers (arXiv ids, PMIDs, DOIs), years and categories are
as ingest stores them. Everything is written through the Store's write API
(``Store.write`` -> zsearch.store.commit) in batches of ``--batch`` papers.

Measured per size, in one run, with the baseline in the same run:

* **build**: papers/s of the bulk write; then ``optimize`` (full-text, scalar indexes) and,
  separately, the IVF_RQ index build;
* **lookups before/after the scalar indexes**: ``Store.get_rows`` of 100 ids (what every
  search does for its candidates) and ``find_by_identifiers`` of 64 papers' keys (what every
  ingest batch does), on the same table before and after ``optimize``;
* **bytes per paper on disk** after ``optimize`` and removal of old versions, abstract-only;
* **passages**: ``--long-share`` of the papers then get full text and passages (10 each);
* **hybrid search p50/p95** (``zsearch.search.pipeline.hybrid_search``, the default config:
  sentence stage, convex fusion) with no filter, a year filter, and year + category filters;
  a random query vector near a topic centre and a real query text (SciFact queries, arXiv
  titles); beside it the old filtered passage search (every passing id in one ``IN`` list);
* **ANN recall@10** against exact search (``bypass_vector_index``) and both latencies;
* **ingest of ``--ingest`` new papers** through the real ``Ingestor`` (identity folding,
  change detection, 64-paper commits, the closing ``optimize``) with a synthetic encoder in
  place of the model, so the store's share is what is timed;
* **peak RSS** of ``zsearch export --all --format jsonl`` and ``zsearch cluster --all --k 8``
  as subprocesses (GNU time's maximum resident set size).

Results print as they come and go to ``OUT/scale-<size>.json``; docs/benchmarks.md ("Scale").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 384
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
CENTRES = 1024  # topics: ~1,000 papers per topic at 1M
SWAP = 0.08  # share of an abstract's words replaced per repetition
YEARS = list(range(1995, 2026))
FILTERS = {
    "none": None,
    "year": "year >= 2020 AND year <= 2022",
    "year+category": "year >= 2015 AND year <= 2024 AND array_has_any(categories, ['cs.LG', 'hep-ph'])",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 1)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


# -- the text ---------------------------------------------------------------------------


def load_texts(data: Path) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Source records (arXiv snapshot and SciFact), query texts, and a vocabulary to perturb with."""
    recs: list[dict[str, Any]] = []
    for f in sorted((data / "arxiv" / "kaggle_metadata").glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            d = json.loads(line)
            recs.append({"kind": "arxiv", "title": " ".join(d["title"].split()),
                         "abstract": " ".join(d["abstract"].split()), "categories": d["categories"].split(),
                         "authors": [a.strip() for a in re.split(r",| and ", d.get("authors") or "") if a.strip()][:8]})
    n_arxiv = len(recs)
    for line in (data / "beir" / "scifact" / "corpus.jsonl").open(encoding="utf-8"):
        d = json.loads(line)
        recs.append({"kind": "pubmed", "title": d.get("title") or "", "abstract": d.get("text") or "",
                     "categories": [], "authors": []})
    queries = [json.loads(line)["text"] for line in (data / "beir" / "scifact" / "queries.jsonl").open()]
    queries += [r["title"] for r in recs[:n_arxiv]]
    vocab = sorted({w for r in recs[:2000] for w in re.findall(r"[A-Za-z]{4,}", r["abstract"])})
    cats = sorted({c for r in recs[:n_arxiv] for c in r["categories"]})
    for r in recs[n_arxiv:]:  # PubMed records carry MeSH-like terms; reuse arXiv's names so one filter spans both
        r["categories"] = [cats[zlib.crc32(r["title"].encode()) % len(cats)]]
    return recs, queries, vocab


class Maker:
    """Paper i of the synthetic corpus and its sentences, deterministic in i: real text, perturbed per repetition.

    Each source abstract is split into sentences once (zsearch.papers.sentences); a
    repetition swaps words inside sentences (never a sentence's first word, nor one that ends
    it), so the stored sentences are the paper's own and the split is not redone per paper.
    """

    def __init__(self, recs: list[dict[str, Any]], vocab: list[str], seed: int = 0):
        from zsearch.papers.sentences import split_sentences

        self.pools = {kind: [r for r in recs if r["kind"] == kind] for kind in ("arxiv", "pubmed")}
        for pool in self.pools.values():
            for r in pool:
                r["sentences"] = split_sentences(r["abstract"])
        self.vocab = vocab
        self.seed = seed

    def paper(self, i: int) -> Any:
        return self.paper_and_sentences(i)[0]

    def paper_and_sentences(self, i: int) -> tuple[Any, list[str]]:
        from zsearch.papers.model import Paper

        rnd = random.Random(self.seed * 1_000_003 + i)
        kind = "arxiv" if i % 2 == 0 else "pubmed"
        pool = self.pools[kind]
        rec = pool[(i // 2) % len(pool)]
        rep = (i // 2) // len(pool)
        title, sents = rec["title"], rec["sentences"]
        if rep:
            vocab = self.vocab
            out = []
            for sent in sents:
                words = sent.split()
                for _ in range(int(len(words) * SWAP + rnd.random())):
                    j = rnd.randrange(len(words))
                    if j and words[j][-1:] not in ".!?":  # keep the sentence boundaries
                        words[j] = vocab[rnd.randrange(len(vocab))]
                out.append(" ".join(words))
            sents = out
            tw = title.split()
            if tw:
                tw[rnd.randrange(len(tw))] = vocab[rnd.randrange(len(vocab))]
            title = " ".join(tw)
        abstract = " ".join(sents)
        year = YEARS[min(len(YEARS) - 1, int(len(YEARS) * (1 - rnd.random() ** 2)))]  # more recent papers
        month = rnd.randrange(1, 13)
        common = {"title": title, "abstract": abstract, "year": year, "categories": list(rec["categories"]),
                  "authors": list(rec["authors"]), "published": f"{year}-{month:02d}-01"}
        sentences = ([title] if title else []) + list(sents)
        if kind == "arxiv":  # 100,000 ids a month from 2016 on, as arXiv numbers them (5 digits)
            block, seq = divmod(i // 2, 100_000)
            aid = f"{16 + block // 12:02d}{block % 12 + 1:02d}.{seq:05d}"
            return Paper(id=f"arxiv:{aid}", source="arxiv", arxiv_id=aid, url=f"https://arxiv.org/abs/{aid}",
                         doi=f"10.48550/arxiv.{aid}" if i % 10 == 0 else None, **common), sentences
        pmid = str(10_000_000 + i)
        return Paper(id=f"pmid:{pmid}", source="pubmed", pmid=pmid,
                     doi=f"10.{1000 + i % 8000}/zs.{i}" if i % 3 else None, **common), sentences


class Vectors:
    """Clustered unit vectors: a paper near its topic centre, its sentences near the paper."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.centres = unit(rng.standard_normal((CENTRES, DIM)))
        self.rng = np.random.default_rng(seed + 1)

    def papers(self, n: int) -> np.ndarray:
        owner = self.rng.integers(0, CENTRES, n)
        return unit(self.centres[owner] + 0.04 * self.rng.standard_normal((n, DIM)).astype(np.float32))

    def near(self, v: np.ndarray, n: int, noise: float = 0.05) -> np.ndarray:
        return unit(v + noise * self.rng.standard_normal((n, DIM)).astype(np.float32))

    def queries(self, n: int) -> np.ndarray:
        return self.near(self.centres[self.rng.integers(0, CENTRES, n)], n, 0.05)


class SyntheticEncoder:
    """The Encoder protocol of zsearch.ingest.encode with hashed clustered vectors instead of a model."""

    dim = DIM
    long_context = False
    sentence_vectors = True
    doc_token_limit = 256  # all-MiniLM-L6-v2's context

    def __init__(self, vecs: Vectors):
        self.vecs = vecs

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [int(len(t.split()) * 1.3) + 2 for t in texts]

    def windows(self, text: str) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + 180]) for i in range(0, max(len(words), 1), 150)]

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        owner = np.array([zlib.crc32(t.encode()) % CENTRES for t in texts])
        return unit(self.vecs.centres[owner] + 0.04 * self.vecs.rng.standard_normal((len(texts), DIM)).astype(np.float32))


def build_rows(maker: Maker, vecs: Vectors, start: int, m: int, now: datetime) -> list[dict[str, Any]]:
    """Rows as ingest makes them (zsearch.store.schema.paper_row), for papers start..start+m."""
    from zsearch.store.schema import paper_row

    made = [maker.paper_and_sentences(i) for i in range(start, start + m)]
    pv = vecs.papers(m)
    counts = np.array([len(s) for _, s in made])
    sv = vecs.near(np.repeat(pv, counts, axis=0), int(counts.sum()))
    at = np.concatenate([[0], np.cumsum(counts)])
    return [paper_row(p, vector=pv[j], token_count=int(len(p.title.split()) + len(p.abstract.split())) * 13 // 10,
                      n_chunks=0, added=now, sentences=sents, sentence_vectors=sv[at[j] : at[j + 1]])
            for j, (p, sents) in enumerate(made)]


# -- measurements -----------------------------------------------------------------------


def disk(path: Path) -> dict[str, int]:
    files = [f for f in path.rglob("*") if f.is_file()]
    idx = sum(f.stat().st_size for f in files if "_indices" in f.parts)
    return {"total": sum(f.stat().st_size for f in files), "indexes": idx}


def cleanup(store: Any) -> None:
    """Compact and drop every old version (what a maintained database holds)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in (store.papers, store.chunks):
            t.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)


def lookups(store: Any, maker: Maker, n: int, rng: random.Random, reps: int = 15) -> dict[str, float]:
    from zsearch.papers.identity import lookup_keys

    t_rows, t_keys = [], []
    for _ in range(reps):
        ids = [maker.paper(i).id for i in rng.sample(range(n), 100)]
        t0 = time.perf_counter()
        got = store.get_rows(ids, ["id", "title"])
        t_rows.append(time.perf_counter() - t0)
        assert len(got) == 100, len(got)
        keys = [k for _ in range(64) for k in lookup_keys(maker.paper(rng.randrange(n)))]
        t0 = time.perf_counter()
        store.find_by_identifiers(keys)
        t_keys.append(time.perf_counter() - t0)
    return {"get_rows_100_p50_ms": pct(t_rows, 50), "find_by_identifiers_64_p50_ms": pct(t_keys, 50)}


def legacy_passages(store: Any, qvec: np.ndarray, need: int, where: str, ann: dict[str, int]) -> list[dict]:
    """The filtered passage search before benchmarks/scale.py: every passing id in one IN list."""
    from zsearch.store.sql import sql_in

    allowed = [r["id"] for b in store.iter_rows(where, ["id"]) for r in b]
    q = store.chunks.search(qvec, vector_column_name="vector").distance_type("cosine")
    q = q.where(sql_in("paper_id", allowed), prefilter=True)
    return q.select(["paper_id", "text", "_distance"]).limit(need).to_list()


def search_latency(store: Any, vecs: Vectors, queries: list[str], nq: int) -> dict[str, Any]:
    from zsearch.search.candidates import passage_hits
    from zsearch.search.config import CANDIDATE_DEPTH, DEFAULT_CONFIG, PASSAGE_DEPTH_FACTOR
    from zsearch.search.pipeline import hybrid_search

    qv = vecs.queries(nq)
    out: dict[str, Any] = {}
    for name, where in FILTERS.items():
        hybrid_search(store, qv[0], queries[0], k=10, where=where, config=DEFAULT_CONFIG)  # warm
        times = []
        for i in range(nq):
            t0 = time.perf_counter()
            hybrid_search(store, qv[i], queries[(i * 7) % len(queries)], k=10, where=where, config=DEFAULT_CONFIG)
            times.append(time.perf_counter() - t0)
        out[f"hybrid_{name}"] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                                 "passing": store.count_where(where)}
        log(f"  hybrid, filter {name:14s} p50 {out[f'hybrid_{name}']['p50_ms']:7.1f} ms  "
            f"p95 {out[f'hybrid_{name}']['p95_ms']:7.1f} ms  ({out[f'hybrid_{name}']['passing']} papers pass)")
    if store.count_chunks():
        need = CANDIDATE_DEPTH * PASSAGE_DEPTH_FACTOR
        ann = store.ann_params()
        for name, where in FILTERS.items():
            if where is None:
                continue
            t_new, t_old, same = [], [], []
            for i in range(min(nq, 10)):
                t0 = time.perf_counter()
                new = passage_hits(store, qv[i], need, where, **ann)
                t_new.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                old = legacy_passages(store, qv[i], need, where, ann)
                t_old.append(time.perf_counter() - t0)
                a, b = {r["paper_id"] for r in new}, {r["paper_id"] for r in old}
                same.append(len(a & b) / max(len(b), 1))
            out[f"passages_{name}"] = {"new_p50_ms": pct(t_new, 50), "old_in_list_p50_ms": pct(t_old, 50),
                                       "same_papers": round(float(np.mean(same)), 4)}
            log(f"  filtered passages ({name}): {out[f'passages_{name}']}")
    return out


def ann_recall(store: Any, vecs: Vectors, nq: int) -> dict[str, Any]:
    from zsearch.store.indexes import ANN_NPROBES, ANN_REFINE

    qv = vecs.queries(nq)
    rec, t_ann, t_exact = [], [], []
    for q in qv:
        t0 = time.perf_counter()
        ex = store.papers.search(q, vector_column_name="vector").distance_type("cosine").bypass_vector_index() \
            .select(["id"]).limit(10).to_list()
        t_exact.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = store.papers.search(q, vector_column_name="vector").distance_type("cosine").nprobes(ANN_NPROBES) \
            .refine_factor(ANN_REFINE).select(["id"]).limit(10).to_list()
        t_ann.append(time.perf_counter() - t0)
        rec.append(len({r["id"] for r in got} & {r["id"] for r in ex}) / 10)
    r = {"recall@10": round(float(np.mean(rec)), 4), "ann_p50_ms": pct(t_ann, 50), "exact_p50_ms": pct(t_exact, 50),
         "nprobes": ANN_NPROBES, "refine": ANN_REFINE}
    log(f"  ANN recall@10 {r['recall@10']:.4f}: ANN p50 {r['ann_p50_ms']} ms, exact p50 {r['exact_p50_ms']} ms")
    return r


def ingest_new(store: Any, maker: Maker, vecs: Vectors, start: int, n: int) -> dict[str, Any]:
    from zsearch.ingest.pipeline import Ingestor

    enc = SyntheticEncoder(vecs)
    timed: dict[str, float] = {}
    optimize = store.optimize

    def timed_optimize() -> None:
        t0 = time.perf_counter()
        optimize()
        timed["optimize_s"] = round(time.perf_counter() - t0, 1)

    store.optimize = timed_optimize  # type: ignore[method-assign]
    t0 = time.perf_counter()
    report = Ingestor(store, lambda: enc).ingest(maker.paper(i) for i in range(start, start + n))
    total = time.perf_counter() - t0
    store.optimize = optimize  # type: ignore[method-assign]
    r = {"papers": n, "added": report.added, "total_s": round(total, 1), **timed,
         "papers_per_s_without_optimize": round(n / max(total - timed.get("optimize_s", 0), 1e-9), 1)}
    log(f"  ingest {n} new papers: {r}")
    return r


def peak_rss(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd``; its peak RSS from GNU time's ``%M`` (a child forked from this process would
    inherit this process's high-water mark in ru_maxrss, so ``time`` is the parent)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "zsearch-peak-rss-kb %M", *cmd], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"zsearch-peak-rss-kb (\d+)", p.stderr)
    r: dict[str, Any] = {"peak_rss_mb": round(int(m.group(1)) / 1024, 1) if m else None,
                         "seconds": round(time.perf_counter() - t0, 1), "exit": p.returncode}
    if p.returncode:
        r["stderr"] = p.stderr[-500:]
    return r


def add_long_papers(store: Any, maker: Maker, vecs: Vectors, n_long: int, n: int, now: datetime) -> int:
    """Give ``n_long`` stored papers a body (other abstracts) and 10 passages each, in batches."""
    from zsearch.ingest.encode import passage_row
    from zsearch.papers.sentences import paper_sentences
    from zsearch.store.schema import paper_row

    step = max(n // max(n_long, 1), 1)
    written = 0
    for start in range(0, n_long, 1000):
        prow, crow = [], []
        for j in range(start, min(n_long, start + 1000)):
            p = maker.paper(j * step)
            body = [maker.paper((j * step + 7 * k + 1) % n).abstract for k in range(10)]
            p.full_text = "\n\n".join(body)
            v = vecs.papers(1)[0]
            sents = paper_sentences(p.title, p.abstract, p.full_text)
            pv = vecs.near(v, 10, 0.08)
            crow += [passage_row(p, k, body[k], pv[k]) for k in range(10)]
            prow.append(paper_row(p, vector=v, token_count=len(p.document_text.split()), n_chunks=10, added=now,
                                  sentences=sents, sentence_vectors=vecs.near(v, len(sents))))
        store.write(prow, crow, [])
        written += len(crow)
    return written


def run_size(n: int, args: argparse.Namespace, recs: list, queries: list[str], vocab: list[str]) -> dict[str, Any]:
    from zsearch.store.tables import Store

    db = Path(args.out) / f"db-{n}"
    shutil.rmtree(db, ignore_errors=True)
    res: dict[str, Any] = {"papers": n, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "load_average": os.getloadavg()}
    maker, vecs = Maker(recs, vocab), Vectors()
    rng = random.Random(1)
    st = Store(db)
    st.ensure(MODEL_ID, DIM)
    now = datetime.now(UTC)
    log(f"== {n} papers: building in batches of {args.batch}")
    t0 = time.perf_counter()
    t_rows = 0.0
    sents = 0
    for start in range(0, n, args.batch):
        t1 = time.perf_counter()
        rows = build_rows(maker, vecs, start, min(args.batch, n - start), now)
        t_rows += time.perf_counter() - t1
        sents += sum(len(r["sentences"]) for r in rows)
        st.write(rows, [], [])
        if (start // args.batch) % 10 == 9:
            log(f"  {start + len(rows)} written")
    total = time.perf_counter() - t0
    res["build"] = {"seconds": round(total, 1), "making_rows_s": round(t_rows, 1),
                    "write_papers_per_s": round(n / max(total - t_rows, 1e-9), 1),
                    "sentences_per_paper": round(sents / n, 2)}
    log(f"  build: {res['build']}")
    res["lookups_before_index"] = lookups(st, maker, n, rng)
    log(f"  lookups without scalar indexes: {res['lookups_before_index']}")
    os.environ["ZSEARCH_ANN_THRESHOLD"] = str(10**12)  # the ANN index is timed on its own below
    t0 = time.perf_counter()
    st.optimize()
    res["optimize_s"] = round(time.perf_counter() - t0, 1)
    os.environ.pop("ZSEARCH_ANN_THRESHOLD")
    res["lookups_after_index"] = lookups(st, maker, n, rng)
    log(f"  optimize (FTS, scalar) {res['optimize_s']} s; lookups with them: {res['lookups_after_index']}")
    if n >= args.ann_from:
        t0 = time.perf_counter()
        st.ensure_vector_index(force=True)
        res["ann_build_s"] = round(time.perf_counter() - t0, 1)
        log(f"  IVF_RQ index built in {res['ann_build_s']} s")
    cleanup(st)
    d = disk(st.path)
    res["disk"] = {"bytes_per_paper": round(d["total"] / n), "index_bytes_per_paper": round(d["indexes"] / n),
                   "total_mb": round(d["total"] / 2**20, 1)}
    log(f"  on disk (abstract-only, old versions removed): {res['disk']}")
    n_long = int(n * args.long_share)
    if n_long:
        t0 = time.perf_counter()
        res["passages"] = {"long_papers": n_long, "passages": add_long_papers(st, maker, vecs, n_long, n, now)}
        st.optimize()
        res["passages"]["seconds"] = round(time.perf_counter() - t0, 1)
        log(f"  passages: {res['passages']}")
    res["search"] = search_latency(st, vecs, queries, args.queries)
    if st.ann_params():
        res["ann"] = ann_recall(st, vecs, args.queries)
    if args.ingest:
        res["ingest"] = ingest_new(st, maker, vecs, n, args.ingest)
    cleanup(st)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANCE_LOG": "error"}
    zs = [sys.executable, "-m", "zsearch"]
    if not args.no_subprocess:
        res["export_all_jsonl"] = peak_rss([*zs, "export", "--all", "--format", "jsonl", "--db", str(db)], env)
        log(f"  export --all --format jsonl: {res['export_all_jsonl']}")
        if n <= args.cluster_max:
            res["cluster_all"] = peak_rss([*zs, "cluster", "--all", "--k", "8", "--format", "json", "--db", str(db)],
                                          env)
            log(f"  cluster --all --k 8: {res['cluster_all']}")
    res["load_average_end"] = os.getloadavg()
    if not args.keep:
        shutil.rmtree(db, ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="20000", help="comma-separated paper counts (e.g. 100000,1000000)")
    ap.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data"))
    ap.add_argument("--out", default="/tmp/zs-scale", help="databases and scale-<size>.json go here")
    ap.add_argument("--batch", type=int, default=5000, help="papers per Store.write in the bulk build")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--ingest", type=int, default=10_000, help="new papers ingested through Ingestor (0: skip)")
    ap.add_argument("--long-share", type=float, default=0.01, help="share of papers given full text and passages")
    ap.add_argument("--ann-from", type=int, default=100_000, help="build the IVF_RQ index from this size")
    ap.add_argument("--cluster-max", type=int, default=100_000, help="largest size `cluster --all` is run at")
    ap.add_argument("--no-subprocess", action="store_true", help="skip the export/cluster peak-RSS runs")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "beir" / "scifact").is_dir():
        data = Path("/work/shared/data")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LANCE_LOG", "error")
    recs, queries, vocab = load_texts(data)
    log(f"{len(recs)} source records, {len(queries)} query texts, {len(vocab)} words to perturb with")
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        res = run_size(n, args, recs, queries, vocab)
        out = Path(args.out) / f"scale-{n}.json"
        out.write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
