"""Core commands: ``ingest pdf``, ``search``, ``show``, ``stats``."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from zsearch.cli import DB_OPTION_HELP, app, check_format, err, ingest_app, line, plain, show_progress, write_records
from zsearch.cli.serve import logging_asked, search_body, via_service

if TYPE_CHECKING:
    from zsearch.library import IngestReport, Library

# --engine (zsearch.embedding.engine): which runtime embeds; the vectors are the same either way
ENGINE_HELP = ("Embedding runtime: auto (ONNX Runtime on the CPU for minilm, else torch), torch, onnx or onnx-int8 "
               "(default: $ZSEARCH_ENGINE, the `engine` setting, else auto).")


def open_library(db: Optional[Path], model: Optional[str] = None, *, lock: str | None = None,
                 wait: float | None = None, dim: int | None = None, max_tokens: int | None = None,
                 device: str | None = None, create: bool | None = None, engine: str | None = None) -> "Library":
    """Open the database; ``lock="zsearch ingest …"`` also holds the writer lock until the command ends.

    Writers (ingest, refresh) take turns: a second one waits ``wait`` seconds (default
    ``$ZSEARCH_LOCK_WAIT``, else 0), then exits 75. Searches never take the lock.
    """
    import os

    from zsearch.library import Library

    # only writers create a database; a read command on a path with none exits 3 (not found)
    create = bool(lock) if create is None else create
    lib = Library.open(db, model=model, dim=dim, max_tokens=max_tokens, device=device, create=create, engine=engine)
    if lock:
        from zsearch.cli import command_resources
        from zsearch.ops.lock import writer_lock

        if wait is None:
            wait = float(os.environ.get("ZSEARCH_LOCK_WAIT", "0") or 0)
        command_resources.enter_context(writer_lock(lib.home, wait=wait, purpose=lock))
    return lib


@contextlib.contextmanager
def progress_bar(label: str, total: int | None, unit: str = "papers") -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr with items/s and tokens/s; silent when not a terminal."""
    if not show_progress():
        yield lambda n, tokens: None
        return
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    t0 = time.perf_counter()
    state = {"tokens": 0, "done": 0}
    cols = [
        TextColumn("{task.description}", style="bold", markup=False),  # the label may hold a user's path or model
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*cols, console=err, transient=False) as prog:
        task = prog.add_task(label, total=total, rate="")

        def advance(n: int, tokens: int) -> None:
            state["done"] += n
            state["tokens"] += tokens
            dt = max(time.perf_counter() - t0, 1e-9)
            prog.update(task, advance=n, rate=f"{state['done'] / dt:.1f} {unit}/s · {state['tokens'] / dt:,.0f} tok/s")

        yield advance


def print_ingest_summary(report: "IngestReport", fmt: str = "table") -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    err.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}"
        + (f", deleted {report.deleted}" if report.deleted else "")
        + f", failed {len(report.failed)} in {report.seconds:.1f}s"
    )
    for record, reason in report.failed:
        err.print(line("  ", ("failed", "red"), f" {record}: {reason}"), soft_wrap=True)


