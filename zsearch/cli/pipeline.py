"""Pipeline commands: ``watch add|list|remove`` (saved searches) and ``refresh`` (for cron)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from zsearch.cli import DB_OPTION_HELP, app, check_format, err, plain, write_records

watch_app = typer.Typer(
    help="Saved searches: arXiv and/or PubMed queries that `zsearch refresh` keeps up to date.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")


@watch_app.command("add")
def watch_add(
    name: str = typer.Argument(..., help="A short name: letters, digits, '.', '_' or '-'."),
    arxiv: Optional[str] = typer.Option(None, "--arxiv", help='arXiv query, e.g. \'cat:cs.IR AND abs:"dense retrieval"\'.'),
    pubmed: Optional[str] = typer.Option(None, "--pubmed", help="PubMed query, e.g. 'crispr[ti] AND review[pt]'."),
    full_text: bool = typer.Option(False, "--full-text", help="Also download arXiv PDFs and embed their full text."),
    category: Optional[list[str]] = typer.Option(None, "--category", help="arXiv category (repeatable; any of them), e.g. cs.CL."),
    year_from: Optional[int] = typer.Option(None, "--year-from", help="Only papers from this year on (both sources)."),
    year_to: Optional[int] = typer.Option(None, "--year-to", help="Only papers up to this year (both sources)."),
    max_results: Optional[int] = typer.Option(None, "--max", help="At most N records per source per refresh (default: all new)."),
    since: Optional[str] = typer.Option(None, "--since", help="The first refresh starts from YYYY-MM-DD (default: everything)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a saved search of the same name."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Save a search; `zsearch refresh` then fetches what is new for it.

    Example: zsearch watch add retrieval --arxiv 'abs:"dense retrieval"' --category cs.IR --since 2025-01-01
    """
    from zsearch.config import resolve_home
    from zsearch.ops.watch import Watch, Watches

    w = Watch(name=name, arxiv=arxiv, pubmed=pubmed, full_text=full_text, categories=list(category or []),
              year_from=year_from, year_to=year_to, max_results=max_results, since=since)
    Watches(resolve_home(db)).add(w, replace=replace)
    err.print(plain(f"saved search {name!r}: " + "; ".join(f"{s} {w.query_for(s)!r}" for s in w.sources)),
              soft_wrap=True)


