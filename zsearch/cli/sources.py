"""Source commands: ``ingest arxiv``, ``ingest pubmed``, ``ingest arxiv-dump``, ``ingest pubmed-xml``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from zsearch.cli import DB_OPTION_HELP, check_format, err, ingest_app
from zsearch.cli.core import open_library, print_ingest_summary, progress_bar
from zsearch.errors import UsageError

if TYPE_CHECKING:
    from zsearch.library import IngestReport

FORMAT_HELP = "Summary format: table (stderr) or json (stdout)."
RAY_HELP = ("Parse and embed as Ray tasks: ADDRESS is `local` (start Ray on this machine), `auto` "
            "(the cluster `ray start` joined here), HOST:PORT or ray://HOST:10001. Commits stay in this process.")
MAX_HELP = "Stop after N records (default: all)."


def parse_since(value: str | None) -> date | None:
    """``YYYY-MM-DD`` -> date; anything else is a UsageError."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since wants a date as YYYY-MM-DD, not {value!r}") from None


def _check_max(n: int | None) -> None:
    if n is not None and n < 1:
        raise UsageError("--max must be at least 1")


def _finish(report: IngestReport, fmt: str) -> None:
    print_ingest_summary(report, fmt)
    if report.exit_code:
        # SystemExit, not typer.Exit: with standalone_mode=False click *returns* a typer.Exit's
        # code from app(), and zsearch.cli.main does not pass that return value on
        raise SystemExit(report.exit_code)


