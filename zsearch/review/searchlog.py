"""The search log: one JSON line per ``search``, ``cluster`` or ``ingest`` run.

A systematic review must report what was searched, where, when and with what result
(PRISMA-S, Rethlefsen et al. 2021). Each record holds the timestamp, the command, the
query verbatim, the source databases and their queries, the filters, the LanceDB table
versions and the model, the number of results and the ids returned. A logged search or
cluster run pins the versions it read (LanceDB tags, zsearch.store.versions), so no prune
deletes them and it can be re-run against them (:func:`rerun_search`) months later.

Records go to ``--log FILE.jsonl`` and, when a review directory is set (``--review DIR`` or
``$ZSEARCH_REVIEW_DIR``), to ``DIR/search-log.jsonl`` as well. Nothing is logged when
neither is given.

Other commands log with one call, e.g. after a search::

    log_run("search", query=query, lib=lib, ids=[h.id for h in hits], params={"k": k},
            log=log, review_dir=review)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from zsearch.errors import NotFound, UsageError
from zsearch.papers.model import Hit

if TYPE_CHECKING:
    from zsearch.store.tables import Store

# The file name inside a review directory (ZSEARCH_REVIEW_DIR / --review).
LOG_NAME = "search-log.jsonl"
REVIEW_DIR_ENV = "ZSEARCH_REVIEW_DIR"


class LogSource(Protocol):
    """What the log reads of a :class:`zsearch.Library`: where it is, its tables and model; and search, for re-runs."""

    home: Path
    store: Store
    model_name: str

    def model_info(self) -> tuple[str, int] | None: ...

    def search(self, query: str, k: int = ..., *, where: str | None = ...) -> list[Hit]: ...


def log_targets(log: str | os.PathLike[str] | None = None,
                review_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Files a run is logged to: ``log``, and ``<review dir>/search-log.jsonl`` where the
    review dir is ``review_dir`` or ``$ZSEARCH_REVIEW_DIR``. Empty when neither is set."""
    out: list[Path] = []
    if log:
        out.append(Path(log).expanduser())
    rdir = review_dir or os.environ.get(REVIEW_DIR_ENV)
    if rdir:
        p = Path(rdir).expanduser() / LOG_NAME
        if p.resolve() not in {q.resolve() for q in out}:
            out.append(p)
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def table_versions(lib: LogSource) -> dict[str, int | None]:
    """LanceDB versions of the papers and chunks tables of a :class:`zsearch.Library`."""
    store = lib.store
    if not store.exists:
        return {"papers": None, "chunks": None}
    chunks: int | None
    try:
        chunks = int(store.chunks.version)
    except Exception:  # noqa: BLE001 - an old database without a chunks table
        chunks = None
    return {"papers": int(store.papers.version), "chunks": chunks}