@watch_app.command("list")
def watch_list(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table, json, jsonl or csv."),
) -> None:
    """List saved searches with their queries and last refresh."""
    check_format(fmt)
    from zsearch.config import resolve_home
    from zsearch.ops.watch import Watches

    ws = Watches(resolve_home(db))
    state = ws.state()
    rows = []
    for w in ws.all():
        s = state.get(w.name, {})
        rows.append({**w.to_dict(), "arxiv_query": w.query_for("arxiv") if w.arxiv else None,
                     "pubmed_query": w.query_for("pubmed") if w.pubmed else None,
                     "last_run": s.get("last_run"), "last_status": s.get("last_status"),
                     "last_success": {src: v.get("last_success") for src, v in s.get("sources", {}).items()}})
    if fmt != "table":
        write_records(rows, fmt, columns=["name", "arxiv_query", "pubmed_query", "full_text", "max_results",
                                          "since", "last_run", "last_status"])
        return
    if not rows:
        err.print("no saved searches; add one with `zsearch watch add NAME --arxiv QUERY`")
        return
    from rich.table import Table

    from zsearch.cli import out

    table = Table(pad_edge=False)
    for col in ("name", "arXiv", "PubMed", "options", "last run", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        opts = ", ".join(x for x in (
            "full text" if r["full_text"] else "",
            f"max {r['max_results']}" if r["max_results"] else "",
            f"since {r['since']}" if r["since"] else "") if x)
        table.add_row(*(plain(x) for x in (r["name"], r["arxiv_query"] or "", r["pubmed_query"] or "", opts,
                                            (r["last_run"] or "never")[:19], r["last_status"] or "")))
    out.print(table)


@watch_app.command("remove")
def watch_remove(
    name: str = typer.Argument(..., help="The saved search to delete (its papers stay in the database)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Delete a saved search. The papers it brought in stay."""
    from zsearch.config import resolve_home
    from zsearch.ops.watch import Watches

    Watches(resolve_home(db)).remove(name)
    err.print(plain(f"removed saved search {name!r}"))


class _UTCFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="seconds")


def setup_logging(log_file: Optional[Path], quiet: bool) -> list[logging.Handler]:
    """Plain-text log lines (no colour, no bars: cron mails them) to stderr and, optionally, a file."""
    fmt = _UTCFormatter("%(asctime)s %(levelname)s %(message)s")
    handlers: list[logging.Handler] = []
    h = logging.StreamHandler(sys.stderr)
    h.setLevel(logging.WARNING if quiet else logging.INFO)
    handlers.append(h)
    if log_file is not None:
        log_file.expanduser().parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_file.expanduser(), encoding="utf-8")
        fh.setLevel(logging.INFO)
        handlers.append(fh)
    logger = logging.getLogger("zsearch.ops.refresh")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for x in handlers:
        x.setFormatter(fmt)
        logger.addHandler(x)
    return handlers


@app.command()
def refresh(
    names: Optional[list[str]] = typer.Argument(None, help="Saved searches to refresh (default: all)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table (summary on stderr) or json (one object on stdout)."),
    log_file: Optional[Path] = typer.Option(None, "--log-file", help="Also append the log to this file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be fetched, from which date; fetch nothing."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for another refresh to finish (default: exit 75 at once)."),
    overlap: Optional[float] = typer.Option(None, "--overlap", help="Days re-fetched before the last success (default 1; $ZSEARCH_REFRESH_OVERLAP_DAYS)."),
    prune_older_than: Optional[float] = typer.Option(None, "--prune-older-than", help="Delete table versions older than N days (default 7; $ZSEARCH_REFRESH_PRUNE_DAYS); never those younger than an hour, or pinned by a logged search."),
    first_run_limit: Optional[int] = typer.Option(None, "--first-run-limit", help="Refuse a first run whose query matches more records (default 50000; $ZSEARCH_REFRESH_FIRST_RUN_LIMIT; 0: no limit)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Log warnings and errors only (the log file still gets everything)."),
) -> None:
    """Fetch what is new for every saved search, upsert, index, prune, record. Safe to re-run.

    Runs twice in a row change nothing the second time; a killed run is finished by the next.
    One writer at a time: a second refresh waits --wait seconds, then exits 75.

    Exit codes: 0 all ok, 1 partial (some sources or records failed, the rest stored),
    7 every source failed, 75 another refresh holds the lock, 2 usage, 3 unknown search.
    """
    check_format(fmt, ("table", "json"))
    from zsearch.config import Settings
    from zsearch.errors import LockBusy
    from zsearch.ops.lock import writer_lock
    from zsearch.ops.refresh import plan
    from zsearch.ops.refresh import refresh as run_refresh

    handlers = setup_logging(log_file, quiet)
    try:
        settings = Settings.load(db)
        if dry_run:
            report = plan(settings, list(names or []), overlap=overlap)
        else:
            try:
                # take the lock before importing lancedb or loading the model: a busy run exits fast
                with writer_lock(settings.home, wait=wait, purpose="zsearch refresh"):
                    from zsearch.library import Library

                    lib = Library(settings)
                    report = run_refresh(lib, list(names or []), overlap=overlap,
                                         prune_older_than=prune_older_than, first_run_limit=first_run_limit,
                                         lock=False)
            except LockBusy as exc:
                logging.getLogger("zsearch.ops.refresh").error("%s", exc)
                if fmt == "json":
                    sys.stdout.write(json.dumps({"status": "busy", "exit_code": exc.exit_code, "error": str(exc)}) + "\n")
                    sys.stdout.flush()
                raise typer.Exit(exc.exit_code) from None
        if fmt == "json":
            sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            print_summary(report)
        raise typer.Exit(report.exit_code)
    finally:
        logger = logging.getLogger("zsearch.ops.refresh")
        for h in handlers:
            logger.removeHandler(h)
            h.close()


def print_summary(report) -> None:  # type: ignore[no-untyped-def]
    """One line per saved search on stderr (plain text: fine for cron mail)."""
    if report.dry_run:
        for s in report.searches:
            for src in s.sources:
                err.print(plain(f"{s.name}/{src.source}: would fetch {src.query!r} since {src.since or 'the beginning'}"),
                          soft_wrap=True)
        if not report.searches:
            err.print("no saved searches")
        return
    for s in report.searches:
        d = s.to_dict()
        err.print(plain(f"{s.name}: {d['status']}: fetched {d['fetched']}, added {d['added']}, updated {d['updated']}, "
                        f"unchanged {d['unchanged']}, failed {d['failed']} ({d['seconds']:.1f}s)"), soft_wrap=True)
        for e in d["errors"]:
            err.print(plain(f"  error: {e}"), soft_wrap=True)
    t = report.totals()
    err.print(f"refresh {report.status}: added {t['added']}, updated {t['updated']}, unchanged {t['unchanged']}; "
              f"{report.papers} papers in the database ({report.seconds:.1f}s)")
