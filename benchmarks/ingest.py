"""Ingest throughput: PDF text extraction, end-to-end ingest, and embedding vs a plain baseline.

Measures, in one run and on one machine:

* text extraction alone (``zsearch.sources.pdf.text.extract_pages``: layout-ordered text with
  headers dropped and hyphens mended) in pages/s, next to PyMuPDF's plain
  ``page.get_text()`` over the same pages as a baseline;
* end-to-end ingest of the shared PDFs and of SciFact's 5,183 abstracts into a temporary
  database (``Library.ingest_pdfs`` / ``Library.ingest_papers``): papers/s and tokens/s;
* the embedding throughput of ``Embedder.encode_documents`` over SciFact's texts, as a
  ratio to a plain ``SentenceTransformer(path).encode(texts)`` of the same texts with the
  same weights (target: >= 1.0); best of ``--repeats`` alternating runs each;
* the cost of the sentence stage (zsearch.papers.sentences): end-to-end ingest of the same
  SciFact abstracts with sentence vectors switched off and on, alternating runs into fresh
  databases; the ratio on/off is what the sentence stage adds to an ingest;
* ``endtoend`` (the issue-14 target): a whole ingest of the SciFact abstracts (paper vectors,
  sentence vectors, indexes, commits) into a fresh database, alternating in the same loop with
  a plain ``SentenceTransformer.encode`` of the same papers' texts; papers/s over texts/s, best
  of ``--repeats`` each, wall-clock and by CPU time (all threads of this process);
* with ``--baseline-src DIR``: the same whole ingest by another zsearch tree (a worktree of the
  commit issue 14 measured, 8671859), in a subprocess alternating with the others, so the
  "at least double today's rate" fallback is a same-run ratio;
* peak RSS of the process after each stage;
* with ``--ocr``: OCR pages/s (``zsearch.sources.pdf.ocr``, Tesseract) through ``read_pdf``,
  on the shared scans and on ``--ocr-pages`` pages of the shared papers rendered to 200 dpi
  greyscale images (image-only PDFs, as a scanner writes them), with the CPU cores used.

    python benchmarks/ingest.py [--data ../shared/data] [--limit N] [--repeats 2] [--json]
    python benchmarks/ingest.py --stages extraction --ocr [--ocr-pages 12]

``--limit N`` takes the first N SciFact abstracts (and N PDFs) for a quick run.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zsearch.errors import RecordError
from zsearch.papers.model import Paper
from zsearch.sources.pdf.layout import import_pymupdf
from zsearch.sources.pdf.reader import iter_pdf_paths
from zsearch.sources.pdf.text import extract_pages

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STAGES = ("extraction", "pdfs", "scifact", "embedding", "sentences", "endtoend")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scifact_papers(corpus: Path, limit: int | None) -> list[Paper]:
    """SciFact's corpus as Papers (id ``scifact:<doc id>``, source ``beir``)."""
    out = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            out.append(Paper(id=f"scifact:{d['_id']}", source="beir", title=d["title"], abstract=d["text"]))
            if limit and len(out) >= limit:
                break
    return out


def bench_extraction(pdfs: list[Path]) -> dict[str, Any]:
    """pages/s of extract_pages, and of PyMuPDF's plain get_text() over the same files."""
    pymupdf = import_pymupdf()  # the same import as zsearch's (no ONNX layout model)

    pages = chars = 0
    failed = 0
    readable: list[Path] = []
    t0 = time.perf_counter()
    for p in pdfs:
        try:
            texts = extract_pages(p)
        except RecordError:
            failed += 1
            continue
        readable.append(p)
        pages += len(texts)
        chars += sum(len(t) for t in texts)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain_pages = 0
    for p in readable:
        with pymupdf.open(p) as doc:
            for page in doc:
                page.get_text()
                plain_pages += 1
    t_plain = time.perf_counter() - t0
    return {
        "files": len(pdfs),
        "unreadable": failed,
        "pages": pages,
        "chars": chars,
        "seconds": t_ours,
        "pages_per_s": pages / t_ours if t_ours else 0.0,
        "plain_get_text_pages_per_s": plain_pages / t_plain if t_plain else 0.0,
    }


