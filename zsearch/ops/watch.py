"""Saved searches ("watches") and the record of their refreshes, kept in the database directory.

``<database>/watches.json`` holds the definitions (``zsearch watch add|remove`` write it);
``<database>/refresh-state.json`` holds, per watch and source, when the last complete
fetch started — the start of the next one's window — and, for a source whose last run left
part of its window behind, why (only ``zsearch refresh`` writes it, under the writer lock). Both are
written atomically (a temporary file, fsync, rename), so a reader or a killed writer never
sees half a file.

A source's state is tied to a fingerprint of its query: edit a watch's query (remove and
add it again) and its next refresh starts from the beginning instead of "since last time".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound, UsageError
from zsearch.ops.lock import file_lock

WATCHES_FILE = "watches.json"
STATE_FILE = "refresh-state.json"
FILE_VERSION = 1
SOURCES = ("arxiv", "pubmed")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Watch:
    """A saved search: an arXiv query and/or a PubMed query, with filters applied to both."""

    name: str
    arxiv: str | None = None  # arXiv API query syntax, e.g. 'cat:cs.IR AND abs:"dense retrieval"'
    pubmed: str | None = None  # PubMed query syntax, e.g. 'crispr[ti]'
    full_text: bool = False  # also download arXiv PDFs and embed their full text
    categories: list[str] = field(default_factory=list)  # arXiv categories (any of them)
    year_from: int | None = None
    year_to: int | None = None
    max_results: int | None = None  # cap per source per run (None: everything new)
    since: str | None = None  # ISO date the first run starts from (None: the source's whole history)
    created: str = ""

    def __post_init__(self) -> None:
        check_name(self.name)
        self.arxiv = (self.arxiv or "").strip() or None
        self.pubmed = (self.pubmed or "").strip() or None
        if not self.arxiv and not self.pubmed:
            raise UsageError(f"watch {self.name!r} needs --arxiv QUERY, --pubmed QUERY or both")
        if self.max_results is not None and self.max_results < 1:
            raise UsageError("--max must be at least 1")
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise UsageError(f"--year-from {self.year_from} is after --year-to {self.year_to}")
        if self.since:
            try:
                date.fromisoformat(self.since)
            except ValueError:
                raise UsageError(f"--since wants a date as YYYY-MM-DD, not {self.since!r}") from None
        if self.categories and not self.arxiv:
            raise UsageError("--category filters the arXiv query; give --arxiv QUERY too")
        self.categories = [c.strip() for c in self.categories if c.strip()]

    @property
    def sources(self) -> list[str]:
        """The sources this watch fetches from, in the order a refresh visits them."""
        return [s for s in SOURCES if getattr(self, s)]

    def query_for(self, source: str) -> str:
        """The query sent to ``source``, filters folded in."""
        if source == "arxiv":
            return arxiv_query(self.arxiv or "", self.categories, self.year_from, self.year_to)
        if source == "pubmed":
            return pubmed_term(self.pubmed or "", self.year_from, self.year_to)
        raise UsageError(f"unknown source {source!r}")

    def fingerprint(self, source: str) -> str:
        """Changes when what ``source`` is asked changes (query, filters, full text)."""
        key = json.dumps([source, self.query_for(source), self.full_text and source == "arxiv"])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Watch":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name or ""):
        raise UsageError(
            f"bad watch name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def arxiv_query(query: str, categories: list[str] | None = None, year_from: int | None = None,
                year_to: int | None = None) -> str:
    """Fold filters into an arXiv query: ``(q) AND (cat:a OR cat:b) AND submittedDate:[… TO …]``.

    The date range uses the API's ``submittedDate:[YYYYMMDDhhmm TO YYYYMMDDhhmm]`` syntax
    (https://info.arxiv.org/help/api/user-manual.html, section 5.1).
    """
    parts = [query.strip()]
    cats = [c for c in (categories or []) if c]
    if cats:
        parts.append("(" + " OR ".join(f"cat:{c}" for c in cats) + ")" if len(cats) > 1 else f"cat:{cats[0]}")
    if year_from or year_to:
        lo = f"{year_from or 1991}01010000"  # arXiv opened in August 1991
        hi = f"{year_to or 9999}12312359"
        parts.append(f"submittedDate:[{lo} TO {hi}]")
    if len(parts) == 1:
        return parts[0]
    return " AND ".join([f"({parts[0]})", *parts[1:]])


def pubmed_term(term: str, year_from: int | None = None, year_to: int | None = None) -> str:
    """Fold a year range into a PubMed term: ``(t) AND 2020:2024[dp]`` (publication date)."""
    term = term.strip()
    if not (year_from or year_to):
        return term
    lo = year_from or 1000
    hi = year_to or 3000
    return f"({term}) AND {lo}:{hi}[dp]"


# -- files -----------------------------------------------------------------------------------

def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


class Watches:
    """The saved searches of one database directory."""

    def __init__(self, home: str | os.PathLike[str]):
        self.home = Path(home).expanduser()
        self.path = self.home / WATCHES_FILE
        self.state_path = self.home / STATE_FILE

    # -- definitions -----------------------------------------------------------------------
    def all(self) -> list[Watch]:
        """Every saved search, sorted by name."""
        data = _read_json(self.path).get("watches", {})
        return [Watch.from_dict({**d, "name": n}) for n, d in sorted(data.items())]

    def get(self, name: str) -> Watch:
        for w in self.all():
            if w.name == name:
                return w
        raise NotFound(f"no saved search named {name!r}", hint="`zsearch watch list` shows them")

    def select(self, names: list[str] | None) -> list[Watch]:
        """The watches named (in that order), or all of them when ``names`` is empty."""
        if not names:
            return self.all()
        return [self.get(n) for n in dict.fromkeys(names)]

    def add(self, watch: Watch, *, replace: bool = False) -> Watch:
        """Save ``watch``; an existing name is a UsageError unless ``replace``."""
        if not watch.created:
            watch.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with file_lock(self.home / ".watches.lock"):
            data = _read_json(self.path)
            ws = data.setdefault("watches", {})
            if watch.name in ws and not replace:
                raise UsageError(f"a saved search named {watch.name!r} exists",
                                 hint="remove it first, or pass --replace")
            d = watch.to_dict()
            d.pop("name")
            ws[watch.name] = d
            data["version"] = FILE_VERSION
            atomic_write_json(self.path, data)
        return watch

    def remove(self, name: str) -> Watch:
        """Delete a saved search (its papers stay in the database)."""
        with file_lock(self.home / ".watches.lock"):
            data = _read_json(self.path)
            ws = data.get("watches", {})
            if name not in ws:
                raise NotFound(f"no saved search named {name!r}", hint="`zsearch watch list` shows them")
            w = Watch.from_dict({**ws.pop(name), "name": name})
            atomic_write_json(self.path, data)
        return w

    # -- refresh state ------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """``{watch: {"sources": {source: {"fingerprint", "last_success", …}}, "last_run", …}}``."""
        return _read_json(self.state_path).get("watches", {})

    def last_success(self, watch: Watch, source: str) -> datetime | None:
        """When the last successful fetch of ``source`` for ``watch`` started (None: never)."""
        s = self.state().get(watch.name, {}).get("sources", {}).get(source)
        if not s or s.get("fingerprint") != watch.fingerprint(source) or not s.get("last_success"):
            return None
        return datetime.fromisoformat(s["last_success"])

    def record(self, watch: Watch, *, status: str, started: datetime, succeeded: dict[str, datetime],
               summary: dict[str, Any], incomplete: dict[str, list[str]] | None = None) -> None:
        """Record one refresh of ``watch``; ``succeeded`` maps each source whose window was fully
        fetched and stored to the time its fetch started (its window advances to there).

        ``incomplete`` maps each source that ran but left part of its window behind to the
        reasons: its last success stays, so the next run fetches that window again.
        Callers hold the writer lock (only refresh writes this file).
        """
        data = _read_json(self.state_path)
        ws = data.setdefault("watches", {})
        entry = ws.setdefault(watch.name, {})
        srcs = entry.setdefault("sources", {})
        for source, when in succeeded.items():
            srcs[source] = {"fingerprint": watch.fingerprint(source), "last_success": when.isoformat()}
        for source, reasons in (incomplete or {}).items():
            fp = watch.fingerprint(source)
            old = srcs.get(source) or {}
            kept = {"last_success": old["last_success"]} if old.get("fingerprint") == fp and old.get("last_success") else {}
            srcs[source] = {"fingerprint": fp, **kept, "incomplete": list(reasons), "last_attempt": started.isoformat()}
        entry["last_run"] = started.isoformat()
        entry["last_status"] = status
        entry["last_summary"] = summary
        data["version"] = FILE_VERSION
        atomic_write_json(self.state_path, data)
