"""Which papers a review command works on (a search, an id list, a cluster result, or all), and the cluster run over them.

``zsearch cluster`` and ``zsearch export`` take exactly one selection: a query's top results,
``--ids FILE`` (``-`` = stdin; see :func:`zsearch.review.selection_files.read_id_list` for what the
file may hold), ``--all`` (narrowed by ``--where``) or, for export, ``--cluster-json``.
:func:`cluster_selection` then clusters the chosen papers (:func:`zsearch.review.cluster.cluster_papers`).

``--all`` never reads the whole table at once: an export streams the papers (no bodies) batch
by batch into the writer, and a clustering reads ids, titles, abstracts and vectors in one
streamed pass instead of every paper with its full text and then every vector by id.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from zsearch.errors import NotFound, UsageError
from zsearch.papers.model import Hit, Paper
from zsearch.review.cluster import DEFAULT_METHOD, Clustering, cluster_papers
from zsearch.review.selection_files import read_cluster_json, read_id_list

# What each selection is called in a cluster report's "Selection" line.
SELECTIONS = ("search", "ids", "all")


class PaperSource(Protocol):
    """What selecting and clustering read of a :class:`zsearch.Library`."""

    def search(self, query: str, k: int = ..., *, where: str | None = ...) -> list[Hit]: ...

    def ids(self, where: str | None = ...) -> list[str]: ...

    def papers(self, ids: Sequence[str] | None = ...) -> list[Paper]: ...

    def iter_papers(self, where: str | None = ..., *, full_text: bool = ...) -> Iterator[Paper]: ...

    def iter_papers_with_vectors(self, where: str | None = ...) -> Iterator[tuple[list[Paper], np.ndarray]]: ...

    def vectors(self, ids: Sequence[str]) -> np.ndarray: ...


def where_filters(where: str | None) -> dict[str, Any]:
    """The ``filters`` a log record and a report show for a ``--where`` condition.

    >>> where_filters("year >= 2020")
    {'where': 'year >= 2020'}
    >>> where_filters(None)
    {}
    """
    return {"where": where} if where else {}


def read_ids(source: str, stdin: TextIO | None = None) -> list[str]:
    """Paper ids from a file, or from ``stdin`` when ``source`` is ``-``; NotFound for a missing file."""
    if source == "-":
        return read_id_list((stdin or sys.stdin).read())
    p = Path(source).expanduser()
    if not p.exists():
        raise NotFound(f"no id file at {p}")
    return read_id_list(p.read_text(encoding="utf-8"))


def select_papers(
    lib: PaperSource,
    *,
    query: str | None,
    top: int,
    ids_file: str | None,
    all_papers: bool,
    where: str | None,
) -> tuple[list[str], str]:
    """The ids to work on, from exactly one of: a query, an id list, or the whole database.

    Returns the ids and which selection gave them (one of :data:`SELECTIONS`). ``where``
    narrows a search or ``--all``; ``top`` is how many search results.
    """
    _check_one(query, ids_file, all_papers)
    if query:
        hits = lib.search(query, k=top, **where_filters(where))
        return [h.id for h in hits], "search"
    if ids_file:
        ids = read_ids(ids_file)
        if not ids:
            raise UsageError(f"no paper ids in {ids_file}")
        return ids, "ids"
    return lib.ids(where), "all"


def _check_one(query: str | None, ids_file: str | None, all_papers: bool) -> None:
    chosen = [name for name, on in (("a query", bool(query)), ("--ids", bool(ids_file)), ("--all", all_papers)) if on]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of: a query, --ids FILE or --all"
            + (f" (got {', '.join(chosen)})" if chosen else "")
        )


def export_selection(
    lib: PaperSource,
    *,
    query: str | None,
    k: int,
    ids_file: str | None,
    cluster_json: Path | None,
    all_papers: bool,
    where: str | None,
) -> tuple[Iterable[Paper], dict[str, tuple[int, str]]]:
    """The papers ``zsearch export`` writes, and ``id -> (theme, label)`` when they come from a cluster result.

    ``--all`` gives a stream (papers without bodies, read batch by batch as the writer takes
    them: zsearch.review.export.write_export); the other selections a list.
    """
    if cluster_json:
        if query or ids_file or all_papers:
            raise UsageError("give exactly one of: --query, --ids, --cluster-json or --all")
        chosen, themes = read_cluster_json(cluster_json)
    else:
        _check_one(query, ids_file, all_papers)
        if all_papers:
            return lib.iter_papers(where), {}
        chosen, _ = select_papers(lib, query=query, top=k, ids_file=ids_file, all_papers=all_papers, where=where)
        themes = {}
    return lib.papers(chosen), themes


@dataclass
class ClusterRun:
    """One ``zsearch cluster`` run: what was selected and how, the papers, their vectors, and the themes."""

    question: str | None
    ids: list[str]  # in selection order
    selection: str  # one of SELECTIONS
    papers: dict[str, Paper]
    vectors: np.ndarray  # one row per id, in order
    texts: list[str]  # title + abstract per id, in order
    clustering: Clustering
    top: int
    ids_file: str | None = None
    where: str | None = None
    plot_ids: list[str] | None = None  # the rows of ``vectors``/``texts`` when they are not ``ids`` (--all)

    @property
    def filters(self) -> dict[str, Any]:
        return where_filters(self.where)

    @property
    def selection_note(self) -> str:
        """How the papers were chosen, in words: ``top 50 search results``, ``ids from ids.txt``, ``all papers``."""
        return {"search": f"top {self.top} search results", "ids": f"ids from {self.ids_file}",
                "all": "all papers"}[self.selection]

    def log_params(self, k: str) -> dict[str, Any]:
        """The ``params`` of the run's search-log record; ``k`` as the user gave it (a number or ``auto``)."""
        c = self.clustering
        return {"top": self.top, "k": k, "k_chosen": c.k, "seed": c.seed, "method": c.method,
                "selection": self.selection, "themes": dict(c.assignment.items())}