def bench_ocr(pdf_dir: Path, n_pages: int) -> dict[str, Any]:
    """OCR pages/s through ``read_pdf`` (render, Tesseract, text layer, layout) on two sets.

    ``scans``: the shared scans without a text layer; ``rendered``: the first pages of the
    shared papers (acl_anthology, open_access_biomed) as 200 dpi greyscale JPEG page images,
    ``n_pages`` pages in files of up to four pages, so pages of one file run side by side.
    """
    import os

    from zsearch.sources.pdf import ocr
    from zsearch.sources.pdf.reader import read_pdf

    if ocr.tesseract() is None:
        return {"error": "Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)"}
    pymupdf = import_pymupdf()
    out: dict[str, Any] = {"cpu_cores": os.cpu_count(), "dpi": ocr.DPI}
    with tempfile.TemporaryDirectory(prefix="zsearch-bench-ocr-") as tmp:
        rendered: list[Path] = []
        sources = sorted((pdf_dir / "acl_anthology").glob("*.pdf")) + sorted((pdf_dir / "open_access_biomed").glob("*.pdf"))
        left = n_pages
        for src in sources:
            if left <= 0:
                break
            with pymupdf.open(src) as doc, pymupdf.open() as scan:
                for page in list(doc)[: min(4, left)]:
                    pix = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
                    new = scan.new_page(width=page.rect.width, height=page.rect.height)
                    new.insert_image(new.rect, stream=pix.tobytes("jpeg"))
                left -= scan.page_count
                rendered.append(Path(tmp) / f"{src.stem}-scan.pdf")
                scan.save(rendered[-1])
        for name, files in (("scans", sorted((pdf_dir / "scanned_no_text_layer").glob("*.pdf"))), ("rendered", rendered)):
            pages = 0
            t0, cpu0 = time.perf_counter(), _cpu_seconds()
            for f in files:
                pages += len(read_pdf(f).extra.get("ocr_pages", []))
            dt, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
            # CPU seconds (this process and its Tesseract processes) per page: what a busy machine
            # does not distort, unlike pages/s
            out[name] = {"files": len(files), "pages": pages, "seconds": dt, "pages_per_s": pages / dt if dt else 0.0,
                         "cpu_s_per_page": cpu / pages if pages else 0.0}
    return out


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_ingest(lib: Any, items: Any, n_label: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    report = items(lib)
    dt = time.perf_counter() - t0
    papers = report.added + report.updated + report.unchanged
    return {
        "what": n_label,
        "papers": papers,
        "failed": len(report.failed),
        "tokens": report.tokens,
        "seconds": dt,
        "papers_per_s": papers / dt if dt else 0.0,
        "tokens_per_s": report.tokens / dt if dt else 0.0,
    }


def bench_embedding(emb: Any, texts: list[str], repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` seconds for zsearch's encode_documents and a plain encode()."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from zsearch.embedding.profiles import bundled_model_path

    plain = SentenceTransformer(bundled_model_path(), device=emb.devices[0])
    warm = texts[:64]
    plain.encode(warm)
    emb.encode_documents(warm)
    t_plain, t_ours, cpu_plain, cpu_ours = [], [], [], []
    v_plain = v_ours = None
    for _ in range(repeats):  # alternate, so load from other processes hits both alike
        t0, c0 = time.perf_counter(), time.process_time()
        v_plain = plain.encode(texts)
        t_plain.append(time.perf_counter() - t0)
        cpu_plain.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        v_ours = emb.encode_documents(texts)
        t_ours.append(time.perf_counter() - t0)
        cpu_ours.append(time.process_time() - c0)
    assert v_plain is not None and v_ours is not None
    a = v_plain / np.linalg.norm(v_plain, axis=1, keepdims=True)
    min_cos = float(np.min(np.sum(a * v_ours, axis=1)))
    tokens = sum(min(n + 2, emb.max_tokens) for n in emb.count_tokens(texts))
    best_plain, best_ours = min(t_plain), min(t_ours)
    return {
        "texts": len(texts),
        "tokens": tokens,
        "plain_seconds": best_plain,
        "zsearch_seconds": best_ours,
        "plain_texts_per_s": len(texts) / best_plain,
        "zsearch_texts_per_s": len(texts) / best_ours,
        "zsearch_tokens_per_s": tokens / best_ours,
        "ratio": best_plain / best_ours,
        "min_cosine_vs_plain": min_cos,
        "runs_plain": t_plain,
        "runs_zsearch": t_ours,
        # CPU seconds of this process: less sensitive to other processes on a shared machine
        "cpu_seconds_plain": min(cpu_plain),
        "cpu_seconds_zsearch": min(cpu_ours),
        "ratio_cpu": min(cpu_plain) / min(cpu_ours),
    }


def bench_sentences(emb: Any, papers: list[Paper], repeats: int) -> dict[str, Any]:
    """Best-of-``repeats`` ingest seconds of ``papers`` without and with sentence vectors."""
    from dataclasses import replace

    from zsearch.library import Library

    profile = emb.profile
    runs: dict[bool, list[float]] = {False: [], True: []}
    rows = {}
    try:
        for _ in range(repeats):
            for on in (False, True):
                with tempfile.TemporaryDirectory(prefix="zsearch-bench-s-") as tmp:
                    lib = Library.open(Path(tmp) / "db", engine=emb.engine)
                    emb.profile = replace(profile, sentences=on)
                    lib.store.ensure(emb.model_id, emb.dim)
                    lib._embedder = emb  # the loaded model, not a second copy
                    t0 = time.perf_counter()
                    lib.ingest_papers(papers)
                    runs[on].append(time.perf_counter() - t0)
                    rows[on] = lib.store.sentence_coverage()[0]
    finally:
        emb.profile = profile
    off, on = min(runs[False]), min(runs[True])
    return {"papers": len(papers), "seconds_off": off, "seconds_on": on, "ratio_on_off": on / off,
            "papers_with_sentences": rows[True], "runs_off": runs[False], "runs_on": runs[True]}


# A whole ingest by another zsearch tree (run with PYTHONPATH and cwd set to it): the first
# argv[2] abstracts of the corpus argv[1], model loaded first; prints its seconds.
BASELINE_INGEST = """
import json, sys, tempfile, time
from pathlib import Path
from zsearch.library import Library
try:
    from zsearch.papers.model import Paper
except ImportError:  # before the re-lay (issue 12)
    from zsearch.papers import Paper
corpus, n = sys.argv[1], int(sys.argv[2])
with open(corpus, encoding="utf-8") as fh:
    recs = [json.loads(line) for line, _ in zip(fh, range(n))]
papers = [Paper(id=f"scifact:{r['_id']}", source="beir", title=r["title"], abstract=r["text"]) for r in recs]
with tempfile.TemporaryDirectory() as tmp:
    lib = Library.open(Path(tmp) / "db")
    lib.embedder.encode_documents([p.title for p in papers[:64]])
    t0, c0 = time.perf_counter(), time.process_time()
    lib.ingest_papers(papers)
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def baseline_ingest(src: Path, corpus: Path, n: int) -> dict[str, float]:
    """Seconds (wall, CPU) of :data:`BASELINE_INGEST` in the tree ``src``."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    r = subprocess.run([sys.executable, "-c", BASELINE_INGEST, str(corpus), str(n)], env=env, cwd=src,
                       capture_output=True, text=True, timeout=7200)
    if r.returncode:
        raise SystemExit(f"the baseline ingest failed: {r.stderr[-1500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_endtoend(emb: Any, papers: list[Paper], repeats: int, baseline: tuple[Path, Path] | None = None) -> dict[str, Any]:
    """Whole ingests of ``papers`` and plain encodes of their texts, alternating (best of ``repeats``);
    with ``baseline`` (tree, corpus), whole ingests by that tree too."""
    from sentence_transformers import SentenceTransformer

    from zsearch.embedding.profiles import bundled_model_path
    from zsearch.library import Library

    texts = [p.document_text for p in papers]
    plain = SentenceTransformer(bundled_model_path(), device=emb.devices[0])
    plain.encode(texts[:64])
    emb.encode_documents(texts[:64])
    wall: dict[str, list[float]] = {"plain": [], "ingest": []}
    cpu: dict[str, list[float]] = {"plain": [], "ingest": []}
    sizes, pruned, base = [], [], []
    for _ in range(repeats):
        if baseline:
            base.append(baseline_ingest(baseline[0], baseline[1], len(papers)))
        t0, c0 = time.perf_counter(), time.process_time()
        plain.encode(texts)
        wall["plain"].append(time.perf_counter() - t0)
        cpu["plain"].append(time.process_time() - c0)
        with tempfile.TemporaryDirectory(prefix="zsearch-bench-e2e-") as tmp:
            lib = Library.open(Path(tmp) / "db", engine=emb.engine)
            lib.store.ensure(emb.model_id, emb.dim)
            lib._embedder = emb  # the loaded model, not a second copy
            t0, c0 = time.perf_counter(), time.process_time()
            report = lib.ingest_papers(papers)
            wall["ingest"].append(time.perf_counter() - t0)
            cpu["ingest"].append(time.process_time() - c0)
            assert report.added == len(papers), report.to_dict()
            sizes.append(du(Path(tmp) / "db"))
            lib.store.maintain(0, timedelta(0))  # what pruning leaves once the versions pass the 1-hour floor
            pruned.append(du(Path(tmp) / "db"))
    n = len(papers)
    extra: dict[str, Any] = {"tokens": tokens_read(emb, plain, papers, texts)}
    if base:
        best = min(b["seconds"] for b in base)
        extra |= {"baseline_papers_per_s": n / best, "ratio_to_baseline": best / min(wall["ingest"]),
                 "ratio_to_baseline_cpu": min(b["cpu"] for b in base) / min(cpu["ingest"]), "baseline_runs": base}
    return {**extra, "papers": n, "late_sentences": bool(emb.late_sentences),
            "plain_texts_per_s": n / min(wall["plain"]), "ingest_papers_per_s": n / min(wall["ingest"]),
            "ratio": min(wall["plain"]) / min(wall["ingest"]), "ratio_cpu": min(cpu["plain"]) / min(cpu["ingest"]),
            "bytes_per_paper": min(sizes) / n, "bytes_per_paper_pruned": min(pruned) / n, "runs": wall, "cpu_runs": cpu}


def tokens_read(emb: Any, plain: Any, papers: list[Paper], texts: list[str]) -> dict[str, int]:
    """Tokens each side feeds its model, special tokens included, padding not: what bounds the ratio.

    The plain encode reads each text once, cut at the model's ``max_seq_length``. The ingest
    reads each abstract as its paper vector (cut the same way: ``Embedder.token_ids``) and then
    every title and abstract sentence on its own (zsearch.papers.sentences), the whole abstract.
    """
    from zsearch.papers.sentences import paper_sentences

    separate = emb.sentence_vectors and not emb.late_sentences  # late pooling reads no sentence on its own
    sentences = [s for p in papers for s in paper_sentences(p.title, p.abstract, p.full_text)] if separate else []
    cut = {"truncation": True, "max_length": plain.max_seq_length}
    plain_n = sum(len(x) for x in plain.tokenizer(texts, **cut)["input_ids"])
    paper_n = sum(len(x) for x in emb.token_ids(texts))
    sent_n = sum(len(x) for x in emb.token_ids(sentences)) if sentences else 0
    return {"plain": plain_n, "paper_pass": paper_n, "sentence_pass": sent_n, "sentences": len(sentences)}


def du(path: Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--limit", type=int, default=None, help="first N SciFact abstracts and N PDFs only")
    ap.add_argument("--repeats", type=int, default=2, help="alternating runs of each encoder (best counts)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    ap.add_argument("--engine", default=None, help="auto (default), torch, onnx or onnx-int8 (zsearch.embedding.engine)")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="endtoend: also time a whole ingest by this zsearch tree (e.g. a worktree of 8671859)")
    ap.add_argument("--ocr", action="store_true", help="also measure OCR pages/s (needs Tesseract)")
    ap.add_argument("--ocr-pages", type=int, default=12, help="pages of the shared papers rendered to images for --ocr")
    args = ap.parse_args(argv)
    stages = set(args.stages.split(","))
    if stages - set(STAGES):
        ap.error(f"unknown stage(s) {', '.join(sorted(stages - set(STAGES)))}; choose from {', '.join(STAGES)}")

    pdf_dir = args.data / "pdfs"
    corpus = args.data / "beir" / "scifact" / "corpus.jsonl"
    for p in (pdf_dir, corpus):
        if not p.exists():
            print(f"error: {p} not found (pass --data)", file=sys.stderr)
            return 2
    pdfs = list(iter_pdf_paths([pdf_dir]))[: args.limit]
    results: dict[str, Any] = {"rss_mb": {}}

    if args.ocr:
        log(f"OCR of the shared scans and of {args.ocr_pages} rendered pages")
        results["ocr"] = bench_ocr(pdf_dir, args.ocr_pages)
        results["rss_mb"]["after_ocr"] = peak_rss_mb()

    if "extraction" in stages:
        log(f"text extraction of {len(pdfs)} PDFs")
        results["extraction"] = bench_extraction(pdfs)
        results["rss_mb"]["after_extraction"] = peak_rss_mb()

    if not stages - {"extraction"}:
        results["peak_rss_mb"] = peak_rss_mb()
        results["device"] = "cpu"
        results["limit"] = args.limit
        results["model_load_seconds"] = 0.0
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print_table(results)
        return 0

    from zsearch.library import Library

    with tempfile.TemporaryDirectory(prefix="zsearch-bench-") as tmp:
        lib = Library.open(Path(tmp) / "db", engine=args.engine)
        log("loading the model")
        t0 = time.perf_counter()
        emb = lib.embedder  # load the model outside the timed ingest
        results["model_load_seconds"] = time.perf_counter() - t0
        results["rss_mb"]["after_model_load"] = peak_rss_mb()

        if "pdfs" in stages:
            log(f"ingesting {len(pdfs)} PDFs")
            results["ingest_pdfs"] = bench_ingest(lib, lambda lib: lib.ingest_pdfs(pdfs), "PDFs")
            results["rss_mb"]["after_ingest_pdfs"] = peak_rss_mb()

        papers = scifact_papers(corpus, args.limit)
        if "scifact" in stages:
            log(f"ingesting {len(papers)} SciFact abstracts")
            results["ingest_scifact"] = bench_ingest(lib, lambda lib: lib.ingest_papers(papers), "SciFact abstracts")
            results["rss_mb"]["after_ingest_scifact"] = peak_rss_mb()

        if "embedding" in stages:
            texts = [p.document_text for p in papers]
            log(f"embedding {len(texts)} texts, zsearch vs plain, {args.repeats} run(s) each")
            results["embedding"] = bench_embedding(emb, texts, args.repeats)
            results["rss_mb"]["after_embedding"] = peak_rss_mb()

        if "endtoend" in stages:
            log(f"{len(papers)} SciFact abstracts: whole ingest vs plain encode, {args.repeats} run(s) each")
            results["endtoend"] = bench_endtoend(emb, papers, args.repeats,
                                                 (args.baseline_src, corpus) if args.baseline_src else None)
            results["rss_mb"]["after_endtoend"] = peak_rss_mb()

        if "sentences" in stages:
            log(f"ingesting {len(papers)} SciFact abstracts without and with sentence vectors")
            results["sentences"] = bench_sentences(emb, papers, args.repeats)
            results["rss_mb"]["after_sentences"] = peak_rss_mb()
    results["peak_rss_mb"] = peak_rss_mb()
    results["device"] = emb.devices[0]
    results["engine"] = emb.engine
    results["limit"] = args.limit
    if "ingest_scifact" in results and "embedding" in results:
        # end to end (head vector, sentences, indexes, commits) against a plain encode of the same texts
        results["ingest_scifact_ratio_to_plain_encode"] = (
            results["ingest_scifact"]["papers_per_s"] / results["embedding"]["plain_texts_per_s"])

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0


def print_table(r: dict[str, Any]) -> None:
    rows = []
    if "extraction" in r:
        ex = r["extraction"]
        rows.append(
            (
                "text extraction",
                f"{ex['pages']} pages / {ex['files']} files ({ex['unreadable']} cannot be opened)",
                f"{ex['pages_per_s']:.1f} pages/s",
                f"plain get_text(): {ex['plain_get_text_pages_per_s']:.1f} pages/s",
            )
        )
    if "ingest_pdfs" in r:
        ip = r["ingest_pdfs"]
        rows.append(
            (
                "ingest PDFs",
                f"{ip['papers']} papers, {ip['failed']} failed, {ip['tokens']} tokens",
                f"{ip['papers_per_s']:.2f} papers/s",
                f"{ip['tokens_per_s']:.0f} tokens/s",
            )
        )
    if "ingest_scifact" in r:
        isf = r["ingest_scifact"]
        rows.append(
            (
                "ingest SciFact",
                f"{isf['papers']} papers, {isf['tokens']} tokens",
                f"{isf['papers_per_s']:.1f} papers/s",
                f"{isf['tokens_per_s']:.0f} tokens/s",
            )
        )
    if "embedding" in r:
        em = r["embedding"]
        rows.append(
            (
                "embedding",
                f"{em['texts']} texts, {em['tokens']} tokens",
                f"zsearch {em['zsearch_texts_per_s']:.1f} texts/s",
                f"plain {em['plain_texts_per_s']:.1f} texts/s",
            )
        )
        rows.append(
            (
                "embedding ratio",
                "zsearch / plain SentenceTransformer.encode",
                f"{em['ratio']:.2f}x",
                f"by CPU time {em['ratio_cpu']:.2f}x; min cosine {em['min_cosine_vs_plain']:.5f}",
            )
        )
    if "ingest_scifact_ratio_to_plain_encode" in r:
        rows.append(("ingest ratio", "SciFact end to end / plain SentenceTransformer.encode",
                     f"{r['ingest_scifact_ratio_to_plain_encode']:.2f}x", "same texts, same run"))
    if "endtoend" in r:
        ee = r["endtoend"]
        rows.append(("ingest end to end", f"{ee['papers']} SciFact abstracts, sentences "
                     f"{'late-pooled' if ee['late_sentences'] else 'separate'}; {ee['bytes_per_paper'] / 1024:.2f} KB/paper as ingested, "
                     f"{ee['bytes_per_paper_pruned'] / 1024:.2f} KB with old versions pruned",
                     f"{ee['ingest_papers_per_s']:.1f} papers/s vs plain {ee['plain_texts_per_s']:.1f} texts/s",
                     f"ratio {ee['ratio']:.2f}x, by CPU time {ee['ratio_cpu']:.2f}x"))
        if "tokens" in ee:
            tk = ee["tokens"]
            rows.append(("tokens read", f"plain {tk['plain']}; ingest: paper pass {tk['paper_pass']} + "
                         f"{tk['sentences']} sentences {tk['sentence_pass']}",
                         f"{(tk['paper_pass'] + tk['sentence_pass']) / tk['plain']:.2f}x plain's",
                         "specials in, padding out (what bounds the ratio)"))
        if "ratio_to_baseline" in ee:
            rows.append(("ingest vs --baseline-src", "the same whole ingest by the baseline tree, same run",
                         f"{ee['ingest_papers_per_s']:.1f} vs {ee['baseline_papers_per_s']:.1f} papers/s",
                         f"{ee['ratio_to_baseline']:.2f}x its rate, by CPU time {ee['ratio_to_baseline_cpu']:.2f}x "
                         "(issue 14's fallback: >= 2.0x)"))
    if "sentences" in r:
        se = r["sentences"]
        rows.append(
            (
                "sentence stage",
                f"ingest {se['papers']} abstracts, sentence vectors off / on",
                f"{se['seconds_off']:.1f} s / {se['seconds_on']:.1f} s",
                f"on/off {se['ratio_on_off']:.2f}x",
            )
        )
    if "ocr" in r:
        oc = r["ocr"]
        for name in ("scans", "rendered"):
            if name in oc:
                rows.append((f"OCR {name}", f"{oc[name]['pages']} pages / {oc[name]['files']} files, {oc['cpu_cores']} cores",
                             f"{oc[name]['pages_per_s']:.2f} pages/s",
                             f"{oc[name]['seconds']:.1f} s; {oc[name]['cpu_s_per_page']:.1f} CPU s/page"))
        if "error" in oc:
            rows.append(("OCR", oc["error"], "", ""))
    if r["model_load_seconds"]:
        rows.append(("model load", "", f"{r['model_load_seconds']:.1f} s", ""))
    rows.append(
        (
            "peak RSS",
            "",
            f"{r['peak_rss_mb']:.0f} MiB",
            " ".join(f"{k.replace('after_', '')} {v:.0f}" for k, v in r["rss_mb"].items()),
        )
    )
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    print(f"device: {r['device']}, engine: {r.get('engine', 'torch')}" + (f"   (--limit {r['limit']})" if r["limit"] else ""))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    raise SystemExit(main())
