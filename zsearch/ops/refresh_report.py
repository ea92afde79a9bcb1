"""What a refresh did: per source, per saved search and overall; its exit codes and recorded defaults.

Pure data (:mod:`zsearch.ops.refresh` fills it in): ``RefreshReport.to_dict()`` is the
``zsearch refresh --format json`` summary, ``RefreshReport.exit_code`` what the command
exits with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zsearch.store import versions

# Overlap with the last successful run, in days: arXiv's and PubMed's date filters work on
# whole days, and a record can appear with an earlier date than the moment it was fetched.
DEFAULT_OVERLAP_DAYS = 1.0
# Table versions older than this are pruned (zsearch.store.versions: LanceDB's own default, 7 days).
DEFAULT_PRUNE_DAYS = versions.DEFAULT_PRUNE_DAYS
# Versions younger than this are never pruned, whatever the age asked for (zsearch.store.versions).
DEFAULT_FLOOR_HOURS = versions.DEFAULT_FLOOR_HOURS
# Most records the first run of a source may fetch: a day of arXiv/PubMed at their polite
# rates and an hour or two of CPU embedding; PubMed's "cancer" (about 5 million) is refused.
DEFAULT_FIRST_RUN_LIMIT = 50_000
# Exit codes of a refresh (docs/cron.md), as the errors of the same meaning exit with.
EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_FAILED = 7  # as SourceError: nothing could be fetched
EXIT_REFUSED = 2  # as UsageError: every source's first run was refused as too broad (narrow the watch)
EXIT_BUSY = 75  # as LockBusy (EX_TEMPFAIL)


@dataclass
class SourceResult:
    """What one source of one saved search did."""

    source: str
    query: str
    since: str | None
    fetched: int = 0  # records the source returned (papers and unreadable records)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (record, reason)
    error: str | None = None  # the source itself failed (network, rejected query)
    refused: bool = False  # the error is a first run refused as too broad (zsearch.ops.fetch.QueryTooBroad)
    # why the window was not fully fetched and stored: [{"reason": failed|capped|max, "message"}]
    incomplete: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def complete(self) -> bool:
        """Everything in the window was fetched and stored: the window advances."""
        return self.ok and not self.incomplete and not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "since": self.since, "fetched": self.fetched, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged, "failed": len(self.failed),
                "failures": [{"record": r, "reason": why} for r, why in self.failed],
                "error": self.error, "complete": self.complete, "incomplete": [dict(r) for r in self.incomplete],
                "seconds": round(self.seconds, 3)}


@dataclass
class SearchResult:
    """One saved search's part of a refresh."""

    name: str
    sources: list[SourceResult] = field(default_factory=list)
    seconds: float = 0.0

    def _sum(self, attr: str) -> int:
        return sum(getattr(s, attr) for s in self.sources)

    @property
    def status(self) -> str:
        """``ok``, ``partial`` (something failed, something stored) or ``failed`` (every source failed)."""
        if self.sources and all(not s.ok for s in self.sources):
            return "failed"
        if any(not s.complete for s in self.sources):
            return "partial"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        failed = sum(len(s.failed) for s in self.sources)
        errors = [f"{s.source}: {s.error}" for s in self.sources if s.error]
        incomplete = [f"{s.source}: {r['message']}" for s in self.sources for r in s.incomplete]
        return {"status": self.status, "fetched": self._sum("fetched"), "added": self._sum("added"),
                "updated": self._sum("updated"), "unchanged": self._sum("unchanged"), "failed": failed,
                "errors": errors, "incomplete": incomplete, "seconds": round(self.seconds, 3),
                "sources": {s.source: s.to_dict() for s in self.sources}}


@dataclass
class RefreshReport:
    """What a refresh did: per saved search, and overall. ``to_dict()`` is the ``--format json`` summary."""

    searches: list[SearchResult] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0
    dry_run: bool = False
    overlap_days: float = DEFAULT_OVERLAP_DAYS
    prune_older_than_days: float = DEFAULT_PRUNE_DAYS
    prune_floor_hours: float = DEFAULT_FLOOR_HOURS
    first_run_limit: int = DEFAULT_FIRST_RUN_LIMIT
    optimized: bool = False
    pruned: dict[str, int] | None = None  # versions deleted per table
    papers: int | None = None  # papers in the database after the run
    table_version: int | None = None

    @property
    def status(self) -> str:
        if not self.searches or all(s.status == "ok" for s in self.searches):
            return "ok"
        if all(s.status == "failed" for s in self.searches):
            return "failed"
        return "partial"

    @property
    def exit_code(self) -> int:
        if self.status == "failed" and all(s.refused for r in self.searches for s in r.sources):
            return EXIT_REFUSED
        return {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}[self.status]

    def incomplete(self) -> list[dict[str, Any]]:
        """Every source whose window did not advance although it ran: ``[{search, source, since, reason, message}]``."""
        return [{"search": r.name, "source": s.source, "since": s.since, **x}
                for r in self.searches for s in r.sources for x in s.incomplete]

    def totals(self) -> dict[str, int]:
        out = {"fetched": 0, "added": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for s in self.searches:
            d = s.to_dict()
            for k in out:
                out[k] += d[k]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "exit_code": self.exit_code, "dry_run": self.dry_run,
                "started": self.started, "seconds": round(self.seconds, 3),
                "overlap_days": self.overlap_days, "prune_older_than_days": self.prune_older_than_days,
                "prune_floor_hours": self.prune_floor_hours, "first_run_limit": self.first_run_limit,
                "optimized": self.optimized, "pruned": self.pruned, "papers": self.papers,
                "table_version": self.table_version, "totals": self.totals(), "incomplete": self.incomplete(),
                "searches": {s.name: s.to_dict() for s in self.searches}}
