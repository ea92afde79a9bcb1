"""LanceDB storage: the ``papers`` and ``chunks`` tables, their schema and indexes.

The embedding model's id and the vector dimension are stored in the papers table's
schema metadata (``zsearch.model_id``, ``zsearch.dim``); opening a database with another
model is a :class:`~zsearch.errors.ModelMismatch`. Vectors are L2-normalised and every
vector query names ``cosine`` explicitly: an unindexed LanceDB table defaults to L2.

``lancedb`` and ``pyarrow`` are imported when a :class:`Store` opens, not before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.errors import EmptyDatabase, ModelMismatch, NotFound
from zsearch.papers.model import Paper, normalize_doi

PAPERS = "papers"
CHUNKS = "chunks"
# 2: sentence columns (``sentences``, ``sentence_vectors``); a version-1 table gets them,
# empty, the first time a model opens it (:meth:`Store.ensure`).
SCHEMA_VERSION = "2"
META_MODEL = b"zsearch.model_id"
META_DIM = b"zsearch.dim"
META_SCHEMA = b"zsearch.schema_version"

# Columns a search reads back (never the full text or vector: they are large).
HIT_COLUMNS = ["id", "title", "year", "source", "authors", "doi", "url", "abstract"]
LIST_FIELDS = ("authors", "categories", "sources")
# Columns a Paper is made from (row_to_paper): never the vectors, which dwarf the rest.
PAPER_COLUMNS = ["id", "source", "sources", "title", "abstract", "authors", "year", "doi", "arxiv_id", "pmid",
                 "url", "path", "full_text", "categories", "published", "extra"]
# Papers whose sentence vectors are stored. ``sentences`` and ``sentence_vectors`` are null
# together (paper_row, add_columns and Library.add_sentence_vectors write them as a pair), and
# testing the list of strings reads far less than the list of vectors: 0.4 s instead of 2.7 s
# to count 100k papers, 45 ms instead of 2.7 s for any_sentence_vectors().
HAS_SENTENCES = "sentences IS NOT NULL"
VECTOR_INDEX = "vector_idx"
# Rows from which an IVF_RQ vector index is built: below ~100k papers an exact scan of
# 384-dim vectors takes tens of milliseconds (benchmarks/search.py), and it is exact.
ANN_THRESHOLD = 100_000
# ANN search parameters, tuned in benchmarks/search.py so that recall@10 against exact
# search is >= 0.97 at 100k rows (docs/benchmarks.md, "Search latency").
ANN_NPROBES = 32
ANN_REFINE = 10


def ann_threshold() -> int:
    """:data:`ANN_THRESHOLD`, or ``ZSEARCH_ANN_THRESHOLD`` when set."""
    env = os.environ.get("ZSEARCH_ANN_THRESHOLD")
    return int(env) if env and env.strip().isdigit() else ANN_THRESHOLD


def _quiet_lance() -> None:
    # Lance logs deprecation notes at WARN to stderr; users only need errors.
    os.environ.setdefault("LANCE_LOG", "error")


def sql_str(value: str) -> str:
    """Quote a string for a LanceDB SQL filter."""
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    vals = list(values)
    if not vals:
        return "false"
    return f"{column} IN ({', '.join(sql_str(v) for v in vals)})"


def papers_schema(dim: int, model_id: str) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("source", pa.string()),
            pa.field("sources", pa.list_(pa.string())),
            pa.field("title", pa.string()),
            pa.field("abstract", pa.string()),
            pa.field("authors", pa.list_(pa.string())),
            pa.field("year", pa.int32()),
            pa.field("doi", pa.string()),
            pa.field("arxiv_id", pa.string()),
            pa.field("pmid", pa.string()),
            pa.field("url", pa.string()),
            pa.field("path", pa.string()),
            pa.field("full_text", pa.string()),
            pa.field("categories", pa.list_(pa.string())),
            pa.field("published", pa.string()),
            pa.field("extra", pa.string()),  # JSON object
            pa.field("content_hash", pa.string()),
            pa.field("token_count", pa.int32()),
            pa.field("n_chunks", pa.int32()),
            pa.field("added", pa.timestamp("us", tz="UTC")),
            pa.field("updated", pa.timestamp("us", tz="UTC")),
            # what the full-text (BM25) index reads: title, abstract and body
            pa.field("fts_text", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
            *sentence_fields(dim),
        ],
        metadata={META_MODEL: model_id.encode(), META_DIM: str(dim).encode(), META_SCHEMA: SCHEMA_VERSION.encode()},
    )


def sentence_fields(dim: int) -> list[Any]:
    """The sentence stage's columns (zsearch.ingest.sentences): texts and one vector per text.

    Null for a paper stored before schema 2 or embedded by a model that makes none
    (long-context profiles); search then uses the paper score alone.
    """
    import pyarrow as pa

    return [pa.field("sentences", pa.list_(pa.string())),
            pa.field("sentence_vectors", pa.list_(pa.list_(pa.float32(), dim)))]


def chunks_schema(dim: int) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),  # "<paper id>#<n>"
            pa.field("paper_id", pa.string()),
            pa.field("idx", pa.int32()),
            pa.field("text", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def paper_row(p: Paper, *, vector: np.ndarray, token_count: int, n_chunks: int, added: datetime,
              sentences: Sequence[str] | None = None, sentence_vectors: np.ndarray | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "source": p.source,
        "sources": list(p.sources),
        "title": p.title,
        "abstract": p.abstract,
        "authors": list(p.authors),
        "year": p.year,
        "doi": p.doi,
        "arxiv_id": p.arxiv_id,
        "pmid": p.pmid,
        "url": p.url,
        "path": p.path,
        "full_text": p.full_text,
        "categories": list(p.categories),
        "published": p.published,
        "extra": json.dumps(p.extra, ensure_ascii=False, sort_keys=True),
        "content_hash": p.content_hash(),
        "token_count": int(token_count),
        "n_chunks": int(n_chunks),
        "added": added,
        "updated": now_utc(),
        "fts_text": p.document_text,
        "vector": np.asarray(vector, dtype=np.float32),
        "sentences": list(sentences) if sentences is not None else None,
        "sentence_vectors": (None if sentence_vectors is None
                             else [np.asarray(v, dtype=np.float32) for v in sentence_vectors]),
    }


def paper_row_keeping(p: Paper, old: dict[str, Any]) -> dict[str, Any]:
    """``p`` as a row that keeps the stored row's vectors (its text did not change)."""
    return paper_row(p, vector=np.asarray(old["vector"]), token_count=old.get("token_count") or 0,
                     n_chunks=old.get("n_chunks") or 0, added=old["added"], sentences=old.get("sentences"),
                     sentence_vectors=old.get("sentence_vectors"))


