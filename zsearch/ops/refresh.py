"""``zsearch refresh``: bring every saved search up to date, safely, from cron or a script.

For each saved search (:mod:`zsearch.ops.watch`) and each of its sources, a refresh fetches what
is new since the last *successful* fetch of that source (less an overlap, so nothing at
the boundary is missed), upserts it through the library's ``ingest_papers`` (stored papers
whose content did not change are not re-embedded), then folds new rows into the indexes and
prunes table versions older than a configurable age. What refresh needs of a library is the
:class:`Refreshable` protocol below; the results it returns live in
:mod:`zsearch.ops.refresh_report`, with the overlap and prune defaults they record. The run is recorded per source only
when that source succeeded, so a failed or killed run is simply redone by the next one.

Why this is safe to run again, or to kill:

* papers are upserted by canonical id (``merge_insert``), so fetching a paper twice stores
  it once; a paper whose text did not change is counted ``unchanged`` and not re-embedded;
* LanceDB commits are atomic: a killed run leaves the last committed version, which opens
  and searches; rows of the batch it was writing are simply fetched again next time;
* ``refresh-state.json`` is replaced atomically and only after a source succeeded;
* one writer at a time: the run holds the database's writer lock (:mod:`zsearch.ops.lock`).

Exit codes (:attr:`~zsearch.ops.refresh_report.RefreshReport.exit_code`): 0 all ok; 1 partial (some sources or records
failed, the rest stored); 7 total failure (every source of every search failed);
75 another refresh (or other writer) holds the lock.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from zsearch.errors import RecordError, UsageError, ZsearchError
from zsearch.ops.lock import writer_lock
from zsearch.ops.refresh_report import (
    DEFAULT_OVERLAP_DAYS,
    DEFAULT_PRUNE_DAYS,
    RefreshReport,
    SearchResult,
    SourceResult,
)
from zsearch.ops.watch import Watch, Watches

if TYPE_CHECKING:  # lower layers, named in annotations only
    from zsearch.config import Settings
    from zsearch.papers.model import Paper
    from zsearch.sources.http import PoliteClient
    from zsearch.store.tables import Store

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


class Refreshable(Protocol):
    """What a refresh needs of a library (:class:`zsearch.library.Library` is one).

    Its data directory (``home``: the saved searches, the lock, downloaded PDFs), its
    ``settings`` (endpoints, NCBI key, the ``[refresh]`` table), its ``store`` (counts, and
    :func:`maintain`'s optimize and prune) and the upsert every fetched paper goes through.
    """

    @property
    def home(self) -> Path: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> Store: ...
    def ingest_papers(self, items: Iterable[Paper | RecordError]) -> Ingested: ...

# Attempts at an optimize that hits LanceDB's "retryable commit conflict" (another commit
# landed first); the wait doubles from RETRY_BASE seconds each time.
RETRY_ATTEMPTS = 5
RETRY_BASE = 0.5

T = TypeVar("T")


# -- settings -----------------------------------------------------------------------------------

def _setting(raw: dict[str, Any], key: str, env: str, default: float) -> float:
    """flag > ``ZSEARCH_*`` environment > ``[refresh]`` table of config.toml > default."""
    value: Any = os.environ.get(env) or raw.get("refresh", {}).get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key} must be a number of days, not {value!r} (from ${env} or config.toml)") from None


def overlap_days(raw: dict[str, Any], flag: float | None = None) -> float:
    """Days of overlap: ``--overlap`` > ``$ZSEARCH_REFRESH_OVERLAP_DAYS`` > ``[refresh] overlap_days``."""
    return flag if flag is not None else _setting(raw, "overlap_days", "ZSEARCH_REFRESH_OVERLAP_DAYS",
                                                  DEFAULT_OVERLAP_DAYS)


def prune_days(raw: dict[str, Any], flag: float | None = None) -> float:
    """Version age to prune: ``--prune-older-than`` > ``$ZSEARCH_REFRESH_PRUNE_DAYS`` > ``[refresh] prune_older_than_days``."""
    return flag if flag is not None else _setting(raw, "prune_older_than_days", "ZSEARCH_REFRESH_PRUNE_DAYS",
                                                  DEFAULT_PRUNE_DAYS)


def since_date(last_success: datetime | None, overlap: float, first_since: str | None) -> date | None:
    """The date a source is fetched from: last success less the overlap; else the watch's --since."""
    if last_success is None:
        return date.fromisoformat(first_since) if first_since else None
    return (last_success - timedelta(days=overlap)).date()


def is_commit_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is LanceDB's "Retryable commit conflict" (another commit landed first)."""
    msg = str(exc).lower()
    return "commit conflict" in msg or ("retryable" in msg and "conflict" in msg)


def retry_conflicts(fn: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS, base: float = RETRY_BASE,
                    sleep: Callable[[float], None] = time.sleep, what: str = "optimize") -> T:
    """Call ``fn``; on a retryable commit conflict wait ``base * 2**n`` seconds and try again."""
    for n in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if not is_commit_conflict(exc) or n == attempts - 1:
                raise
            log.warning("%s: %s; retrying in %.1fs", what, str(exc).splitlines()[0], base * 2**n)
            sleep(base * 2**n)
    raise AssertionError("unreachable")  # pragma: no cover


# -- fetching -----------------------------------------------------------------------------------

class _Clients:
    """One rate-limited client per service for the whole run, so limits hold across searches."""

    def __init__(self, lib: Refreshable):
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


def source_items(lib: Refreshable, clients: _Clients, watch: Watch, source: str, since: date | None) -> Iterable[Any]:
    """The Papers / RecordErrors ``source`` returns for ``watch`` since ``since`` (lazy)."""
    query = watch.query_for(source)
    s = lib.settings
    if source == "arxiv":
        from zsearch.sources.arxiv import ArxivSource, with_full_text

        items: Iterable[Any] = ArxivSource(clients.arxiv(), s.arxiv_url).search(
            query, max_results=watch.max_results, since=since)
        if watch.full_text:
            items = with_full_text(items, clients.arxiv(), lib.home / "pdfs" / "arxiv")
        return items
    if source == "pubmed":
        from zsearch.sources.pubmed import PubmedSource

        return PubmedSource(clients.pubmed(), s.eutils_url, api_key=s.ncbi_api_key, email=s.ncbi_email).search(
            query, max_results=watch.max_results, since=since)
    raise UsageError(f"unknown source {source!r}")


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


def refresh_source(lib: Refreshable, clients: _Clients, watch: Watch, source: str, since: date | None) -> SourceResult:
    """Fetch and upsert one source of one saved search; never raises for a source failure."""
    res = SourceResult(source, watch.query_for(source), since.isoformat() if since else None)
    t0 = time.perf_counter()
    guard = _Guard(())
    try:
        guard = _Guard(source_items(lib, clients, watch, source, since))
        it = iter(guard)
        first = next(it, _END)
        if first is not _END:  # nothing new: the model is not even loaded
            rep = lib.ingest_papers(itertools.chain([first], it))
            res.added, res.updated, res.unchanged = rep.added, rep.updated, rep.unchanged
            res.failed = list(rep.failed)
    except ZsearchError as exc:
        res.error = str(exc)
    except Exception as exc:
        log.exception("%s/%s failed", watch.name, source)
        res.error = f"{exc.__class__.__name__}: {exc}"
    if guard.error is not None and res.error is None:
        res.error = str(guard.error)
    res.fetched = guard.fetched
    res.seconds = time.perf_counter() - t0
    return res


_END: Any = object()  # what next() returns for a source that yielded nothing


def plan(settings: "Settings", names: list[str] | None = None, *, overlap: float | None = None) -> RefreshReport:
    """What a refresh would fetch (``--dry-run``): per search and source, the query and start date.

    Reads the saved searches and their state only: no lock, no network, no model.
    """
    watches = Watches(settings.home)
    ov = overlap_days(settings.raw, overlap)
    report = RefreshReport(dry_run=True, overlap_days=ov, prune_older_than_days=prune_days(settings.raw),
                           started=_now().isoformat(timespec="seconds"))
    for w in watches.select(names):
        sr = SearchResult(w.name)
        for source in w.sources:
            since = since_date(watches.last_success(w, source), ov, w.since)
            sr.sources.append(SourceResult(source, w.query_for(source), since.isoformat() if since else None))
        report.searches.append(sr)
    return report


def _now() -> datetime:
    return datetime.now(timezone.utc)


def refresh(
    lib: Refreshable,
    names: list[str] | None = None,
    *,
    overlap: float | None = None,
    prune_older_than: float | None = None,
    wait: float = 0.0,
    lock: bool = True,
) -> RefreshReport:
    """Refresh the saved searches ``names`` (all when None); see the module docstring.

    ``overlap``: days re-fetched before the last success (default 1, or config).
    ``prune_older_than``: days after which old table versions are deleted (default 7).
    ``wait``: seconds to wait for another writer's lock before :class:`LockBusy`.
    ``lock=False`` when the caller already holds the writer lock.
    """
    if lock:
        with writer_lock(lib.home, wait=wait, purpose="zsearch refresh"):
            return refresh(lib, names, overlap=overlap, prune_older_than=prune_older_than, lock=False)

    t0 = time.perf_counter()
    raw = lib.settings.raw
    ov = overlap_days(raw, overlap)
    prune = prune_days(raw, prune_older_than)
    if ov < 0 or prune < 0:
        raise UsageError("--overlap and --prune-older-than must be 0 or more days")
    watches = Watches(lib.home)
    selected = watches.select(names)
    report = RefreshReport(overlap_days=ov, prune_older_than_days=prune, started=_now().isoformat(timespec="seconds"))
    if not selected:
        log.warning("no saved searches in %s; add one with `zsearch watch add NAME --arxiv QUERY`", lib.home)
    clients = _Clients(lib)
    try:
        for w in selected:
            started = _now()
            t_search = time.perf_counter()
            sr = SearchResult(w.name)
            succeeded: dict[str, datetime] = {}
            for source in w.sources:
                since = since_date(watches.last_success(w, source), ov, w.since)
                log.info("%s/%s: fetching %r since %s", w.name, source, w.query_for(source),
                         since.isoformat() if since else "the beginning")
                fetch_started = _now()
                res = refresh_source(lib, clients, w, source, since)
                sr.sources.append(res)
                if res.ok:
                    succeeded[source] = fetch_started
                    log.info("%s/%s: fetched %d, added %d, updated %d, unchanged %d, failed %d (%.1fs)",
                             w.name, source, res.fetched, res.added, res.updated, res.unchanged,
                             len(res.failed), res.seconds)
                else:
                    log.error("%s/%s: %s (fetched %d, added %d before the failure)", w.name, source, res.error,
                              res.fetched, res.added)
                for record, why in res.failed:
                    log.warning("%s/%s: record %s failed: %s", w.name, source, record, why)
            sr.seconds = time.perf_counter() - t_search
            report.searches.append(sr)
            watches.record(w, status=sr.status, started=started, succeeded=succeeded, summary={
                k: v for k, v in sr.to_dict().items() if k != "sources"})
    finally:
        clients.close()
    report.optimized = maintain(lib, prune)
    st = lib.store
    report.papers = st.count() if st.exists else 0
    report.table_version = st.version()
    report.seconds = time.perf_counter() - t0
    log.info("refresh %s: %s in %.1fs", report.status, ", ".join(f"{k} {v}" for k, v in report.totals().items()),
             report.seconds)
    return report


def maintain(lib: Refreshable, prune_older_than_days: float) -> bool:
    """Fold new rows into the indexes and prune versions older than the given age.

    A no-op (no new table version) when the indexes are current and nothing is old enough
    to prune — so a refresh that fetched nothing changes nothing. Returns whether it ran.
    """
    st = lib.store
    if not st.exists:
        return False
    retry_conflicts(st.optimize, what="optimize")  # also creates the full-text index on first use
    age = timedelta(days=prune_older_than_days)
    tables = [st.papers]
    try:
        tables.append(st.chunks)
    except Exception:  # pragma: no cover - a database whose chunks table was never created
        log.warning("no chunks table in %s", lib.home)
    for tbl in tables:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lancedb warns about cleanup_older_than=0; we document it
            retry_conflicts(lambda t=tbl: t.optimize(cleanup_older_than=age), what=f"prune {tbl.name}")
    return True
