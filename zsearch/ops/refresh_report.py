"""What a refresh did: per source, per saved search and overall; its exit codes and recorded defaults.

Pure data (:mod:`zsearch.ops.refresh` fills it in): ``RefreshReport.to_dict()`` is the
``zsearch refresh --format json`` summary, ``RefreshReport.exit_code`` what the command
exits with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Overlap with the last successful run, in days: arXiv's and PubMed's date filters work on
# whole days, and a record can appear with an earlier date than the moment it was fetched.
DEFAULT_OVERLAP_DAYS = 1.0
# Table versions older than this are pruned: LanceDB's own default for cleanup (7 days),
# long enough that no search or export still reads them.
DEFAULT_PRUNE_DAYS = 7.0
# Exit codes of a refresh (docs/cron.md), as the errors of the same meaning exit with.
EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_FAILED = 7  # as SourceError: nothing could be fetched
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
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "since": self.since, "fetched": self.fetched, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged, "failed": len(self.failed),
                "failures": [{"record": r, "reason": why} for r, why in self.failed],
                "error": self.error, "seconds": round(self.seconds, 3)}


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
        if any(not s.ok or s.failed for s in self.sources):
            return "partial"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        failed = sum(len(s.failed) for s in self.sources)
        errors = [f"{s.source}: {s.error}" for s in self.sources if s.error]
        return {"status": self.status, "fetched": self._sum("fetched"), "added": self._sum("added"),
                "updated": self._sum("updated"), "unchanged": self._sum("unchanged"), "failed": failed,
                "errors": errors, "seconds": round(self.seconds, 3),
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
    optimized: bool = False
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
        return {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}[self.status]

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
                "optimized": self.optimized, "papers": self.papers, "table_version": self.table_version,
                "totals": self.totals(), "searches": {s.name: s.to_dict() for s in self.searches}}
