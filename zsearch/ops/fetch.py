"""One source of one saved search, fetched for a refresh: the first-run check, the fetch, and
whether its window was fully fetched and stored.

A source's window (from its last success, less the overlap, to now) counts as done only
when every record in it was fetched and stored. It is *incomplete*, and fetched again by the
next run from the same date, when

* a record failed: a full-text PDF that could not be downloaded or read, a record that could
  not be parsed (``failed``);
* a day held more records than PubMed's ESearch returns (10,000; ``capped``);
* ``--max`` cut the window short while it was walked newest first (arXiv with a start date,
  PubMed always), so older records of the window were never fetched (``max``). A first arXiv
  run without ``--since`` walks by relevance: its ``--max`` asks for the N most relevant, which
  is the whole of what was asked.

A first run (no success yet) whose query matches more than the first-run limit (50,000 by
default) stops before fetching anything (:class:`QueryTooBroad`): walking all of PubMed's
"cancer" one day at a time would take days and fill the disk.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from zsearch.errors import RecordError, UsageError, ZsearchError
from zsearch.ops.refresh_report import SourceResult
from zsearch.ops.watch import Watch

if TYPE_CHECKING:  # lower layers, named in annotations only
    from zsearch.config import Settings
    from zsearch.papers.model import Paper
    from zsearch.sources.http import PoliteClient

log = logging.getLogger("zsearch.ops.refresh")


class Ingested(Protocol):
    """The counts refresh reads from an ingest (the library's ``IngestReport`` has them)."""

    @property
    def added(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def failed(self) -> Sequence[tuple[str, str]]: ...


class Fetcher(Protocol):
    """What fetching needs of a library: the data directory (PDFs), the settings (endpoints,
    NCBI key) and the upsert every fetched paper goes through."""

    @property
    def home(self) -> Path: ...
    @property
    def settings(self) -> Settings: ...
    def ingest_papers(self, items: Iterable[Paper | RecordError]) -> Ingested: ...


class QueryTooBroad(UsageError):
    """A first refresh whose query matches more records than the first-run limit (exit 2: narrow the watch)."""


class Clients:
    """One rate-limited client per service for the whole run, so limits hold across searches."""

    def __init__(self, lib: Fetcher):
        self.settings = lib.settings
        self._arxiv: PoliteClient | None = None
        self._pubmed: PoliteClient | None = None

    def arxiv(self) -> "PoliteClient":
        if self._arxiv is None:
            from zsearch.sources.arxiv import arxiv_client

            self._arxiv = arxiv_client()
        return self._arxiv

    def pubmed(self) -> "PoliteClient":
        if self._pubmed is None:
            from zsearch.sources.pubmed import pubmed_client

            self._pubmed = pubmed_client(api_key=self.settings.ncbi_api_key)
        return self._pubmed

    def close(self) -> None:
        for c in (self._arxiv, self._pubmed):
            if c is not None:
                c.close()


def open_source(lib: Fetcher, clients: Clients, source: str) -> Any:
    """The :class:`~zsearch.sources.arxiv.ArxivSource` or :class:`~zsearch.sources.pubmed.PubmedSource` for ``source``."""
    s = lib.settings
    if source == "arxiv":
        from zsearch.sources.arxiv import ArxivSource

        return ArxivSource(clients.arxiv(), s.arxiv_url)
    if source == "pubmed":
        from zsearch.sources import pubmed

        # the cap read at call time: tests lower it to reach a capped day in a few requests
        return pubmed.PubmedSource(clients.pubmed(), s.eutils_url, api_key=s.ncbi_api_key, email=s.ncbi_email,
                                   cap=pubmed.ESEARCH_CAP)
    raise UsageError(f"unknown source {source!r}")


def source_items(lib: Fetcher, clients: Clients, watch: Watch, source: str, since: date | None,
                 src: Any = None) -> Iterable[Any]:
    """The Papers / RecordErrors ``source`` returns for ``watch`` since ``since`` (lazy)."""
    src = src if src is not None else open_source(lib, clients, source)
    items: Iterable[Any] = src.search(watch.query_for(source), max_results=watch.max_results, since=since)
    if source == "arxiv" and watch.full_text:
        from zsearch.sources.arxiv import with_full_text

        items = with_full_text(items, clients.arxiv(), lib.home / "pdfs" / "arxiv")
    return items


def matching(src: Any, source: str, query: str, since: date | None) -> int:
    """How many records ``query`` matches at ``source`` since ``since`` (one request)."""
    if source == "arxiv":
        return int(src.count(query, since=since))
    return int(src.esearch(query, mindate=since, maxdate=src.today if since else None)["count"])


def check_first_run(src: Any, source: str, watch: Watch, since: date | None, limit: int) -> int | None:
    """Raise :class:`QueryTooBroad` when a first run would fetch more than ``limit`` records.

    ``--max`` at or under the limit needs no count (nothing is asked); ``limit`` 0 checks
    nothing. Returns the count when one was made.
    """
    if limit <= 0 or (watch.max_results is not None and watch.max_results <= limit):
        return None
    query = watch.query_for(source)
    n = matching(src, source, query, since)
    if n > limit:
        window = f"since {since.isoformat()}" if since else "in all of its history"
        raise QueryTooBroad(
            f"{source} query {query!r} matches {n:,} records {window}, more than a first refresh "
            f"fetches ({limit:,})",
            hint=f"narrow it: `zsearch watch add {watch.name} --replace --since YYYY-MM-DD` or `--max N`, "
                 "or raise --first-run-limit ($ZSEARCH_REFRESH_FIRST_RUN_LIMIT)")
    return n


class _Guard:
    """Wraps a source: counts what it yields and stops cleanly (keeping the error) if it fails.

    The library then commits everything fetched before the failure and returns a full
    report, so the summary's counts are exact even for a source that broke half-way.
    """

    def __init__(self, items: Iterable[Any]):
        self.items = items
        self.fetched = 0
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[Any]:
        try:
            for x in self.items:
                self.fetched += 1
                yield x
        except ZsearchError as exc:
            self.error = exc
        except Exception as exc:  # a bug or an unexpected reply: report it, go on with the others
            log.exception("unexpected error while fetching")
            self.error = exc


def incomplete_reasons(src: Any, source: str, watch: Watch, since: date | None,
                       failed: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Why the window of ``source`` was not fully fetched and stored: ``[{"reason", "message"}]``."""
    out: list[dict[str, str]] = []
    capped = list(getattr(src, "capped", []) or [])
    if capped:
        cap = getattr(src, "cap", 0)
        out.append({"reason": "capped", "message": (
            f"{len(capped)} day(s) hold more than {cap:,} records, all PubMed returns for one search "
            f"({'; '.join(capped[:3])}{' …' if len(capped) > 3 else ''}): narrow the query")})
    n_failed = len([r for r, _ in failed if r not in capped])
    if n_failed:
        out.append({"reason": "failed", "message": f"{n_failed} record(s) failed (see failures): fetched again next run"})
    cut = False
    if watch.max_results is not None:
        if source == "arxiv":
            cut = bool(getattr(src, "truncated", False)) and since is not None  # newest first from `since`
        elif source == "pubmed":
            matched = getattr(src, "matched", None)
            cut = matched is not None and matched > watch.max_results
    if cut:
        matched = getattr(src, "matched", None)
        more = f" of {matched:,}" if matched else ""
        out.append({"reason": "max", "message": (
            f"cut short by --max {watch.max_results}{more}: older records of the window were not fetched; "
            f"raise --max or give a later --since (zsearch watch add {watch.name} --replace)")})
    return out


def refresh_source(lib: Fetcher, clients: Clients, watch: Watch, source: str, since: date | None, *,
                   first_run_limit: int = 0) -> SourceResult:
    """Fetch and upsert one source of one saved search; never raises for a source failure.

    ``first_run_limit`` > 0: this is a first run, checked by :func:`check_first_run` first.
    """
    res = SourceResult(source, watch.query_for(source), since.isoformat() if since else None)
    t0 = time.perf_counter()
    guard = _Guard(())
    src: Any = None
    try:
        src = open_source(lib, clients, source)
        check_first_run(src, source, watch, since, first_run_limit)
        guard = _Guard(source_items(lib, clients, watch, source, since, src))
        it = iter(guard)
        first = next(it, _END)
        if first is not _END:  # nothing new: the model is not even loaded
            rep = lib.ingest_papers(itertools.chain([first], it))
            res.added, res.updated, res.unchanged = rep.added, rep.updated, rep.unchanged
            res.failed = list(rep.failed)
    except QueryTooBroad as exc:
        res.error, res.refused = str(exc), True
    except ZsearchError as exc:
        res.error = str(exc)
    except Exception as exc:
        log.exception("%s/%s failed", watch.name, source)
        res.error = f"{exc.__class__.__name__}: {exc}"
    if guard.error is not None and res.error is None:
        res.error = str(guard.error)
    res.fetched = guard.fetched
    if res.error is None and src is not None:
        res.incomplete = incomplete_reasons(src, source, watch, since, res.failed)
    res.seconds = time.perf_counter() - t0
    return res


_END: Any = object()  # what next() returns for a source that yielded nothing
