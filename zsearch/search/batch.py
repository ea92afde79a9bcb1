"""Batch search: ``zsearch search --queries FILE|-`` runs many queries with one loaded model.

Input, one query per line (``-`` reads standard input):

* a plain line is a query; its id is its line number; blank lines and ``#`` comments are skipped;
* a line starting with ``{`` is a JSON object: ``{"id": "q1", "query": "…", "k": 5,
  "filters": {"year": "2020..2024", "source": "arxiv", "category": "cs.IR", "where": "…"}}``
  (only ``query`` is required). ``where`` is not raw SQL: it is a condition in the small
  grammar of :func:`zsearch.search.filters.safe_where` (paper columns compared with values,
  ``array_has(categories, '…')``, ``AND``/``OR``/``NOT``, brackets), rebuilt before use;
* a line that is not UTF-8 text, or not valid JSON, is that line's error; the others run.

Output: JSONL, one object per query in input order, written as each query finishes::

    {"qid": "q1", "query": "…", "k": 5, "filters": {…}, "hits": [{rank, id, score, title, …}], "error": null}

(``--format json`` writes the same objects as one array; ``csv`` one row per hit.) A bad line
or a failing query gets an ``error`` and the run goes on; the exit code is then 1.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, Any, Protocol

from zsearch.errors import EmptyDatabase, NotFound, RecordError, UsageError, ZsearchError
from zsearch.papers.model import Hit
from zsearch.search.config import SearchConfig
from zsearch.search.filters import Filters

# the keys of a JSONL line's "filters": the `zsearch search` filter flags, plus explicit years
FILTER_KEYS = ("year", "year_from", "year_to", "source", "category", "author", "since", "where")
CSV_COLUMNS = ["qid", "query", "rank", "score", "id", "year", "title", "source", "doi", "url", "error"]


class Searcher(Protocol):
    """What a batch needs of a library: its search (:meth:`zsearch.library.Library.search` is one)."""

    def search(self, query: str, k: int = 10, *, filters: Filters | str | None = None, where: str | None = None,
               config: SearchConfig | None = None, rerank: str | None = None,
               rerank_top: int | None = None) -> list[Hit]: ...


@dataclass
class Query:
    qid: str
    query: str
    k: int
    filters: dict[str, Any] = field(default_factory=dict)


def to_filters(filters: dict[str, Any] | None) -> Filters:
    """Per-query filters -> :class:`zsearch.search.filters.Filters` (as the search flags build them).

    ``year``: ``"2019..2024"`` or ``2021``; ``year_from``/``year_to``: inclusive years;
    ``source``, ``category``, ``author``: a string (comma-separated) or a list, any of them
    (a category splits on commas only into arXiv categories: a MeSH heading keeps its comma);
    ``since``: ``YYYY-MM-DD``; ``where``: a condition :func:`~zsearch.search.filters.safe_where`
    accepts, AND-ed to the rest. A value of the wrong type is a UsageError.
    """
    d = dict(filters or {})
    unknown = set(d) - set(FILTER_KEYS)
    if unknown:
        raise UsageError(f"unknown filter {sorted(unknown)[0]!r}; known: {', '.join(FILTER_KEYS)}")
    year = d.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, (str, int))):
        raise UsageError(f"year must be YEAR or FROM..TO, not {year!r}")
    f = Filters.build(year=str(year) if year is not None else None, source=d.get("source"),
                      category=d.get("category"), author=d.get("author"), since=d.get("since"),
                      where=d.get("where"))
    for key in ("year_from", "year_to"):
        if d.get(key) is not None:
            try:
                if isinstance(d[key], (bool, float)):
                    raise TypeError
                f = replace(f, **{key: int(d[key])})
            except (TypeError, ValueError):
                raise UsageError(f"{key} must be a year, not {d[key]!r}") from None
    return f


def filters_to_where(filters: dict[str, Any] | None) -> str | None:
    """The LanceDB SQL condition per-query filters stand for (None: no filter)."""
    return to_filters(filters).where()


def parse_line(line: str, lineno: int, default_k: int) -> Query | None:
    """One input line -> Query; None for a blank or ``#`` line; RecordError (``.record`` = ``line N``) if bad."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    record = f"line {lineno}"
    if not text.startswith("{"):
        return Query(str(lineno), text, default_k)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"line {lineno}: not valid JSON ({exc.msg})", record=record) from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number; brackets nested too deep
        raise RecordError(f"line {lineno}: not valid JSON ({str(exc).splitlines()[0][:80]})", record=record) from None
    if not isinstance(obj, dict):
        raise RecordError(f"line {lineno}: expected a JSON object", record=record)
    q = obj.get("query")
    if not isinstance(q, str) or not q.strip():
        raise RecordError(f"line {lineno}: no \"query\"", record=record)
    k = obj.get("k", default_k)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise RecordError(f"line {lineno}: k must be a positive integer, not {k!r}", record=record)
    filters = obj.get("filters") or {}
    if not isinstance(filters, dict):
        raise RecordError(f"line {lineno}: \"filters\" must be an object", record=record)
    qid = obj.get("id", obj.get("qid", lineno))
    if not isinstance(qid, (str, int)) or isinstance(qid, bool):
        raise RecordError(f"line {lineno}: \"id\" must be text or a number, not {qid!r}", record=record)
    return Query(str(qid), q.strip(), k, filters)