@ingest_app.command("pdf")
def ingest_pdf(
    paths: list[Path] = typer.Argument(..., help="PDF files or folders (searched recursively)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    model: Optional[str] = typer.Option(None, "--model", help="Embedding model for a new database (default: minilm; see `zsearch models`)."),
    dim: Optional[int] = typer.Option(None, "--dim", help="Output dimension for a new database, from those the model offers."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Context to embed a paper whole in (default: the model's)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1, … (default: every GPU, else the CPU)."),
    engine: Optional[str] = typer.Option(None, "--engine", help=ENGINE_HELP),
    fmt: str = typer.Option("table", "--format", help="Summary format: table (stderr) or json (stdout)."),
    wait: Optional[float] = typer.Option(None, "--wait", help="Seconds to wait if another ingest or refresh is writing (default $ZSEARCH_LOCK_WAIT or 0)."),
    log: Optional[Path] = typer.Option(None, "--log", help="Append a record of this run to a search log (JSONL)."),
    review: Optional[Path] = typer.Option(None, "--review", help="Review directory: every run is logged there (default $ZSEARCH_REVIEW_DIR)."),
    ocr: bool = typer.Option(True, "--ocr/--no-ocr", help="Read pages without a text layer with Tesseract, when it is installed (one line per OCR'd file on stderr)."),
) -> None:
    """Ingest PDFs: extract text and metadata, embed, store.

    Unchanged files are skipped (content hash); a changed file updates its paper. A broken,
    encrypted or scanned PDF is named with its reason and the batch goes on.

    Exit codes: 0 all files stored, 1 some files failed (the others are stored),
    75 another ingest or refresh is writing to this database.
    """
    check_format(fmt, ("table", "json"))
    from zsearch.sources.pdf.reader import iter_pdf_paths

    files = list(iter_pdf_paths(paths))
    lib = open_library(db, model, lock="zsearch ingest pdf", wait=wait, dim=dim, max_tokens=max_tokens, device=device,
                       engine=engine)
    with progress_bar("ingest pdf", len(files)) as advance:
        report = lib.ingest_pdfs(files, progress=advance, ocr=ocr)
    from zsearch.review.searchlog import log_run

    what = " ".join(str(p) for p in paths)
    log_run("ingest pdf", query=what, lib=lib, sources=[{"database": "pdf", "query": what, "count": len(files)}],
            counts=report.to_dict(), ids=report.ids, log=log, review_dir=review)
    print_ingest_summary(report, fmt)
    raise typer.Exit(report.exit_code)


def hit_records(hits: list[Any]) -> list[dict[str, Any]]:
    return [h.to_dict() for h in hits]


def short_id(pid: str) -> str:
    """``sha256:`` ids shortened to 16 hex digits for tables; `zsearch show` accepts the prefix."""
    return pid[: len("sha256:") + 16] if pid.startswith("sha256:") else pid


def render_hits(hits: list[Any]) -> None:
    from rich.table import Table

    from zsearch.cli import out

    table = Table(show_lines=False, pad_edge=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column("score", justify="right")
    table.add_column("year", justify="right")
    table.add_column("title", overflow="fold", ratio=1)
    table.add_column("id", style="cyan", no_wrap=True)
    for h in hits:
        table.add_row(str(h.rank), f"{h.score:.4f}", str(h.year or ""), plain(h.title or "(untitled)"),
                      plain(short_id(h.id)))
    out.print(table)


SEARCH_COLUMNS = ["rank", "score", "id", "year", "title", "authors", "doi", "url", "source"]


@app.command()
def search(
    query: Optional[str] = typer.Argument(None, help="A research question or keywords (or use --queries)."),
    k: int = typer.Option(10, "-k", "--k", help="Number of results."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table (for people), json, jsonl or csv (stdout only)."),
    rerank: Optional[str] = typer.Option(
        None, "--rerank", help="Rerank with a cross-encoder: zerank-1-small, zerank-1, zerank-2, a hub name or a "
        "local path (default: the `rerank` setting; 'none' turns it off)."),
    rerank_top: int = typer.Option(50, "--rerank-top", help="How many fused candidates the reranker re-orders."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid (default), dense (vectors only) or bm25 (full text only)."),
    year: Optional[str] = typer.Option(None, "--year", help="Publication year or range: 2021, 2019..2024, 2019.., ..2010."),
    source: Optional[list[str]] = typer.Option(None, "--source", help="Only papers from arxiv, pubmed or pdf (repeat or comma-separate)."),
    category: Optional[list[str]] = typer.Option(
        None, "--category", help="arXiv category (cs.CL) or MeSH heading ('Carcinoma, Hepatocellular'), as stored; "
        "repeat for several (any of them). Commas split only arXiv categories: cs.IR,cs.CL."),
    author: Optional[list[str]] = typer.Option(None, "--author", help="Part of an author's name, any case; % and _ are "
                                               "plain characters (repeatable)."),
    since: Optional[str] = typer.Option(None, "--since", help="Added to the library or published on/after YYYY-MM-DD."),
    queries: Optional[str] = typer.Option(None, "--queries", help="Run one query per line of FILE ('-' = stdin; JSONL lines may set id, k, filters); the model loads once; writes JSONL."),
    log: Optional[Path] = typer.Option(None, "--log", help="Append a record of this search to a search log (JSONL)."),
    review: Optional[Path] = typer.Option(None, "--review", help="Review directory: every run is logged there (default $ZSEARCH_REVIEW_DIR)."),
    no_service: bool = typer.Option(False, "--no-service", help="Run in this process even when a zsearch service is up for the database."),
    engine: Optional[str] = typer.Option(None, "--engine", help=ENGINE_HELP),
) -> None:
    """Hybrid search: dense vectors + BM25 full text, fused; optional cross-encoder rerank.

    Filters are applied before ranking (prefilters), so they never drop a paper that matches.

    Example: zsearch search "citation-informed transformers" --year 2019..2024 --format json | jq '.[0].id'
    """
    check_format(fmt)
    if query is None and queries is None:  # a usage error before the database is looked for (exit 2)
        from zsearch.errors import UsageError

        raise UsageError("give a query, or --queries FILE")
    if query is not None and queries is None and not logging_asked(log, review):
        body = search_body(query, db=db, k=k, mode=mode, rerank=rerank, rerank_top=rerank_top, year=year,
                           source=source, category=category, author=author, since=since)
        reply = via_service(db, "POST", "/api/search", body, no_service=no_service) if body else None
        if reply is not None:  # the service answered: print what the in-process path prints
            if fmt == "json":
                sys.stdout.write(reply.text)
                sys.stdout.flush()
                return
            from zsearch.papers.model import Hit

            hits = [Hit(**d) for d in reply.json()]
            if fmt == "table":
                render_hits(hits)
            else:
                write_records(hit_records(hits), fmt, columns=SEARCH_COLUMNS)
            return
    from zsearch.search.config import rerank_choice
    from zsearch.search.filters import Filters
    filters = Filters.build(year=year, source=source, category=category, author=author, since=since)
    lib = open_library(db, engine=engine)
    name = rerank_choice(rerank, lib.settings.rerank)
    config = lib.default_config().replace(mode=mode, rerank=name or None)
    if queries is not None:
        from zsearch.search.batch import run_queries_file

        raise typer.Exit(run_queries_file(lib, queries, k=k, fmt=fmt, filters=filters, config=config,
                                          rerank_top=rerank_top).exit_code)
    assert query is not None  # checked above
    hits = lib.search(query, k=k, filters=filters, config=config, rerank_top=rerank_top)
    from zsearch.review.searchlog import log_run

    where = filters.where() if filters else None
    log_run("search", query=query, lib=lib, ids=[h.id for h in hits], params={"k": k, "mode": mode, "rerank": name},
            filters=({"where": where} if where else {}), log=log, review_dir=review)
    if fmt == "table":
        render_hits(hits)
    else:
        write_records(hit_records(hits), fmt, columns=SEARCH_COLUMNS)


@app.command()
def show(
    paper_id: str = typer.Argument(..., help="A paper id as search prints it (arxiv:…, pmid:…, doi:…, sha256:…)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    full_text: bool = typer.Option(False, "--full-text", help="Also print the full text."),
    no_service: bool = typer.Option(False, "--no-service", help="Run in this process even when a zsearch service is up for the database."),
) -> None:
    """Show one paper: metadata, abstract, and where it came from."""
    check_format(fmt, ("table", "json"))
    from zsearch.serve.client import paper_path

    reply = via_service(db, "GET", paper_path(paper_id, full_text=full_text), no_service=no_service)
    if reply is not None:
        if fmt == "json":
            sys.stdout.write(reply.text)
            return
        from zsearch.papers.model import Paper

        p = Paper(**reply.json())
    else:
        lib = open_library(db)
        p = lib.get(paper_id)
        d = p.to_dict()
        if not full_text:
            d.pop("full_text")
        if fmt == "json":
            sys.stdout.write(json.dumps(d, ensure_ascii=False, indent=2) + "\n")
            return
    from zsearch.cli import out

    # every field is the source's text: printed as Text, never parsed as rich markup
    out.print(plain(p.title or "(untitled)", "bold"))
    out.print(line((p.id, "cyan"), f"  {p.year or ''}  sources: {', '.join(p.sources)}"))
    if p.authors:
        out.print(plain(", ".join(p.authors)))
    for label, value in (("doi", p.doi), ("arXiv", p.arxiv_id), ("PMID", p.pmid), ("url", p.url), ("file", p.path)):
        if value:
            out.print(plain(f"{label}: {value}"))
    if p.categories:
        out.print(plain("categories: " + ", ".join(p.categories)))
    if p.abstract:
        out.print()
        out.print(plain(p.abstract))
    if full_text and p.full_text:
        out.print()
        out.print(plain(p.full_text))


@app.command()
def stats(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    no_service: bool = typer.Option(False, "--no-service", help="Run in this process even when a zsearch service is up for the database."),
) -> None:
    """Papers by source, passages, model, size on disk (does not load the model)."""
    check_format(fmt, ("table", "json"))
    from zsearch.config import Settings

    reply = via_service(db, "GET", "/api/stats", no_service=no_service)
    if reply is not None:
        s = reply.json()
        s["database"] = str(Settings.load(db).home)  # the path as given, as the in-process path prints it
    else:
        from zsearch.library import Library

        s = Library(Settings.load(db), create=False).stats()
    if fmt == "json":
        sys.stdout.write(json.dumps(s, indent=2) + "\n")
        return
    from zsearch.cli import out

    out.print(plain(f"database   {s['database']}"))
    out.print(f"papers     {s['papers']}")
    for src, n in s["by_source"].items():
        out.print(plain(f"  {src:<9}{n}"))
    out.print(f"passages   {s['chunks']}")
    if s.get("papers"):
        out.print(f"sentences  {s.get('sentence_vectors', 0)} of {s['papers']} papers have sentence vectors")
    out.print(plain(f"model      {s['model'] or '(none yet)'}" + (f" ({s['dim']} dims)" if s.get("dim") else "")))
    out.print(f"version    {s['table_version'] if s['table_version'] is not None else '-'}")
    out.print(f"on disk    {s['disk_bytes'] / 1e6:.1f} MB")
