"""Indexes of the papers and chunks tables: full text, scalar (filters) and the ANN vector index.

Scalar indexes make filters prefilters that cost an index lookup: BTREE on ``year`` and
``added`` (ranges), BITMAP on ``source`` (few distinct values), LABEL_LIST on ``sources``
and ``categories`` (``array_has_any``). BTREE on ``id`` and the identifier columns
(``arxiv_id``, ``pmid``, ``doi``, ``path``) turns the ``id IN (...)`` reads of every search
and the identifier look-ups of every ingest batch into index look-ups instead of scans, and
BTREE on ``chunks.paper_id`` does the same for a paper's passages (benchmarks/scale.py:
docs/benchmarks.md, "Scale"). The BM25 index covers ``fts_text`` (title, abstract, body) and
a second one ``title`` (field weighting). Above :data:`ANN_THRESHOLD` rows an IVF_RQ vector
index is built, on the papers and on the passages; ``optimize()`` folds new rows into every
index.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from typing import Any

from zsearch.store import versions

FTS_INDEX = "fts_text_idx"
VECTOR_INDEX = "vector_idx"
# Rows from which an IVF_RQ vector index is built: below ~100k papers an exact scan of
# 384-dim vectors takes tens of milliseconds (benchmarks/search.py), and it is exact.
ANN_THRESHOLD = 100_000
# ANN search parameters, tuned in benchmarks/search.py so that recall@10 against exact
# search is >= 0.97 at 100k rows (docs/benchmarks.md, "Search latency").
ANN_NPROBES = 32
ANN_REFINE = 10
# Share of the index's IVF partitions a query probes when that is more than ANN_NPROBES: at
# 1M papers (~1,005 partitions) the fixed 32 probes gave recall@10 0.56-0.62 and 161 probes
# (16%) gave 0.91 at 43 ms instead of 34 (docs/benchmarks.md, "One million papers").
ANN_PROBE_SHARE = 0.16
# Columns looked up by value: ``id`` (every search's candidates, every ingest's stored rows)
# and the identifier columns of zsearch.papers.identity (every ingest batch's folding).
IDENTIFIER_COLUMNS = ("id", "arxiv_id", "pmid", "doi", "path")
PASSAGE_PAPER_INDEX = "paper_id_idx"


def ann_threshold() -> int:
    """:data:`ANN_THRESHOLD`, or ``ZSEARCH_ANN_THRESHOLD`` when set."""
    env = os.environ.get("ZSEARCH_ANN_THRESHOLD")
    return int(env) if env and env.strip().isdigit() else ANN_THRESHOLD


def index_names(table: Any) -> set[str]:
    return {ix.name for ix in table.list_indices()}


def optimize(papers: Any, chunks: Any, *, older_than_days: float | None = None,
             floor: timedelta | None = None) -> None:
    """Fold new rows into the indexes (the full-text index is created on first use) and prune
    versions older than ``older_than_days`` (None: as configured), never younger than ``floor``
    and never a pinned one: the age is always passed to LanceDB (zsearch.store.versions)."""
    from lancedb.index import FTS

    if FTS_INDEX not in index_names(papers) and papers.count_rows():
        papers.create_index("fts_text", config=FTS(), replace=True, name=FTS_INDEX)
    else:
        versions.optimize_table(papers, older_than_days, floor)
    ensure_search_indexes(papers)
    if chunks.count_rows():
        versions.optimize_table(chunks, older_than_days, floor)


def ensure_search_indexes(papers: Any) -> None:
    """Create the missing scalar indexes, the title full-text index, and the ANN index above the threshold."""
    from lancedb.index import FTS, Bitmap, BTree, LabelList

    if not papers.count_rows():
        return
    have = index_names(papers)
    wanted = [("year", BTree(), "year_idx"), ("added", BTree(), "added_idx"), ("source", Bitmap(), "source_idx"),
              ("sources", LabelList(), "sources_idx"), ("categories", LabelList(), "categories_idx"),
              ("title", FTS(), "title_idx"),
              *((column, BTree(), f"{column}_idx") for column in IDENTIFIER_COLUMNS)]
    for column, config, name in wanted:
        if name not in have:
            papers.create_index(column, config=config, replace=True, name=name)
    ensure_vector_index(papers)


def ensure_passage_indexes(chunks: Any) -> None:
    """BTREE on ``chunks.paper_id`` (a paper's passages by index), and the ANN index above the threshold."""
    from lancedb.index import BTree

    if not chunks.count_rows():
        return
    if PASSAGE_PAPER_INDEX not in index_names(chunks):
        chunks.create_index("paper_id", config=BTree(), replace=True, name=PASSAGE_PAPER_INDEX)
    ensure_vector_index(chunks)


def ensure_vector_index(papers: Any, threshold: int | None = None, *, force: bool = False) -> bool:
    """Build the IVF_RQ index once the table (papers or chunks) holds ``threshold`` rows; True if one exists after.

    Below the threshold exact (flat) search is fast enough and exact; above it LanceDB
    searches the index and scans the rows added since it was built (``optimize()`` folds
    them in), so results stay complete after every ingest.
    """
    from lancedb.index import IvfRq

    n = papers.count_rows()
    limit = ann_threshold() if threshold is None else threshold
    if VECTOR_INDEX in index_names(papers) and not force:
        return True
    if n < max(limit, 1) and not force:
        return False
    parts = max(1, int(round(n ** 0.5)))  # LanceDB's own default: sqrt(rows)
    papers.create_index("vector", config=IvfRq(distance_type="cosine", num_partitions=parts),
                        replace=True, name=VECTOR_INDEX)
    return True


def ann_nprobes(indexed_rows: int) -> int:
    """Partitions a vector query probes: :data:`ANN_NPROBES`, or :data:`ANN_PROBE_SHARE` of the
    ``sqrt(rows)`` partitions :func:`ensure_vector_index` builds, whichever is more.

    >>> ann_nprobes(100_000), ann_nprobes(1_010_000), ann_nprobes(37_000_000)
    (51, 161, 974)
    """
    return max(ANN_NPROBES, math.ceil(ANN_PROBE_SHARE * max(1, round(indexed_rows ** 0.5))))


def index_stats(papers: Any) -> dict[str, Any]:
    """Indexed vs unindexed rows of every index on the papers table."""
    out: dict[str, Any] = {}
    for ix in papers.list_indices():
        try:
            st = papers.index_stats(ix.name)
            out[ix.name] = {"type": ix.index_type, "indexed": int(st.num_indexed_rows),
                            "unindexed": int(st.num_unindexed_rows)}
        except Exception:  # noqa: BLE001 - a stats failure must not break `zsearch stats`
            out[ix.name] = {"type": ix.index_type}
    return out


def tune_ann(q: Any, nprobes: int | None, refine: int | None) -> Any:
    """Apply the ANN search parameters to a vector query (ignored by LanceDB when the table has no vector index)."""
    if nprobes:
        q = q.nprobes(nprobes)
    if refine:
        q = q.refine_factor(refine)
    return q
