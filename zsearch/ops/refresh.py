"""``zsearch refresh``: bring every saved search up to date, safely, from cron or a script.

For each saved search (:mod:`zsearch.ops.watch`) and each of its sources, a refresh fetches what
is new since the last *complete* fetch of that source (less an overlap, so nothing at the
boundary is missed), upserts it through the library's ``ingest_papers`` (stored papers whose
content did not change are not re-embedded), then folds new rows into the indexes and prunes
table versions older than a configurable age, never younger than a floor and never a pinned
one (:mod:`zsearch.store.versions`). What refresh needs of a library is the
:class:`Refreshable` protocol below; one source's fetch, and what makes its window complete,
is :mod:`zsearch.ops.fetch`; the results live in :mod:`zsearch.ops.refresh_report`.

A source's window advances only when everything in it was fetched and stored: a failed
record, a capped PubMed day or a ``--max`` cut leave it where it was, so the next run fetches
it again, and the run reports it (``incomplete``, exit 1). A first run whose query matches
more than the first-run limit fetches nothing and says how to narrow it.

Why this is safe to run again, or to kill:

* papers are upserted by canonical id (``merge_insert``), so fetching a paper twice stores
  it once; a paper whose text did not change is counted ``unchanged`` and not re-embedded;
* LanceDB commits are atomic: a killed run leaves the last committed version, which opens
  and searches; rows of the batch it was writing are simply fetched again next time;
* ``refresh-state.json`` is replaced atomically and a window advances only after its source
  completed;
* one writer at a time: the run holds the database's writer lock (:mod:`zsearch.ops.lock`).

Exit codes (:attr:`~zsearch.ops.refresh_report.RefreshReport.exit_code`): 0 all ok; 1 partial
(some sources or records failed, or a window was incomplete; the rest stored); 7 total failure
(every source of every search failed); 2 every source refused as too broad for a first run;
75 another refresh (or other writer) holds the lock.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from zsearch.errors import RecordError, UsageError
from zsearch.ops.fetch import Clients, Ingested, refresh_source
from zsearch.ops.lock import writer_lock
from zsearch.ops.refresh_report import (
    DEFAULT_FIRST_RUN_LIMIT,
    DEFAULT_OVERLAP_DAYS,
    RefreshReport,
    SearchResult,
    SourceResult,
)
from zsearch.ops.watch import Watches
from zsearch.store import versions

if TYPE_CHECKING:  # lower layers, named in annotations only
    from zsearch.config import Settings
    from zsearch.papers.model import Paper
    from zsearch.store.tables import Store

log = logging.getLogger("zsearch.ops.refresh")

__all__ = ["RefreshReport", "SearchResult", "SourceResult", "Refreshable", "refresh", "plan", "maintain",
           "since_date", "retry_conflicts", "is_commit_conflict", "overlap_days", "prune_days", "first_run_records"]


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

def _setting(raw: dict[str, Any], key: str, env: str, default: float, unit: str = "days") -> float:
    """flag > ``ZSEARCH_*`` environment > ``[refresh]`` table of config.toml > default."""
    value: Any = os.environ.get(env) or raw.get("refresh", {}).get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key} must be a number of {unit}, not {value!r} (from ${env} or config.toml)") from None


def overlap_days(raw: dict[str, Any], flag: float | None = None) -> float:
    """Days of overlap: ``--overlap`` > ``$ZSEARCH_REFRESH_OVERLAP_DAYS`` > ``[refresh] overlap_days``."""
    return flag if flag is not None else _setting(raw, "overlap_days", "ZSEARCH_REFRESH_OVERLAP_DAYS",
                                                  DEFAULT_OVERLAP_DAYS)


def prune_days(raw: dict[str, Any], flag: float | None = None) -> float:
    """Version age to prune: ``--prune-older-than`` > ``$ZSEARCH_REFRESH_PRUNE_DAYS`` > ``[refresh] prune_older_than_days``."""
    return versions.prune_days(raw, flag)


def first_run_records(raw: dict[str, Any], flag: int | None = None) -> int:
    """Most records a first run fetches: ``--first-run-limit`` > ``$ZSEARCH_REFRESH_FIRST_RUN_LIMIT`` >
    ``[refresh] first_run_limit`` > 50,000; 0 means no limit."""
    n = flag if flag is not None else _setting(raw, "first_run_limit", "ZSEARCH_REFRESH_FIRST_RUN_LIMIT",
                                               DEFAULT_FIRST_RUN_LIMIT, "records")
    if n < 0 or int(n) != n:
        raise UsageError(f"the first-run limit must be a whole number of records, 0 or more, not {n}")
    return int(n)


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


def plan(settings: "Settings", names: list[str] | None = None, *, overlap: float | None = None) -> RefreshReport:
    """What a refresh would fetch (``--dry-run``): per search and source, the query and start date.

    Reads the saved searches and their state only: no lock, no network, no model.
    """
    watches = Watches(settings.home)
    ov = overlap_days(settings.raw, overlap)
    report = RefreshReport(dry_run=True, overlap_days=ov, prune_older_than_days=prune_days(settings.raw),
                           prune_floor_hours=versions.floor_hours(settings.raw),
                           first_run_limit=first_run_records(settings.raw), started=_now().isoformat(timespec="seconds"))
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
    first_run_limit: int | None = None,
    wait: float = 0.0,
    lock: bool = True,
) -> RefreshReport:
    """Refresh the saved searches ``names`` (all when None); see the module docstring.

    ``overlap``: days re-fetched before the last success (default 1, or config).
    ``prune_older_than``: days after which old table versions are deleted (default 7, or
    config; never younger than the floor, ``[refresh] prune_floor_hours``, default 1 hour).
    ``first_run_limit``: most records a source's first run may fetch (default 50,000, or config; 0: no limit).
    ``wait``: seconds to wait for another writer's lock before :class:`LockBusy`.
    ``lock=False`` when the caller already holds the writer lock.
    """
    if lock:
        with writer_lock(lib.home, wait=wait, purpose="zsearch refresh"):
            return refresh(lib, names, overlap=overlap, prune_older_than=prune_older_than,
                           first_run_limit=first_run_limit, lock=False)

    t0 = time.perf_counter()
    raw = lib.settings.raw
    ov = overlap_days(raw, overlap)
    prune = prune_days(raw, prune_older_than)
    if ov < 0 or prune < 0:
        raise UsageError("--overlap and --prune-older-than must be 0 or more days")
    floor = versions.floor_hours(raw)
    limit = first_run_records(raw, first_run_limit)
    watches = Watches(lib.home)
    selected = watches.select(names)
    report = RefreshReport(overlap_days=ov, prune_older_than_days=prune, prune_floor_hours=floor,
                           first_run_limit=limit, started=_now().isoformat(timespec="seconds"))
    if not selected:
        log.warning("no saved searches in %s; add one with `zsearch watch add NAME --arxiv QUERY`", lib.home)
    clients = Clients(lib)
    try:
        for w in selected:
            started = _now()
            t_search = time.perf_counter()
            sr = SearchResult(w.name)
            completed: dict[str, datetime] = {}
            incomplete: dict[str, list[str]] = {}
            for source in w.sources:
                last = watches.last_success(w, source)
                since = since_date(last, ov, w.since)
                log.info("%s/%s: fetching %r since %s", w.name, source, w.query_for(source),
                         since.isoformat() if since else "the beginning")
                fetch_started = _now()
                res = refresh_source(lib, clients, w, source, since, first_run_limit=limit if last is None else 0)
                sr.sources.append(res)
                if res.ok:
                    log.info("%s/%s: fetched %d, added %d, updated %d, unchanged %d, failed %d (%.1fs)",
                             w.name, source, res.fetched, res.added, res.updated, res.unchanged,
                             len(res.failed), res.seconds)
                else:
                    log.error("%s/%s: %s (fetched %d, added %d before the failure)", w.name, source, res.error,
                              res.fetched, res.added)
                for record, why in res.failed:
                    log.warning("%s/%s: record %s failed: %s", w.name, source, record, why)
                if res.complete:
                    completed[source] = fetch_started  # the window advances
                elif res.ok:
                    incomplete[source] = [r["message"] for r in res.incomplete]
                    for r in res.incomplete:
                        log.warning("%s/%s: incomplete, fetched again next run from %s: %s", w.name, source,
                                    res.since or "the beginning", r["message"])
            sr.seconds = time.perf_counter() - t_search
            report.searches.append(sr)
            watches.record(w, status=sr.status, started=started, succeeded=completed, incomplete=incomplete,
                           summary={k: v for k, v in sr.to_dict().items() if k != "sources"})
    finally:
        clients.close()
    report.pruned = maintain(lib, prune, timedelta(hours=floor))
    report.optimized = report.pruned is not None
    st = lib.store
    report.papers = st.count() if st.exists else 0
    report.table_version = st.version()
    report.seconds = time.perf_counter() - t0
    log.info("refresh %s: %s in %.1fs", report.status, ", ".join(f"{k} {v}" for k, v in report.totals().items()),
             report.seconds)
    return report


def maintain(lib: Refreshable, prune_older_than_days: float, floor: timedelta | None = None) -> dict[str, int] | None:
    """Fold new rows into the indexes and prune versions older than the given age (never younger
    than ``floor``, default: as configured; never a pinned one).

    A no-op (no new table version) when the indexes are current and nothing is old enough
    to prune — so a refresh that fetched nothing changes nothing. Returns ``{table: versions
    deleted}``, or None when there is no database yet.
    """
    st = lib.store
    if not st.exists:
        return None
    if floor is None:
        floor = timedelta(hours=versions.floor_hours(lib.settings.raw))
    # also creates the full-text index on first use
    return retry_conflicts(lambda: st.maintain(prune_older_than_days, floor), what="optimize")