def cluster_selection(
    lib: PaperSource,
    *,
    question: str | None,
    top: int,
    ids_file: str | None,
    all_papers: bool,
    where: str | None,
    k: int | str,
    seed: int,
    method: str | None = None,
    other: bool = False,
) -> ClusterRun:
    """Select papers (:func:`select_papers`) and cluster them into labelled themes.

    ``k`` is a number or ``"auto"``; ``method`` the vector preparation (default:
    :data:`zsearch.review.cluster.DEFAULT_METHOD`); ``other`` puts papers that fit no theme
    into an "other" group (theme 0).
    """
    if all_papers and not (question or ids_file):
        return _cluster_all(lib, where, k=k, seed=seed, method=method or DEFAULT_METHOD, top=top, other=other)
    chosen, how = select_papers(lib, query=question, top=top, ids_file=ids_file, all_papers=all_papers, where=where)
    if not chosen:
        raise UsageError("no papers to cluster" + (" pass the filter" if where else ""))
    papers = {p.id: p for p in lib.papers(chosen)}
    vectors = lib.vectors(chosen)
    texts = [papers[i].head_text for i in chosen]
    c = cluster_papers(chosen, vectors, texts, k=k, seed=seed, method=method or DEFAULT_METHOD, other=other)
    return ClusterRun(question, chosen, how, papers, vectors, texts, c, top, ids_file, where)


def _cluster_all(lib: PaperSource, where: str | None, *, k: int | str, seed: int, method: str, top: int,
                 other: bool = False) -> ClusterRun:
    """``--all``: one streamed pass keeps ids, what the output shows and a bounded sample.

    Up to :data:`zsearch.review.cluster_stream.FIT_SAMPLE` papers this is the same clustering
    as ``--ids`` of the same papers; above it, themes are found on the sample and a second
    pass assigns every paper (:func:`zsearch.review.cluster_stream.cluster_streamed`).
    """
    from zsearch.review.cluster_stream import Listing, Sample, cluster_streamed

    ids: list[str] = []
    papers: dict[str, Paper] = {}
    sample = Sample(seed=seed)
    for batch, vectors in lib.iter_papers_with_vectors(where):
        for p in batch:
            ids.append(p.id)
            # what a theme's listing shows; the abstract only for the sample (labels)
            papers[p.id] = Listing(p.id, p.source, p.title, p.year, p.doi, p.url)  # type: ignore[assignment]
        sample.offer([p.id for p in batch], vectors, lambda i, b=batch: b[i].head_text)
    if not ids:
        raise UsageError("no papers to cluster" + (" pass the filter" if where else ""))
    s_ids, s_vec, s_texts = sample.rows()
    if len(s_ids) == len(ids):
        c = cluster_papers(s_ids, s_vec, s_texts, k=k, seed=seed, method=method, other=other)
    else:  # every paper joins its nearest theme: no "other" group
        def batches() -> Iterator[tuple[list[str], np.ndarray]]:
            for batch, vectors in lib.iter_papers_with_vectors(where):
                yield [p.id for p in batch], vectors

        c = cluster_streamed(ids, sample, batches, k=k, seed=seed, method=method)
    # the map (--plot) shows the sample: every paper of a large set would be one blot
    return ClusterRun(None, ids, "all", papers, s_vec, s_texts, c, top, None, where, plot_ids=s_ids)