@ingest_app.command("arxiv")
def ingest_arxiv(
    query: Optional[str] = typer.Argument(None, help='arXiv query, e.g. "cat:cs.CL AND ti:retrieval".'),
    ids: Optional[list[str]] = typer.Option(None, "--id", help="arXiv id (repeatable), e.g. 2401.01234 or hep-th/9901001v2."),
    max_results: Optional[int] = typer.Option(None, "--max", help=MAX_HELP),
    since: Optional[str] = typer.Option(None, "--since", help="Newest first; stop at papers submitted before YYYY-MM-DD."),
    full_text: bool = typer.Option(False, "--full-text", help="Also download each PDF and ingest its full text."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Ingest papers from the arXiv API (one request every 3 s, as arXiv asks).

    Versions of a paper collapse to one record (the latest; the version is kept). Papers
    already stored are matched by arXiv id or DOI and updated, never duplicated.
    Endpoint: $ZSEARCH_ARXIV_URL or `arxiv_url` in config.toml.

    Exit codes: 0 all stored, 1 some records failed (the rest stored), 7 arXiv failed.
    """
    check_format(fmt, ("table", "json"))
    if bool(query) == bool(ids):
        raise UsageError("give either a QUERY or one or more --id, not both" if query else "give a QUERY or --id ID")
    if ids and since:
        raise UsageError("--since applies to a QUERY, not to --id look-ups")
    _check_max(max_results)
    since_d = parse_since(since)
    from zsearch.sources.arxiv import ArxivSource, arxiv_client, with_full_text

    lib = open_library(db, lock="zsearch ingest arxiv")
    with arxiv_client() as client:
        src = ArxivSource(client, lib.settings.arxiv_url)
        items: Iterable[Any] = src.lookup(ids or []) if ids else src.search(query or "", max_results=max_results,
                                                                             since=since_d)
        if ids and max_results:
            items = _take_papers(items, max_results)
        if full_text:
            items = with_full_text(items, client, lib.home / "pdfs" / "arxiv")
        with progress_bar("ingest arxiv", max_results if not ids else len(ids), unit="records") as advance:
            report = lib.ingest_papers(items, progress=advance)
    _finish(report, fmt)


def _take_papers(items: Iterable[Any], n: int) -> Iterator[Any]:
    from zsearch.papers.model import Paper

    got = 0
    for x in items:
        yield x
        if isinstance(x, Paper):
            got += 1
            if got >= n:
                return


@ingest_app.command("pubmed")
def ingest_pubmed(
    query: str = typer.Argument(..., help='PubMed query, e.g. "crispr[ti] AND 2024[dp]".'),
    max_results: Optional[int] = typer.Option(None, "--max", help=MAX_HELP),
    since: Optional[str] = typer.Option(None, "--since", help="Only records added to PubMed on or after YYYY-MM-DD."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Ingest PubMed records through NCBI E-utilities (esearch + efetch, 3 requests/s; 10/s with a key).

    Searches with more than 10,000 hits are split by date so nothing is dropped.
    Config: $ZSEARCH_EUTILS_URL, $ZSEARCH_NCBI_API_KEY, $ZSEARCH_NCBI_EMAIL (or config.toml).

    Exit codes: 0 all stored, 1 some records failed (the rest stored), 7 PubMed failed.
    """
    check_format(fmt, ("table", "json"))
    _check_max(max_results)
    since_d = parse_since(since)
    from zsearch.sources.pubmed import PubmedSource, pubmed_client

    lib = open_library(db, lock="zsearch ingest pubmed")
    s = lib.settings
    if not s.ncbi_email:
        err.print("[yellow]note:[/] NCBI asks for a contact e-mail: set ZSEARCH_NCBI_EMAIL or ncbi_email in config.toml")
    with pubmed_client(api_key=s.ncbi_api_key) as client:
        src = PubmedSource(client, s.eutils_url, api_key=s.ncbi_api_key, email=s.ncbi_email)
        with progress_bar("ingest pubmed", max_results, unit="records") as advance:
            report = lib.ingest_papers(src.search(query, max_results=max_results, since=since_d), progress=advance)
    _finish(report, fmt)


@ingest_app.command("arxiv-dump")
def ingest_arxiv_dump(
    file: Path = typer.Argument(..., help="arXiv metadata snapshot (JSON lines, .json/.jsonl, plain or .gz)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS", help=RAY_HELP),
) -> None:
    """Ingest the arXiv metadata snapshot (Kaggle `arxiv-metadata-oai-snapshot.json`), streamed.

    Safe to interrupt and re-run: stored records are matched by arXiv id, unchanged ones are
    skipped without re-embedding. A malformed line is reported as FILE:LINE and skipped.
    With --ray the embedding runs as Ray tasks (docs/scale.md).
    """
    check_format(fmt, ("table", "json"))
    from zsearch.sources.dumps import read_arxiv_dump

    lib = open_library(db, lock="zsearch ingest arxiv-dump")
    with progress_bar("ingest arxiv-dump", None, unit="records") as advance:
        if ray:
            report = lib.ingest_on_ray("arxiv-dump", [file], ray, progress=advance)
        else:
            report = lib.ingest_papers(read_arxiv_dump(file), progress=advance)
    _finish(report, fmt)


@ingest_app.command("pubmed-xml")
def ingest_pubmed_xml(
    files: list[Path] = typer.Argument(..., help="PubMed baseline/update files (.xml or .xml.gz), applied in order."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS", help=RAY_HELP),
) -> None:
    """Ingest PubMed baseline and update files, streamed at constant memory.

    `<DeleteCitation>` entries remove those papers; a later file's version of a record
    replaces the earlier one. Give files in NLM's order (baseline, then updates).
    With --ray each file is parsed, and the papers embedded, as Ray tasks (docs/scale.md).
    """
    check_format(fmt, ("table", "json"))
    from zsearch.errors import NotFound
    from zsearch.sources.dumps import read_pubmed_files

    for f in files:
        if not f.is_file():
            raise NotFound(f"no such file: {f}")
    lib = open_library(db, lock="zsearch ingest pubmed-xml")
    with progress_bar("ingest pubmed-xml", None, unit="records") as advance:
        if ray:
            report = lib.ingest_on_ray("pubmed-xml", files, ray, progress=advance)
        else:
            report = lib.ingest_papers(read_pubmed_files(files), progress=advance)
    _finish(report, fmt)
