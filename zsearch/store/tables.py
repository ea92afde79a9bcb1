"""The Store: the LanceDB ``papers`` and ``chunks`` tables, their reads, and the one write API.

Every write of zsearch goes through zsearch.store.commit — ingest, deletion, the sentence
backfill (via :meth:`Store.write` / :meth:`Store.delete`) and a re-embedding's staged
tables (via zsearch.store.migrate.Staging) — so how a batch becomes durable is decided once.

Vectors are L2-normalised and every vector query names ``cosine`` explicitly: an
unindexed LanceDB table defaults to L2. ``lancedb`` is imported when a Store opens.

Reads are bounded: :meth:`Store.rows` returns at most a limit of rows (and says so when a
whole-table read would pass :data:`ROWS_LIMIT`); whole-table work streams Arrow record
batches (:meth:`Store.iter_rows`, :meth:`Store.iter_vectors`), so ``export --all`` and
``cluster --all`` hold one batch of rows at a time, never the table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.errors import EmptyDatabase, ModelMismatch, NotFound, UsageError
from zsearch.papers.identity import key_values, stored_keys
from zsearch.papers.model import Paper
from zsearch.store import indexes, migrate, remote, versions
from zsearch.store.commit import WriteAPI
from zsearch.store.memory import SentenceRows, WarmStore, vector_arrays
from zsearch.store.scans import Scans
from zsearch.store.schema import (
    CHUNKS,
    HAS_SENTENCES,
    META_DIM,
    META_MODEL,
    PAPER_COLUMNS,
    PAPERS,
    chunks_schema,
    dequantize,
    papers_schema,
    resplit,
    row_to_paper,
    unpack_rows,
    with_sentence_sources,
)
from zsearch.store.sql import IN_LIST_SIZE, sql_in

# How stale a long-lived reader's view of the tables may get, in seconds: each read checks
# for a newer version at most this often (0 would check on every read, a cost per query).
READ_CONSISTENCY_SECONDS = 1.0
# Rows :meth:`Store.rows` returns when not given a limit; more matching rows is an error
# that names :meth:`Store.iter_rows`. 10,000 rows of every column (full texts, sentence
# vectors) is ~100-300 MB of Python objects, the most one list should hold.
ROWS_LIMIT = 10_000


def _quiet_lance() -> None:
    # Lance logs deprecation notes at WARN to stderr; users only need errors.
    os.environ.setdefault("LANCE_LOG", "error")


# The package of LanceDB's generated REST-namespace client: `import lancedb` imports it whole
# (`lance_namespace` imports its models, and the package's __init__ imports every API class),
# 1.4 of `import lancedb`'s 2.4 s here (`python -X importtime -c "import lancedb"`), for remote
# catalogs zsearch never opens.
REST_CLIENT = "lance_namespace_urllib3_client"


def _defer_rest_client() -> None:
    """Register :data:`REST_CLIENT` as a package whose own __init__ runs on first use.

    Its submodules (the models ``lance_namespace`` imports) load as usual through the
    package's ``__path__``; the first attribute read on the package itself runs its real
    ``__init__``, so a caller that does use the client gets all of it. Nothing happens when the
    package is already imported or not installed.
    """
    import importlib.util
    import sys

    if REST_CLIENT in sys.modules:
        return
    spec = importlib.util.find_spec(REST_CLIENT)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return
    mod = importlib.util.module_from_spec(spec)

    def load(attr: str) -> Any:
        mod.__dict__.pop("__getattr__", None)
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return getattr(mod, attr)

    mod.__getattr__ = load  # type: ignore[attr-defined]
    sys.modules[REST_CLIENT] = mod


def check_model(info: tuple[str, int], model_id: str, dim: int, home: Path) -> None:
    stored_id, stored_dim = info
    if stored_id != model_id or stored_dim != dim:
        raise ModelMismatch(
            f"the database at {home} was embedded with {stored_id} ({stored_dim} dims), "
            f"not {model_id} ({dim} dims)",
            hint=f"open it without --model, or `zsearch reembed --model {model_id}`",
        )


class Store(Scans, WarmStore, WriteAPI):
    """The LanceDB database in a zsearch data directory, or in object storage (``uri``).

    ``home`` is always a local directory: it holds the commit journal (and, for the layers
    above, the writer lock and saved searches). With ``uri`` (``s3://bucket/prefix``,
    ``gs://…``, ``az://…``) the tables live at ``<uri>/lancedb`` instead of ``home/lancedb``,
    opened through LanceDB's own object-store support with credentials, region and endpoint
    from the environment (``AWS_*``, ``GOOGLE_*``, ``AZURE_*``; zsearch.store.remote).
    """

    def __init__(self, home: Path, uri: str | None = None):
        _quiet_lance()
        _defer_rest_client()
        import lancedb

        self.home = Path(home)
        self.uri = uri
        self.path = self.home / "lancedb"
        where = f"{uri.rstrip('/')}/lancedb" if uri else str(self.path)
        # a long-lived reader (a notebook, `--queries`, the search service) sees other
        # processes' commits within this interval instead of never
        try:
            self.db = lancedb.connect(where, read_consistency_interval=timedelta(seconds=READ_CONSISTENCY_SECONDS))
        except (OSError, ValueError, RuntimeError) as exc:
            if not uri:
                raise
            raise remote.unreachable(uri, exc) from None
        self._papers: Any = None
        self._chunks: Any = None
        self._index_cache: tuple[int, list[Any]] | None = None
        self._ann_cache: tuple[int, dict[str, int]] | None = None
        self._exists = False

    # -- tables --------------------------------------------------------------------------
    def _table_names(self) -> set[str]:
        res = self.db.list_tables()
        return set(getattr(res, "tables", res))

    @property
    def exists(self) -> bool:
        # once there, the papers table stays (a reembed switch renames another one into its
        # place): listing the tables costs a directory read per call, several per search
        if not self._exists:
            self._exists = PAPERS in self._table_names()
        return self._exists

    @property
    def papers(self) -> Any:
        if self._papers is None:
            if not self.exists:
                raise EmptyDatabase(f"no papers in {self.home} yet", hint="add some with `zsearch ingest pdf PATH`")
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
        """Create the tables for ``model_id`` or check that they were made with it (upgrading an old schema)."""
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
        """Add the columns a schema-1 table lacks (zsearch.store.migrate); True if it changed anything."""
        changed = migrate.upgrade(self.papers, self.chunks, dim)
        if changed:
            self._index_cache = None
        return changed

    def sentences_int8(self) -> bool:
        """Whether the papers table stores sentence vectors as int8 + scales (schema 4)."""
        if not self.has_sentences:
            return True
        field = self.papers.schema.field("sentence_vectors")
        return str(field.type.value_type.value_type) == "int8"

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
        """Whether any paper has sentence vectors: the first match ends the scan."""
        if not self.has_sentences:
            return False
        return bool(self.papers.search().where(HAS_SENTENCES).select(["id"]).limit(1).to_list())

    # -- reads ---------------------------------------------------------------------------
    def count(self) -> int:
        return self.papers.count_rows() if self.exists else 0

    def count_chunks(self) -> int:
        return self.chunks.count_rows() if self.exists else 0

    def has_passages(self) -> bool:
        """Whether the chunks table has rows; asked again only when its version moves (every query asks)."""
        if not self.exists:
            return False
        version = self.chunks.version
        cached = self.__dict__.get("_passages")
        if cached is None or cached[0] != version:
            cached = self.__dict__["_passages"] = (version, self.chunks.count_rows() > 0)
        return cached[1]

    def version(self) -> int | None:
        return self.papers.version if self.exists else None

    def rows(self, where: str | None = None, columns: Sequence[str] | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Rows matching ``where`` as dicts: at most ``limit``, or all of them up to :data:`ROWS_LIMIT`.

        Without a limit, more than :data:`ROWS_LIMIT` matching rows is a UsageError rather than
        a silent truncation or an unbounded read: stream those with :meth:`iter_rows`.
        """
        q = self.papers.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(with_sentence_sources(columns))
        out = q.limit(ROWS_LIMIT + 1 if limit is None else limit).to_list()
        if limit is None and len(out) > ROWS_LIMIT:
            raise UsageError(f"more than {ROWS_LIMIT} rows match; read them with Store.iter_rows")
        return unpack_rows(out, columns)

    # -- streaming reads: zsearch.store.scans.Scans (iter_rows, iter_vectors, ids) -------------
    def count_where(self, where: str | None = None) -> int:
        """How many papers match ``where`` (scalar indexes answer it without reading rows)."""
        if not self.exists:
            return 0
        return self.papers.count_rows(where) if where else self.papers.count_rows()

    def passing(self, ids: Sequence[str], where: str) -> set[str]:
        """Those of ``ids`` whose papers match ``where`` (one indexed ``id IN`` lookup per 500 ids)."""
        out: set[str] = set()
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), IN_LIST_SIZE):
            part = ids[i : i + IN_LIST_SIZE]
            rows = self.rows(f"({where}) AND {sql_in('id', part)}", ["id"], limit=len(part))
            out.update(r["id"] for r in rows)
        return out

    def get_rows(self, ids: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), IN_LIST_SIZE):
            part = ids[i : i + IN_LIST_SIZE]
            for r in self.rows(sql_in("id", part), columns, limit=len(part)):
                out[r["id"]] = r
        return out

    def vectors_and_sentences(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
        """``{id: (paper vector, sentence vectors (n x dim), sentence texts)}`` (see :meth:`sentence_rows`)."""
        return self.sentence_rows(ids).by_id()

    def sentence_rows(self, ids: Sequence[str]) -> SentenceRows:
        """The paper vectors and sentence vectors of ``ids`` for the sentence stage (those that exist).

        Read as Arrow and sliced as numpy: turning a few thousand 384-float vectors into
        Python lists would cost more than the search itself. A paper without sentence
        vectors has none (an empty range).
        """
        ids = list(dict.fromkeys(ids))
        if not ids or not self.has_sentences:
            return SentenceRows.empty()
        scaled = "sentence_scales" in self.papers.schema.names
        cols = ["id", "title", "abstract", "vector", "sentences", "sentence_vectors", *(["sentence_scales"] if scaled else [])]
        tbl = self.papers.search().where(sql_in("id", ids)).select(cols).limit(len(ids)).to_arrow()
        if not tbl.num_rows:
            return SentenceRows.empty()
        heads, counts, flat, scales = vector_arrays(tbl)
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        texts = tbl.column("sentences").to_pylist()
        titles, abstracts = tbl.column("title").to_pylist(), tbl.column("abstract").to_pylist()

        def text(i: int, j: int) -> str | None:
            if texts[i] == [] and counts[i]:  # dropped at write (schema.pack_sentences): re-split, once
                texts[i] = resplit(titles[i], abstracts[i], int(counts[i]))
            return texts[i][j] if texts[i] and j < len(texts[i]) else None

        return SentenceRows(tbl.column("id").to_pylist(), heads, dequantize(flat, scales, unit=scales is not None), offsets, text)

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

    def find_by_identifiers(self, keys: Sequence[str]) -> dict[str, str]:
        """Map each identifier key (zsearch.papers.identity) that a stored paper answers to, to its id."""
        by_column = key_values(list(keys))
        conds = [sql_in(col, vals) for col, vals in by_column.items() if vals]
        if not conds:
            return {}
        found: dict[str, str] = {}
        cols = ["id", "arxiv_id", "pmid", "doi", "path"]
        for r in self.rows(" OR ".join(f"({c})" for c in conds), cols, limit=10 * len(keys) + 10):
            for key in stored_keys(r):
                found[key] = r["id"]
        return found

    def file_hashes(self, paths: Sequence[str]) -> dict[str, str]:
        """``{path: SHA-256 of the file's bytes}`` for the stored PDFs among ``paths``."""
        out: dict[str, str] = {}
        if not self.exists:
            return out
        paths = list(dict.fromkeys(paths))
        for i in range(0, len(paths), IN_LIST_SIZE):
            part = paths[i : i + IN_LIST_SIZE]
            for r in self.rows(sql_in("path", part), ["path", "extra"], limit=10 * len(part)):
                sha = json.loads(r.get("extra") or "{}").get("file_sha256")
                if sha and r.get("path"):
                    out[r["path"]] = sha
        return out

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        rows = self.get_rows(ids, ["id", "vector"])
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"no paper with id {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        return np.stack([np.asarray(rows[i]["vector"], dtype=np.float32) for i in ids]) if ids else np.zeros((0, 0), np.float32)

    # -- the write API: zsearch.store.commit.WriteAPI (write, delete, recover) -------------
    def stage(self, model_id: str, dim: int) -> migrate.Staging:
        """Staged tables for a re-embedding with ``model_id`` (resumable: they persist until the switch)."""
        return migrate.Staging(self, model_id, dim)

    # -- indexes (zsearch.store.indexes) -------------------------------------------------
    def optimize(self) -> None:
        """Fold new rows into the indexes (full-text index created on first use).

        Writers call it, holding the writer lock, so it is also where a table made before
        schema 4 gets its sentence vectors converted to int8, once (migrate.compact_sentence_vectors).
        """
        if self.exists and self.has_sentences and not self.sentences_int8():
            migrate.compact_sentence_vectors(self.papers)
        indexes.optimize(self.papers, self.chunks)
        indexes.ensure_passage_indexes(self.chunks)
        self._index_cache = None

    def maintain(self, older_than_days: float, floor: timedelta) -> dict[str, int]:
        """:meth:`optimize`, pruning versions older than ``older_than_days`` (never younger than
        ``floor``, never a pinned one; zsearch.store.versions); returns ``{table: versions deleted}``."""
        before = versions.version_counts(self)
        if self.exists and self.has_sentences and not self.sentences_int8():
            migrate.compact_sentence_vectors(self.papers)
        indexes.optimize(self.papers, self.chunks, older_than_days=older_than_days, floor=floor)
        indexes.ensure_passage_indexes(self.chunks)
        self._index_cache = None
        after = versions.version_counts(self)
        return {name: max(n - after.get(name, 0), 0) for name, n in before.items()}

    # -- version pins (zsearch.store.versions) ---------------------------------------------
    def pin_versions(self, table_versions: Mapping[str, int | None] | None = None) -> dict[str, str]:
        """Pin the tables' versions (``{"papers": 12, "chunks": 9}``; default: the current ones) so
        that no prune deletes them; returns ``{table: tag}``."""
        return versions.tag_versions(self, table_versions)

    def pins(self) -> dict[str, dict[str, int]]:
        """``{table: {tag: version}}`` of every pin."""
        return versions.pins(self)

    def unpin(self, tag: str) -> bool:
        """Remove a pin (``zsearch-v12``); the next prune may then delete its version."""
        return versions.unpin(self, tag)

    def has_fts(self) -> bool:
        return indexes.FTS_INDEX in indexes.index_names(self.papers)

    def has_fts_on(self, column: str) -> bool:
        """Whether ``column`` has a full-text index (``fts_text``: the main one; ``title``: field weighting)."""
        if not self.exists:
            return False
        return any(ix.index_type == "FTS" and list(ix.columns) == [column] for ix in self._indices())

    def _indices(self) -> list[Any]:
        if self._index_cache is None or self._index_cache[0] != self.papers.version:
            self._index_cache = (self.papers.version, list(self.papers.list_indices()))
        return self._index_cache[1]

    def ensure_search_indexes(self) -> None:
        if self.exists:
            indexes.ensure_search_indexes(self.papers)
            self._index_cache = None

    def ensure_vector_index(self, threshold: int | None = None, *, force: bool = False) -> bool:
        built = indexes.ensure_vector_index(self.papers, threshold, force=force)
        self._index_cache = None
        return built

    def nearest_papers(self, qvec: np.ndarray, depth: int, where: str | None = None, *, nprobes: int | None = None,
                       refine: int | None = None) -> tuple[list[str], np.ndarray | None, list[float]]:
        """The ``depth`` papers nearest ``qvec`` (cosine; ANN when indexed), prefiltered by ``where``:
        ``(ids, their paper vectors, 1 - cosine distance)``.

        The vectors come with an exact scan only (no ANN index: the warm index may answer the
        same query from memory, and both score the vectors alike); with an ANN index, reading
        100 vectors at random would cost more than the search (137 ms instead of 25 ms at 1M
        papers), and both paths take LanceDB's distances.
        """
        q = indexes.tune_ann(self.papers.search(qvec, vector_column_name="vector").distance_type("cosine"), nprobes, refine)
        if where:
            q = q.where(where, prefilter=True)
        with_vectors = not nprobes
        tbl = q.select(["id", *(["vector"] if with_vectors else []), "_distance"]).limit(depth).to_arrow()
        scores = [1.0 - float(d) for d in tbl.column("_distance").to_pylist()]
        heads = None
        if with_vectors:
            dim = tbl.schema.field("vector").type.list_size
            heads = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
            heads = heads.astype(np.float32, copy=False)
        return tbl.column("id").to_pylist(), heads, scores

    def _exact_scan(self) -> bool:
        """Whether a vector query scans every row (no ANN index): what the warm index may answer itself."""
        return not self.ann_params()

    def ann_params(self) -> dict[str, int]:
        """nprobes (growing with the index: zsearch.store.indexes.ann_nprobes) / refine factor for
        vector queries when the ANN index exists, else nothing."""
        if not any(ix.name == indexes.VECTOR_INDEX for ix in self._indices()):
            return {}
        version = self.papers.version
        if self._ann_cache is None or self._ann_cache[0] != version:  # one stats read per table version
            rows = int(self.papers.index_stats(indexes.VECTOR_INDEX).num_indexed_rows)
            self._ann_cache = (version, {"nprobes": indexes.ann_nprobes(rows), "refine": indexes.ANN_REFINE})
        return self._ann_cache[1]

    def index_stats(self) -> dict[str, Any]:
        return indexes.index_stats(self.papers) if self.exists else {}

    def disk_bytes(self) -> int:
        """Bytes the tables take (for a remote database: their files' sizes as the object store lists them)."""
        if self.uri:
            return remote.stored_bytes(self) if self.exists else 0
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def location(self) -> str:
        """Where the tables are, as a user would name the database: its directory or its URI."""
        return self.uri or str(self.home)