def read_queries(lines: Iterable[str | bytes], default_k: int = 10) -> Iterator[Query | RecordError]:
    """Queries (or RecordErrors for bad lines), lazily, so standard input can stream.

    ``lines`` may be bytes (what :func:`open_input` gives): each is decoded on its own, so
    one line that is not UTF-8 is that line's error and the rest still run.
    """
    for n, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            q = parse_line(line, n, default_k)
        except UnicodeDecodeError as exc:
            yield RecordError(f"line {n}: not UTF-8 text ({exc.reason} at byte {exc.start})", record=f"line {n}")
            continue
        except RecordError as exc:
            yield exc
            continue
        if q is not None:
            yield q


def open_input(path: str) -> IO[bytes] | IO[str]:
    """``-`` is standard input; anything else a file, read as bytes (each line is decoded as UTF-8)."""
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin)
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"--queries wants a file, not the folder {path}") from None
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror or exc}") from None


@dataclass
class BatchReport:
    queries: int = 0
    failed: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_one(lib: Searcher, q: Query, *, base: Filters | None = None, **search_kw: Any) -> dict[str, Any]:
    """Run one query; a ZsearchError (bad filter, empty query) becomes the result's ``error``.

    ``base``: filters every query gets (the command's flags), AND-ed with the line's own;
    ``search_kw``: passed on to :meth:`Searcher.search` (``config``, ``rerank_top``…).
    """
    res: dict[str, Any] = {"qid": q.qid, "query": q.query, "k": q.k, "filters": q.filters, "hits": [], "error": None}
    try:
        own = to_filters(q.filters).where() if q.filters else None
        hits = lib.search(q.query, k=q.k, filters=base or None, where=own, **search_kw)
        res["hits"] = [h.to_dict() for h in hits]
    except EmptyDatabase:
        raise  # no query can succeed: stop with the one clear message
    except ZsearchError as exc:
        res["error"] = str(exc)
    except Exception as exc:  # e.g. a `where` LanceDB rejects although it parses (year = 'soon')
        res["error"] = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return res


def run_queries(lib: Searcher, lines: Iterable[str | bytes], *, k: int = 10, fmt: str = "jsonl",
                out: IO[str] | None = None, filters: Filters | None = None, **search_kw: Any) -> BatchReport:
    """Run every query in ``lines`` against ``lib`` (one model load) and write results to ``out``.

    ``fmt``: ``jsonl`` (one object per query, streamed), ``json`` (one array) or ``csv``
    (one row per hit; a query with an error or no hits gets one row). ``filters`` and
    ``search_kw`` apply to every query (see :func:`run_one`).
    """
    if fmt not in ("jsonl", "json", "csv"):
        raise UsageError(f"--queries writes jsonl, json or csv, not {fmt!r}")
    if k < 1:
        raise UsageError("k must be at least 1")
    out = out or sys.stdout
    report = BatchReport()
    collected: list[dict[str, Any]] = []
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for item in read_queries(lines, k):
        report.queries += 1
        if isinstance(item, RecordError):
            res: dict[str, Any] = {"qid": item.record, "query": None, "k": None, "filters": {}, "hits": [],
                                   "error": item.message}
        else:
            res = run_one(lib, item, base=filters, **search_kw)
        if res["error"]:
            report.failed += 1
        if fmt == "jsonl":
            out.write(json.dumps(res, ensure_ascii=False) + "\n")
            out.flush()
        elif fmt == "json":
            collected.append(res)
        else:
            assert writer is not None
            base = {"qid": res["qid"], "query": res["query"], "error": res["error"]}
            for h in res["hits"] or [{}]:
                writer.writerow({**base, **{c: h.get(c) for c in CSV_COLUMNS if c in h}})
            out.flush()
    if fmt == "json":
        out.write(json.dumps(collected, ensure_ascii=False, indent=2) + "\n")
        out.flush()
    return report


def run_queries_file(lib: Searcher, path: str, *, k: int = 10, fmt: str = "jsonl",
                     filters: Filters | None = None, **search_kw: Any) -> BatchReport:
    """:func:`run_queries` on a file path or ``-`` (stdin); what ``search --queries`` calls.

    ``fmt="table"`` (the search command's default) means jsonl here.
    """
    fh = open_input(path)
    try:
        return run_queries(lib, fh, k=k, fmt="jsonl" if fmt == "table" else fmt, filters=filters, **search_kw)
    finally:
        if fh not in (sys.stdin, getattr(sys.stdin, "buffer", None)):
            fh.close()
