"""What each endpoint asks the Library: the CLI command's steps, answered as its ``--format json`` text.

Each function does what the matching command does in-process (zsearch/cli/core.py and
zsearch/cli/review.py) and returns the exact text that command prints with ``--format json``
(the same record builders: ``Hit.to_dict``, ``Paper.to_dict``, ``Library.stats``,
``review.selection_files.cluster_json``; the same ``json.dumps`` options), so the CLI prints a service
answer as it is and the output is byte-identical (tests/test_serve.py checks it).
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound
from zsearch.library import Library
from zsearch.review.report import write_cluster_outputs
from zsearch.review.select import ClusterRun, cluster_selection
from zsearch.review.selection_files import cluster_json
from zsearch.search.batch import run_queries
from zsearch.search.config import rerank_choice
from zsearch.search.filters import Filters


def cli_json(obj: Any, *, ensure_ascii: bool = False) -> str:
    """The CLI's ``--format json`` layout: indent 2, a final newline."""
    return json.dumps(obj, ensure_ascii=ensure_ascii, indent=2) + "\n"


def search_config(lib: Library, mode: str, rerank: str | None) -> Any:
    """The config `zsearch search` builds from --mode and --rerank (the `rerank` setting by default)."""
    name = rerank_choice(rerank, lib.settings.rerank)
    return lib.default_config().replace(mode=mode, rerank=name or None)


def search_text(lib: Library, *, query: str, k: int = 10, mode: str = "hybrid", rerank: str | None = None,
                rerank_top: int = 50, year: str | None = None, source: Sequence[str] | None = None,
                category: Sequence[str] | None = None, author: Sequence[str] | None = None,
                since: str | None = None) -> str:
    """``zsearch search QUERY … --format json``."""
    filters = Filters.build(year=year, source=list(source or []) or None, category=list(category or []) or None,
                            author=list(author or []) or None, since=since)
    config = search_config(lib, mode, rerank)
    hits = lib.search(query, k=k, filters=filters, config=config, rerank_top=rerank_top)
    return cli_json([h.to_dict() for h in hits])


def batch_text(lib: Library, lines: Sequence[str], *, fmt: str = "jsonl", k: int = 10, mode: str = "hybrid",
               rerank: str | None = None, rerank_top: int = 50, year: str | None = None,
               source: Sequence[str] | None = None, category: Sequence[str] | None = None,
               author: Sequence[str] | None = None, since: str | None = None) -> tuple[str, int]:
    """``zsearch search --queries FILE …``: the lines of FILE in, its output and exit code out."""
    filters = Filters.build(year=year, source=list(source or []) or None, category=list(category or []) or None,
                            author=list(author or []) or None, since=since)
    config = search_config(lib, mode, rerank)
    out = io.StringIO()
    report = run_queries(lib, lines, k=k, fmt="jsonl" if fmt == "table" else fmt, out=out, filters=filters,
                         config=config, rerank_top=rerank_top)
    return out.getvalue(), report.exit_code


def paper_text(lib: Library, paper_id: str, *, full_text: bool = False) -> str:
    """``zsearch show ID --format json`` (``--full-text``: with the full text)."""
    d = lib.get(paper_id).to_dict()
    if not full_text:
        d.pop("full_text")
    return cli_json(d)


def paper_pdf(lib: Library, paper_id: str) -> Path:
    """The PDF file a paper was read from (NotFound when it came from elsewhere or has moved)."""
    p = lib.get(paper_id)
    if not p.path or not p.path.lower().endswith(".pdf") or not Path(p.path).is_file():
        raise NotFound(f"no local PDF for {paper_id}" + (f" (not found at {p.path})" if p.path else ""))
    return Path(p.path)


def stats_text(lib: Library) -> str:
    """``zsearch stats --format json`` (note: ASCII-escaped, as the CLI writes it)."""
    return cli_json(lib.stats(), ensure_ascii=True)


def clustering(lib: Library, *, question: str | None = None, top: int = 50, k: int | str = "auto",
               ids: Sequence[str] | None = None, all_papers: bool = False, where: str | None = None,
               seed: int = 42, method: str | None = None, other: bool = False) -> ClusterRun:
    """``zsearch cluster``'s selection and clustering (:func:`zsearch.review.select.cluster_selection`).

    ``ids`` (the service's stand-in for ``--ids FILE``) go through a private file, so they are
    read exactly as the CLI reads an id file.
    """
    if ids is None:
        return cluster_selection(lib, question=question, top=top, ids_file=None, all_papers=all_papers, where=where,
                                 k=k, seed=seed, method=method, other=other)
    with tempfile.TemporaryDirectory(prefix="zsearch-ids-") as tmp:
        path = Path(tmp) / "ids.txt"
        path.write_text("\n".join(ids) + "\n", encoding="utf-8")
        return cluster_selection(lib, question=question, top=top, ids_file=str(path), all_papers=all_papers,
                                 where=where, k=k, seed=seed, method=method, other=other)


def cluster_text(lib: Library, **kw: Any) -> str:
    """``zsearch cluster … --format json``."""
    run = clustering(lib, **kw)
    return cli_json(cluster_json(run.clustering, run.papers, run.question))


def cluster_png(lib: Library, **kw: Any) -> bytes:
    """``zsearch cluster … --plot FILE``: the PNG map of the themes."""
    run = clustering(lib, **kw)
    with tempfile.TemporaryDirectory(prefix="zsearch-map-") as tmp:
        path = Path(tmp) / "map.png"
        write_cluster_outputs(lib, run, plot=path)
        return path.read_bytes()
