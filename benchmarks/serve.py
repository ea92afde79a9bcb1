"""The search service under load: 16 concurrent clients, with and without an ingest writing meanwhile.

    python benchmarks/serve.py --papers 1000 --clients 16 --duration 60 [--json /tmp/serve-bench.json]

The database holds the first ``--papers`` SciFact abstracts, ingested for real with the
bundled model (cached in ``--cache``; each run works on a fresh copy). SciFact's queries are
sent round-robin, default hybrid search, k=10, each request on a new connection to the Unix
socket (as a CLI process makes it) through :mod:`zsearch.serve.client`.

Three measurements, in one run on one machine:

1. **in-process baseline**: one warm Library in a fresh process, queries one after another (no
   HTTP), on the main thread (as a script calls it) and on one worker thread (as the service does:
   on a loaded machine torch ran several times slower on a main thread that never saw another
   thread call it; see docs/serve.md);
2. **service, N clients**: `zsearch serve` in its own process, N client threads for ``--duration`` s;
3. **service, N clients + ingest**: the same while another process ingests further SciFact
   abstracts into the same database (batches of 16, each a commit), as a refresh would.

Each reports q/s, p50 and p99 latency and errors (0 expected); the ingest row also how many
papers were committed meanwhile and how many of them the service counted by the end.
Figures go to docs/serve.md ("Load").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCIFACT = Path(os.environ.get("SCIFACT_DIR", "/work/shared/data/beir/scifact"))
# papers per ingest call of the writer: a small batch commits often, the hard case for readers
WRITER_BATCH = 16
# untimed queries before each measurement: torch's first ~10-20 forward passes in a process run
# several times slower than later ones (measured here: 1-2 s, then 0.2-0.3 s, on a loaded machine)
WARM_QUERIES = 20


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i] * 1000


def corpus(start: int, stop: int) -> list[dict]:
    out = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= stop:
                break
            if i >= start:
                out.append(json.loads(line))
    return out


def queries() -> list[str]:
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def build(cache: Path, n: int) -> Path:
    """The cached database of the first ``n`` SciFact abstracts (ingested once)."""
    db = cache / f"scifact-{n}"
    if (db / "lancedb").is_dir() and (db / ".complete").exists():
        return db
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    shutil.rmtree(db, ignore_errors=True)
    t0 = time.perf_counter()
    lib = Library.open(db)
    rep = lib.ingest_papers(Paper(id=f"beir:scifact:{d['_id']}", source="beir", title=d["title"], abstract=d["text"])
                            for d in corpus(0, n))
    (db / ".complete").write_text(str(rep.added))
    print(f"built {db}: {rep.added} papers in {time.perf_counter() - t0:.0f} s", flush=True)
    return db


def in_process(db: Path, qs: list[str], seconds: float, *, worker: bool = False) -> dict:
    """One warm Library, queries back to back, on the main thread or (``worker``) on one worker thread."""
    from concurrent.futures import ThreadPoolExecutor

    from zsearch.library import Library

    lib = Library.open(db, create=False)
    pool = ThreadPoolExecutor(max_workers=1)

    def run(q: str) -> None:
        if worker:
            pool.submit(lib.search, q, k=10).result()
        else:
            lib.search(q, k=10)

    for q in qs[-WARM_QUERIES:]:
        run(q)
    lat: list[float] = []
    t_end = time.perf_counter() + seconds
    i = 0
    t0 = time.perf_counter()
    while time.perf_counter() < t_end:
        t = time.perf_counter()
        run(qs[i % len(qs)])
        lat.append(time.perf_counter() - t)
        i += 1
    wall = time.perf_counter() - t0
    return {"clients": 1, "requests": len(lat), "qps": len(lat) / wall, "p50_ms": pct(lat, 50),
            "p99_ms": pct(lat, 99), "errors": 0}


def load(db: Path, qs: list[str], clients: int, seconds: float) -> dict:
    from zsearch.serve.client import find_service

    svc = find_service(db)
    assert svc is not None, "no service"
    for q in qs[-WARM_QUERIES:]:
        svc.request("POST", "/api/search", {"query": q, "k": 10}).raise_for_error()
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    t_end = time.perf_counter() + seconds

    def client(n: int) -> None:
        i = n * 7
        while time.perf_counter() < t_end:
            q = qs[i % len(qs)]
            i += 1
            t = time.perf_counter()
            try:
                r = svc.request("POST", "/api/search", {"query": q, "k": 10})
                ok = r.status == 200 and r.text.startswith("[")
                err = None if ok else f"HTTP {r.status}: {r.text[:200]}"
            except Exception as exc:  # noqa: BLE001 - every failure counts
                err = f"{type(exc).__name__}: {exc}"
            dt = time.perf_counter() - t
            with lock:
                (errors.append(err) if err else lat.append(dt))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    out = {"clients": clients, "requests": len(lat) + len(errors), "qps": len(lat) / wall, "p50_ms": pct(lat, 50),
           "p99_ms": pct(lat, 99), "errors": len(errors)}
    if errors:
        out["first_errors"] = errors[:5]
    return out


WRITER = textwrap.dedent("""
    import json, sys, time
    from zsearch.library import Library
    from zsearch.papers.model import Paper
    db, path, start, stop, batch, seconds = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), float(sys.argv[6])
    docs = [json.loads(l) for i, l in enumerate(open(path, encoding="utf-8")) if start <= i < stop]
    lib = Library.open(db)
    lib.embedder  # load the model before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()  # go
    t_end, added, i = time.perf_counter() + seconds, 0, 0
    while time.perf_counter() < t_end and i < len(docs):
        chunk = docs[i:i + batch]
        i += batch
        rep = lib.ingest_papers(Paper(id=f"beir:scifact:{d['_id']}", source="beir", title=d["title"],
                                      abstract=d["text"]) for d in chunk)
        added += rep.added
    print(json.dumps({"added": added}), flush=True)