def make_record(
    command: str,
    *,
    query: str | None = None,
    lib: LogSource | None = None,
    ids: Sequence[str] = (),
    n_results: int | None = None,
    filters: Mapping[str, Any] | None = None,
    sources: Sequence[Mapping[str, Any]] = (),
    params: Mapping[str, Any] | None = None,
    counts: Mapping[str, Any] | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The JSON record of one run (see the module docstring for the fields).

    ``sources`` lists the source databases a run searched: ``{"database": "pubmed",
    "query": "...", "count": 412}`` (count = records identified). ``counts`` carries an
    ingest's outcome (added, updated, unchanged, failed).
    """
    rec: dict[str, Any] = {
        "timestamp": timestamp or _now(),
        "command": command,
        "query": query,
        "sources": [dict(s) for s in sources],
        "filters": dict(filters or {}),
        "params": dict(params or {}),
        "database": None,
        "table_version": None,
        "model": None,
        "n_results": len(ids) if n_results is None else n_results,
        "ids": list(ids),
        "zsearch_version": _version(),
    }
    if counts:
        rec["counts"] = dict(counts)
    if lib is not None:
        rec["database"] = str(lib.home)
        rec["table_version"] = table_versions(lib)
        info = lib.model_info()  # None for a new database
        rec["model"] = info[0] if info else lib.model_name
    return rec


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("zsearch")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "unknown"


def append_record(record: Mapping[str, Any], targets: Sequence[Path]) -> None:
    """Append ``record`` as one JSON line to each target (directories are created)."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)


def log_run(
    command: str,
    *,
    log: str | os.PathLike[str] | None = None,
    review_dir: str | os.PathLike[str] | None = None,
    **fields: Any,
) -> list[Path]:
    """Record one run in the log file and/or review directory; returns the files written.

    ``fields`` are those of :func:`make_record` (query, lib, ids, n_results, filters,
    sources, params, counts). Does nothing (and returns ``[]``) when no log is set.
    """
    targets = log_targets(log, review_dir)
    if targets:
        record = make_record(command, **fields)
        lib = fields.get("lib")
        if command in ("search", "cluster") and lib is not None and lib.store.exists:
            # LanceDB tags keep the versions it read through every later prune: `log --rerun` works months on
            record["pins"] = lib.store.pin_versions(record["table_version"])
        append_record(record, targets)
    return targets


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a log file, in order; a line that is not JSON is a UsageError."""
    p = Path(path).expanduser()
    if not p.exists():
        raise NotFound(f"no search log at {p}", hint="runs are logged with --log FILE or --review DIR")
    out: list[dict[str, Any]] = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                raise UsageError(f"{p}:{n}: not a JSON line") from None
    return out


def default_log_path(review_dir: str | os.PathLike[str] | None = None) -> Path:
    """The review directory's log (``--review`` or ``$ZSEARCH_REVIEW_DIR``)."""
    rdir = review_dir or os.environ.get(REVIEW_DIR_ENV)
    if not rdir:
        raise UsageError(
            "which log? give a FILE, --review DIR or set ZSEARCH_REVIEW_DIR"
        )
    return Path(rdir).expanduser() / LOG_NAME


# -- PRISMA -----------------------------------------------------------------------------


def prisma_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """PRISMA-S search reporting and PRISMA flow counts from log records.

    * ``sources``: per source database, each logged query with its date and count
      (ingest runs), plus the searches of the local database (search/cluster runs).
    * ``flow``: records identified per source; duplicates removed (records that matched a
      paper already in the database, by arXiv id, PMID or DOI: ``updated + unchanged``);
      records that could not be read; unique records added; and the unique papers that the
      logged searches returned (the set handed to screening).
    """
    per_source: dict[str, list[dict[str, Any]]] = {}
    identified: dict[str, int] = {}
    dup = failed = added = 0
    searches: list[dict[str, Any]] = []
    returned: list[str] = []
    seen: set[str] = set()
    for r in records:
        cmd = str(r.get("command", ""))
        date = str(r.get("timestamp", ""))[:10]
        if cmd.startswith("ingest"):
            c = r.get("counts") or {}
            srcs = r.get("sources") or [{"database": cmd.split(" ", 1)[-1], "query": r.get("query")}]
            for s in srcs:
                db = str(s.get("database") or "?")
                n = s.get("count")
                if n is None:
                    n = sum(_n(c.get(x)) for x in ("added", "updated", "unchanged", "failed"))
                per_source.setdefault(db, []).append(
                    {"query": s.get("query"), "date": date, "count": int(n), "timestamp": r.get("timestamp")}
                )
                identified[db] = identified.get(db, 0) + int(n)
            dup += _n(c.get("updated")) + _n(c.get("unchanged"))
            failed += _n(c.get("failed"))
            added += _n(c.get("added"))
        elif cmd in ("search", "cluster"):
            tv = r.get("table_version") or {}
            searches.append(
                {
                    "command": cmd,
                    "query": r.get("query"),
                    "date": date,
                    "timestamp": r.get("timestamp"),
                    "count": r.get("n_results"),
                    "filters": r.get("filters") or {},
                    "model": r.get("model"),
                    "table_version": tv.get("papers") if isinstance(tv, dict) else tv,
                }
            )
            for i in r.get("ids") or []:
                if i not in seen:
                    seen.add(i)
                    returned.append(i)
    return {
        "sources": {db: per_source[db] for db in sorted(per_source)},
        "local_searches": searches,
        "flow": {
            "identified": dict(sorted(identified.items())),
            "identified_total": sum(identified.values()),
            "duplicates_removed": dup,
            "unreadable": failed,
            "unique_added": added,
            "returned_by_searches": len(returned),
        },
    }


def _n(v: Any) -> int:
    """A count from an ingest record: a number, or a list (IngestReport.to_dict()'s failures)."""
    if isinstance(v, (list, tuple)):
        return len(v)
    return int(v or 0)


def prisma_markdown(summary: Mapping[str, Any]) -> str:
    """The PRISMA summary as Markdown: one table per part, ready for a methods section."""
    lines = ["# Search reporting (PRISMA-S)", "", "## Information sources and queries", ""]
    if summary["sources"]:
        lines += ["| source | date | query | records |", "| --- | --- | --- | ---: |"]
        for db, runs in summary["sources"].items():
            for run in runs:
                lines.append(f"| {db} | {run['date']} | {_md(run['query'])} | {run['count']} |")
    else:
        lines.append("No ingest runs logged.")
    lines += ["", "## Searches of the local database", ""]
    if summary["local_searches"]:
        lines += ["| date | command | query | filters | model | table version | results |",
                  "| --- | --- | --- | --- | --- | ---: | ---: |"]
        for s in summary["local_searches"]:
            filt = ", ".join(f"{k}={v}" for k, v in s["filters"].items()) or "none"
            lines.append(
                f"| {s['date']} | {s['command']} | {_md(s['query'])} | {_md(filt)} | "
                f"{s['model'] or ''} | {s['table_version'] if s['table_version'] is not None else ''} | {s['count']} |"
            )
    else:
        lines.append("No searches logged.")
    f = summary["flow"]
    lines += ["", "## PRISMA flow (identification)", "", "| stage | records |", "| --- | ---: |"]
    for db, n in f["identified"].items():
        lines.append(f"| identified from {db} | {n} |")
    lines += [
        f"| identified, total | {f['identified_total']} |",
        f"| duplicates removed | {f['duplicates_removed']} |",
        f"| unreadable records removed | {f['unreadable']} |",
        f"| unique records added to the database | {f['unique_added']} |",
        f"| unique records returned by the logged searches | {f['returned_by_searches']} |",
        "",
    ]
    return "\n".join(lines)


def _md(s: Any) -> str:
    return "" if s is None else str(s).replace("|", "\\|").replace("\n", " ")


# -- reproducing a logged run ------------------------------------------------------------


@contextlib.contextmanager
def at_version(lib: LogSource, versions: Mapping[str, int | None] | int | None) -> Iterator[LogSource]:
    """Check the library's tables out at logged versions for the duration of the block.

    LanceDB keeps every version of a table (until ``optimize`` cleans old ones up);
    ``table.checkout(v)`` makes reads see version ``v``. ``versions`` is a record's
    ``table_version`` (``{"papers": 7, "chunks": 5}``) or a bare papers version.
    """
    if isinstance(versions, int):
        versions = {"papers": versions}
    versions = dict(versions or {})
    store = lib.store
    tables = []
    try:
        for name in ("papers", "chunks"):
            v = versions.get(name)
            if v is None:
                continue
            table = getattr(store, name)
            try:
                table.checkout(int(v))
            except Exception as exc:
                raise NotFound(
                    f"version {v} of the {name} table is no longer in {lib.home}",
                    hint="old versions are removed by compaction (`zsearch optimize`)",
                ) from exc
            tables.append(table)
        yield lib
    finally:
        for t in tables:
            t.checkout_latest()


def rerun_search(lib: LogSource, record: Mapping[str, Any]) -> list[str]:
    """Re-run a logged search (a ``search`` run, or the search a ``cluster`` run clustered)
    against its logged table versions; the ids it returns now, in order."""
    params = record.get("params") or {}
    cmd = record.get("command")
    if cmd == "search":
        k = int(params.get("k") or record.get("n_results") or 10)
    elif cmd == "cluster" and params.get("selection", "search") == "search" and record.get("query"):
        k = int(params.get("top") or record.get("n_results") or 10)
    else:
        raise UsageError(f"only search runs (and clusters of a search) can be re-run, not {cmd!r}")
    where = (record.get("filters") or {}).get("where")
    with at_version(lib, record.get("table_version")):
        hits = lib.search(str(record.get("query") or ""), k=k, **({"where": where} if where else {}))
    return [h.id for h in hits]


def logged_record(records: Sequence[Mapping[str, Any]], number: int) -> Mapping[str, Any]:
    """Record ``number`` of a log (1 = first); UsageError naming the range when there is none.

    >>> logged_record([{"query": "a"}, {"query": "b"}], 2)
    {'query': 'b'}
    """
    if not 1 <= number <= len(records):
        raise UsageError(f"--rerun takes 1..{len(records)} (the log has {len(records)} records)")
    return records[number - 1]


def rerun_comparison(lib: LogSource, record: Mapping[str, Any], number: int) -> dict[str, Any]:
    """Re-run logged search ``number`` (:func:`rerun_search`) and compare: the ids logged and now, and whether they match."""
    now = rerun_search(lib, record)
    return {"record": number, "query": record.get("query"), "table_version": record.get("table_version"),
            "same_ids": now == list(record.get("ids") or []), "logged": record.get("ids"), "now": now}
