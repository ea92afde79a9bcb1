"""Bulk-source throughput and memory: arxiv-dump and pubmed-xml, parse-only and end to end.

Builds large inputs by repeating the real shared files (the 200-line Kaggle snapshot slice
and the 604-citation MEDLINE baseline slice) to at least ``--records`` records, then, each
in a fresh subprocess so peak RSS is its own:

* parse only: records/s and peak RSS at a small size and at the full size — the RSS ratio
  between them shows whether memory stays flat as the file grows;
* end to end (``--e2e`` records, default 200): ``Library.ingest_papers`` into a temp
  LanceDB with the bundled model — records/s including embedding.

Usage::

    python benchmarks/sources.py                       # >= 50,000 records parse-only, 200 e2e
    python benchmarks/sources.py --records 100000 --e2e 500

Prints a table; nothing is asserted (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot_first200.jsonl"
BASELINE = ROOT / "tests" / "data" / "pubmed" / "baseline" / "medline16n0902_slice604.xml.gz"


def build_arxiv(path: Path, n: int) -> int:
    """Repeat the snapshot lines to >= n lines (ids repeat: parse cost is what is measured)."""
    lines = SNAPSHOT.read_bytes().splitlines(keepends=True)
    written = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while written < n:
            out.writelines(lines)
            written += len(lines)
    return written


def build_pubmed(path: Path, n: int) -> int:
    """Repeat the 604 citations inside one <MedlineCitationSet> to >= n citations."""
    text = gzip.decompress(BASELINE.read_bytes())
    start = text.index(b"<MedlineCitation ")
    end = text.rindex(b"</MedlineCitation>") + len(b"</MedlineCitation>")
    head, body, tail = text[:start], text[start:end], text[end:]
    per = body.count(b"<MedlineCitation ")
    written = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(head)
        while written < n:
            out.write(body + b"\n")
            written += per
        out.write(tail)
    return written


def worker(kind: str, path: str, limit: int | None, db: str | None) -> dict:
    """Run in a subprocess: parse (or ingest) and report records, seconds, peak RSS."""
    import itertools

    from zsearch.sources.dumps import read_arxiv_dump, read_pubmed_xml

    items = read_arxiv_dump(path) if kind == "arxiv" else read_pubmed_xml(path)
    if limit:
        items = itertools.islice(items, limit)
    t0 = time.perf_counter()
    if db is None:
        n = sum(1 for _ in items)
        extra = {}
    else:
        from zsearch.library import Library
        from zsearch.sources.dumps import Deletion

        lib = Library.open(db)
        _ = lib.embedder  # load the model before the clock starts
        items = (x for x in items if not isinstance(x, Deletion))
        t0 = time.perf_counter()
        rep = lib.ingest_papers(items)
        n = rep.added + rep.updated + rep.unchanged + len(rep.failed)
        extra = {"added": rep.added, "tokens": rep.tokens}
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"records": n, "seconds": dt, "rate": n / dt if dt else 0.0, "peak_rss_mb": rss_mb, **extra}


def run_worker(kind: str, path: Path, limit: int | None = None, db: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, str(path)]
    if limit:
        cmd += ["--limit", str(limit)]
    if db:
        cmd += ["--db", str(db)]
    env = {**os.environ, "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=50_000, help="records in the big parse-only files")
    ap.add_argument("--small", type=int, default=5_000, help="records in the small run (RSS baseline)")
    ap.add_argument("--e2e", type=int, default=200, help="records ingested end to end (embedding included)")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker[0], a.worker[1], a.limit, a.db)))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="zsearch-bench-") as tmp:
        t = Path(tmp)
        for kind, build in (("arxiv", build_arxiv), ("pubmed", build_pubmed)):
            ext = ".jsonl.gz" if kind == "arxiv" else ".xml.gz"
            small, big = t / f"{kind}-small{ext}", t / f"{kind}-big{ext}"
            n_small = build(small, a.small)
            n_big = build(big, a.records)
            rs = run_worker(kind, small)
            rb = run_worker(kind, big)
            e2e = run_worker(kind, big, limit=a.e2e, db=t / f"db-{kind}")
            rows.append((kind, n_small, rs, n_big, rb, e2e, big.stat().st_size))
    label = {"arxiv": "arxiv-dump", "pubmed": "pubmed-xml"}
    print(f"{'source':<11} {'parse small':>22} {'parse big':>24} {'RSS big/small':>14} {'end to end':>22}")
    for kind, _n_small, rs, _n_big, rb, e2e, size in rows:
        print(f"{label[kind]:<11} "
              f"{rs['records']:>6} @ {rs['rate']:>7.0f} rec/s "
              f"{rb['records']:>7} @ {rb['rate']:>7.0f} rec/s "
              f"{rb['peak_rss_mb'] / rs['peak_rss_mb']:>13.2f}x "
              f"{e2e['records']:>5} @ {e2e['rate']:>6.1f} rec/s")
        print(f"{'':<11} peak RSS: small {rs['peak_rss_mb']:.0f} MB, big {rb['peak_rss_mb']:.0f} MB "
              f"({size / 1e6:.1f} MB gz); end to end {e2e['peak_rss_mb']:.0f} MB, "
              f"{e2e.get('tokens', 0) / e2e['seconds']:.0f} tokens/s")


if __name__ == "__main__":
    main()