""")


def cold_cli(db: Path, qs: list[str], runs: int, env: dict) -> dict:
    """New-process `zsearch search Q --format json`, with the service up and with --no-service (the
    baseline, in the same run): median and max seconds of ``runs`` each, alternating."""
    times: dict[str, list[float]] = {"service": [], "no_service": []}
    for i in range(runs):
        for key, extra in (("service", []), ("no_service", ["--no-service"])):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "zsearch", "search", qs[i % len(qs)], "--db", str(db), "--format",
                            "json", *extra], env=env, check=True, capture_output=True)
            times[key].append(time.perf_counter() - t0)
    out = {k: {"median_s": round(sorted(v)[len(v) // 2], 3), "max_s": round(max(v), 3), "runs": len(v)}
           for k, v in times.items()}
    out["ratio"] = round(out["no_service"]["median_s"] / out["service"]["median_s"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--papers", type=int, default=1000, help="SciFact abstracts in the database (default 1000)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per measurement (default 60)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "zsearch-bench-serve")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--cold", type=int, default=7, help="new-process CLI searches with the service up, and without (default 7 each)")
    ap.add_argument("--skip-load", action="store_true", help="only the cold CLI runs (no baselines, no load)")
    ap.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)  # internal: the baseline, in a fresh process
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline:
        print(json.dumps(in_process(args.baseline, queries(), args.duration, worker=args.worker)))
        return

    qs = queries()
    base = build(args.cache, args.papers)
    work = Path(tempfile.mkdtemp(prefix="zsearch-serve-bench-")) / "db"
    shutil.copytree(base, work)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    results: dict = {"papers": args.papers, "duration_s": args.duration, "cpus": os.cpu_count()}

    # each in a fresh process, as the service is (not this one, which may have just ingested the
    # corpus); on the main thread, as a script runs it, and on a worker thread, as the service does
    for key, extra in (() if args.skip_load else (("in_process", []), ("in_process_worker", ["--worker"]))):
        print(f"{key} baseline, {args.duration:.0f} s ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--baseline", str(work), "--duration", str(args.duration),
                              *extra], env=env, check=True, capture_output=True, text=True).stdout
        results[key] = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(results[key]), flush=True)

    from zsearch.serve.client import find_service

    svc = subprocess.Popen([sys.executable, "-m", "zsearch", "serve", "--db", str(work)], env=env,
                           stderr=subprocess.PIPE, text=True)
    writer = None
    try:
        t0 = time.perf_counter()
        while find_service(work) is None:
            if svc.poll() is not None:
                raise SystemExit(f"zsearch serve exited: {svc.stderr.read()}")
            time.sleep(0.2)
        results["service_start_s"] = round(time.perf_counter() - t0, 1)
        if args.cold:
            results["cold_cli"] = cold_cli(work, qs, args.cold, env)
            c = results["cold_cli"]
            print(f"new-process `zsearch search`: {c['service']['median_s']} s with the service, "
                  f"{c['no_service']['median_s']} s with --no-service ({c['ratio']}x), median of {args.cold}", flush=True)
        if args.skip_load:
            if args.json:
                args.json.write_text(json.dumps(results, indent=2) + "\n")
            return
        print(f"service up in {results['service_start_s']} s; {args.clients} clients, {args.duration:.0f} s ...",
              flush=True)
        results["service"] = load(work, qs, args.clients, args.duration)
        print(json.dumps(results["service"]), flush=True)

        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(work), str(SCIFACT / "corpus.jsonl"),
                                   str(args.papers), str(args.papers + 100_000), str(WRITER_BATCH), str(args.duration)],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        before = find_service(work).request("GET", "/api/stats").json()["papers"]
        writer.stdin.write("go\n")
        writer.stdin.flush()
        print(f"... and an ingest writing meanwhile, {args.duration:.0f} s ...", flush=True)
        row = load(work, qs, args.clients, args.duration)
        added = json.loads(writer.stdout.readline())["added"]
        writer.wait(120)
        time.sleep(1.5)  # the service's read consistency interval
        row["ingested"] = added
        row["service_counts_after"] = find_service(work).request("GET", "/api/stats").json()["papers"] - before
        results["service_with_ingest"] = row
        print(json.dumps(row), flush=True)
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
        svc.terminate()
        svc.wait(30)
        shutil.rmtree(work.parent, ignore_errors=True)

    print()
    print(f"{args.papers} papers, {args.duration:.0f} s each, {os.cpu_count()} CPUs")
    print(f"{'':36} {'q/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, key in (("in-process, main thread (baseline)", "in_process"),
                      ("in-process, worker thread", "in_process_worker"),
                      (f"service, {args.clients} clients", "service"),
                      (f"service, {args.clients} clients + ingest", "service_with_ingest")):
        r = results[key]
        print(f"{name:36} {r['qps']:7.1f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['errors']:7d}")
    w = results["service_with_ingest"]
    print(f"ingest meanwhile: {w['ingested']} papers committed, the service counted {w['service_counts_after']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