def row_to_paper(row: dict[str, Any]) -> Paper:
    extra = row.get("extra") or "{}"
    p = Paper(
        id=row["id"],
        source=row.get("source") or "",
        title=row.get("title") or "",
        abstract=row.get("abstract") or "",
        authors=list(row.get("authors") or []),
        year=row.get("year"),
        doi=row.get("doi"),
        arxiv_id=row.get("arxiv_id"),
        pmid=row.get("pmid"),
        url=row.get("url"),
        path=row.get("path"),
        full_text=row.get("full_text") or "",
        categories=list(row.get("categories") or []),
        published=row.get("published"),
        sources=list(row.get("sources") or []),
        extra=json.loads(extra) if isinstance(extra, str) else dict(extra),
    )
    return p


class Store:
    """The LanceDB database in a zsearch data directory."""

    def __init__(self, home: Path):
        _quiet_lance()
        import lancedb

        self.home = Path(home)
        self.path = self.home / "lancedb"
        self.db = lancedb.connect(str(self.path))
        self._papers: Any = None
        self._chunks: Any = None

    # -- tables --------------------------------------------------------------------------
    def _table_names(self) -> set[str]:
        res = self.db.list_tables()
        names = getattr(res, "tables", res)
        return set(names)

    @property
    def exists(self) -> bool:
        return PAPERS in self._table_names()

    @property
    def papers(self) -> Any:
        if self._papers is None:
            if not self.exists:
                raise EmptyDatabase(
                    f"no papers in {self.home} yet", hint="add some with `zsearch ingest pdf PATH`"
                )
            self._papers = self.db.open_table(PAPERS)
        return self._papers

    @property
    def chunks(self) -> Any:
        if self._chunks is None:
            self._chunks = self.db.open_table(CHUNKS)
        return self._chunks

    def model_info(self) -> tuple[str, int] | None:
        """``(model_id, dim)`` stored with the vectors, or None for a new database."""
        if not self.exists:
            return None
        md = self.papers.schema.metadata or {}
        return md.get(META_MODEL, b"?").decode(), int(md.get(META_DIM, b"0").decode() or 0)

    def ensure(self, model_id: str, dim: int) -> None:
        """Create the tables for ``model_id`` or check that they were made with it."""
        info = self.model_info()
        if CHUNKS not in self._table_names():
            # chunks first: the papers table is the marker that a database is complete
            self._chunks = self.db.create_table(CHUNKS, schema=chunks_schema(info[1] if info else dim), exist_ok=True)
        if info is None:
            self._papers = self.db.create_table(PAPERS, schema=papers_schema(dim, model_id), exist_ok=True)
            return
        check_model(info, model_id, dim, self.home)
        self.upgrade(dim)

    def upgrade(self, dim: int) -> bool:
        """Add the columns a schema-1 table lacks (empty); True if it changed anything."""
        names = set(self.papers.schema.names)
        missing = [f for f in sentence_fields(dim) if f.name not in names]
        if not missing:
            return False
        self.papers.add_columns(missing)
        self._index_cache = None
        return True

    @property
    def has_sentences(self) -> bool:
        """Whether the papers table has the sentence columns (schema 2)."""
        return self.exists and "sentence_vectors" in self.papers.schema.names

    def sentence_coverage(self) -> tuple[int, int]:
        """(papers with sentence vectors, papers)."""
        n = self.count()
        if not self.has_sentences or not n:
            return 0, n
        return self.papers.count_rows(HAS_SENTENCES), n

    def any_sentence_vectors(self) -> bool:
        """Whether any paper has sentence vectors: the first match ends the scan (every search asks)."""
        if not self.has_sentences:
            return False
        return bool(self.papers.search().where(HAS_SENTENCES).select(["id"]).limit(1).to_list())

    # -- reads ---------------------------------------------------------------------------
    def count(self) -> int:
        return self.papers.count_rows() if self.exists else 0

    def version(self) -> int | None:
        return self.papers.version if self.exists else None

    def rows(self, where: str | None = None, columns: Sequence[str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        q = self.papers.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(list(columns))
        q = q.limit(limit if limit is not None else max(self.count(), 1))
        return q.to_list()

    def get_rows(self, ids: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            for r in self.rows(sql_in("id", part), columns, limit=len(part)):
                out[r["id"]] = r
        return out

    def vectors_and_sentences(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
        """``{id: (paper vector, sentence vectors (n x dim), sentence texts)}`` for the sentence stage.

        Read as Arrow and sliced as numpy: turning a few thousand 384-float vectors into
        Python lists would cost more than the search itself. A paper without sentence
        vectors gets an empty (0 x dim) matrix.
        """
        import pyarrow.compute as pc

        ids = list(dict.fromkeys(ids))
        if not ids or not self.has_sentences:
            return {}
        tbl = (self.papers.search().where(sql_in("id", ids)).select(["id", "vector", "sentences", "sentence_vectors"])
               .limit(len(ids)).to_arrow())
        if not tbl.num_rows:
            return {}
        dim = tbl.schema.field("vector").type.list_size
        heads = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
        sv = tbl.column("sentence_vectors").combine_chunks()
        counts = pc.fill_null(pc.list_value_length(sv), 0).to_numpy(zero_copy_only=False)
        flat = sv.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
        texts = tbl.column("sentences").to_pylist()
        out: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
        at = 0
        for i, pid in enumerate(tbl.column("id").to_pylist()):
            n = int(counts[i])
            out[pid] = (heads[i], flat[at : at + n], texts[i] or [])
            at += n
        return out

    def get(self, paper_id: str) -> Paper:
        """A paper by id, or by an unambiguous prefix of a ``sha256:`` id (as tables show them)."""
        rows = self.get_rows([paper_id], PAPER_COLUMNS)
        if paper_id in rows:
            return row_to_paper(rows[paper_id])
        if paper_id.startswith("sha256:") and len(paper_id) >= len("sha256:") + 8:
            like = paper_id.replace("'", "''").replace("%", "").replace("_", "")
            found = self.rows(f"id LIKE '{like}%'", PAPER_COLUMNS, limit=2)
            if len(found) == 1:
                return row_to_paper(found[0])
            if len(found) > 1:
                raise NotFound(f"id prefix {paper_id!r} matches several papers; give more of it")
        raise NotFound(f"no paper with id {paper_id!r}", hint="`zsearch search` shows ids")

    def find_by_identifiers(self, papers: Sequence[Paper]) -> dict[str, str]:
        """Map each identifier key (``arxiv:…``, ``pmid:…``, ``doi:…``) present in the store to its paper id."""
        conds: list[str] = []
        arx = sorted({p.arxiv_id for p in papers if p.arxiv_id})
        pm = sorted({p.pmid for p in papers if p.pmid})
        dois = sorted({normalize_doi(p.doi) for p in papers if p.doi})
        ids = sorted({p.id for p in papers})
        paths = sorted({p.path for p in papers if p.path and p.id.startswith("sha256:")})
        if paths:
            conds.append(sql_in("path", paths))
        if arx:
            conds.append(sql_in("arxiv_id", arx))
        if pm:
            conds.append(sql_in("pmid", pm))
        if dois:
            conds.append(sql_in("doi", dois))
        conds.append(sql_in("id", ids))
        found: dict[str, str] = {}
        cols = ["id", "arxiv_id", "pmid", "doi", "path"]
        for r in self.rows(" OR ".join(f"({c})" for c in conds), cols, limit=10 * len(papers) + 10):
            found[f"id:{r['id']}"] = r["id"]
            if r.get("path"):
                found[f"path:{r['path']}"] = r["id"]
            if r.get("arxiv_id"):
                found[f"arxiv:{r['arxiv_id']}"] = r["id"]
            if r.get("pmid"):
                found[f"pmid:{r['pmid']}"] = r["id"]
            if r.get("doi"):
                found[f"doi:{r['doi']}"] = r["id"]
        return found

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        rows = self.get_rows(ids, ["id", "vector"])
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"no paper with id {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        return np.stack([np.asarray(rows[i]["vector"], dtype=np.float32) for i in ids]) if ids else np.zeros((0, 0), np.float32)

    # -- writes --------------------------------------------------------------------------
    def write(self, paper_rows: list[dict[str, Any]], chunk_rows: list[dict[str, Any]], replace_chunks_of: Sequence[str]) -> None:
        """Commit one batch: chunks first, then papers (the papers row is the commit marker).

        If a run dies between the two, the paper's stored hash does not match yet, so the
        next run re-embeds it and replaces its chunks: nothing is lost or duplicated.
        """
        if replace_chunks_of:
            for i in range(0, len(replace_chunks_of), 500):
                self.chunks.delete(sql_in("paper_id", replace_chunks_of[i : i + 500]))
        if chunk_rows:
            self.chunks.add(chunk_rows)
        if paper_rows:
            (
                self.papers.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(paper_rows)
            )

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or not self.exists:
            return 0
        present = list(self.get_rows(ids, ["id"]))
        if present:
            self.chunks.delete(sql_in("paper_id", present))
            self.papers.delete(sql_in("id", present))
        return len(present)

    def optimize(self) -> None:
        """Fold new rows into the indexes (full-text index created on first use)."""
        from lancedb.index import FTS

        names = {ix.name for ix in self.papers.list_indices()}
        if "fts_text_idx" not in names and self.count():
            self.papers.create_index("fts_text", config=FTS(), replace=True, name="fts_text_idx")
        else:
            self.papers.optimize()
        self.ensure_search_indexes()
        if self.chunks.count_rows():
            self.chunks.optimize()

    def has_fts(self) -> bool:
        return any(ix.name == "fts_text_idx" for ix in self.papers.list_indices())

    # -- search indexes (docs/search.md) --------------------------------------------------
    def has_fts_on(self, column: str) -> bool:
        """Whether ``column`` has a full-text index (``fts_text``: the main one; ``title``: field weighting)."""
        if not self.exists:
            return False
        return any(ix.index_type == "FTS" and list(ix.columns) == [column] for ix in self._indices())

    def _indices(self) -> list[Any]:
        if getattr(self, "_index_cache", None) is None or self._index_cache[0] != self.papers.version:
            self._index_cache = (self.papers.version, list(self.papers.list_indices()))
        return self._index_cache[1]

    def ensure_search_indexes(self) -> None:
        """Scalar indexes for filters, the title full-text index, and the ANN index above the threshold.

        Scalar indexes make filters prefilters that cost an index lookup: BTREE on ``year``
        and ``added`` (ranges), BITMAP on ``source`` (few distinct values), LABEL_LIST on
        ``sources`` and ``categories`` (``array_has_any``). Existing indexes are folded
        forward by ``optimize()``; this only creates the missing ones.
        """
        from lancedb.index import FTS, Bitmap, BTree, LabelList

        if not self.exists or not self.count():
            return
        have = {ix.name for ix in self.papers.list_indices()}
        wanted = [("year", BTree(), "year_idx"), ("added", BTree(), "added_idx"), ("source", Bitmap(), "source_idx"),
                  ("sources", LabelList(), "sources_idx"), ("categories", LabelList(), "categories_idx"),
                  ("title", FTS(), "title_idx")]
        for column, config, name in wanted:
            if name not in have:
                self.papers.create_index(column, config=config, replace=True, name=name)
        self.ensure_vector_index()
        self._index_cache = None

    def ensure_vector_index(self, threshold: int | None = None, *, force: bool = False) -> bool:
        """Build the IVF_RQ index once the table holds ``threshold`` rows; True if one exists after.

        Below the threshold exact (flat) search is fast enough and exact; above it LanceDB
        searches the index and scans the rows added since it was built (``optimize()`` folds
        them in), so results stay complete after every ingest.
        """
        from lancedb.index import IvfRq

        n = self.count()
        limit = ann_threshold() if threshold is None else threshold
        have = any(ix.name == VECTOR_INDEX for ix in self.papers.list_indices())
        if have and not force:
            return True
        if n < max(limit, 1) and not force:
            return False
        parts = max(1, int(round(n ** 0.5)))  # LanceDB's own default: sqrt(rows)
        self.papers.create_index("vector", config=IvfRq(distance_type="cosine", num_partitions=parts),
                                 replace=True, name=VECTOR_INDEX)
        self._index_cache = None
        return True

    def ann_params(self) -> dict[str, int]:
        """nprobes / refine factor for vector queries when the ANN index exists, else nothing."""
        if not any(ix.name == VECTOR_INDEX for ix in self._indices()):
            return {}
        return {"nprobes": ANN_NPROBES, "refine": ANN_REFINE}

    def index_stats(self) -> dict[str, Any]:
        """Indexed vs unindexed rows of every index on the papers table."""
        out: dict[str, Any] = {}
        if not self.exists:
            return out
        for ix in self.papers.list_indices():
            try:
                st = self.papers.index_stats(ix.name)
                out[ix.name] = {"type": ix.index_type, "indexed": int(st.num_indexed_rows),
                                "unindexed": int(st.num_unindexed_rows)}
            except Exception:  # noqa: BLE001 - a stats failure must not break `zsearch stats`
                out[ix.name] = {"type": ix.index_type}
        return out

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


def check_model(info: tuple[str, int], model_id: str, dim: int, home: Path) -> None:
    stored_id, stored_dim = info
    if stored_id != model_id or stored_dim != dim:
        raise ModelMismatch(
            f"the database at {home} was embedded with {stored_id} ({stored_dim} dims), "
            f"not {model_id} ({dim} dims)",
            hint=f"open it without --model, or `zsearch reembed --model {model_id}`",
        )
