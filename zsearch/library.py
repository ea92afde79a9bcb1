"""The :class:`Library`: the facade the CLI, the service and scripts call; it wires the rooms, holds no algorithm.

A little over 400 lines, kept as one piece: it is the public surface, one class whose methods
are each a few lines of wiring (open, ingest per source, search, read, watch, refresh, lock).

>>> from zsearch import Library                      # doctest: +SKIP
>>> lib = Library.open("~/papers-db")                # doctest: +SKIP
>>> lib.ingest_pdfs(["examples/papers"])             # doctest: +SKIP
>>> for hit in lib.search("citation-informed transformers", k=5):  # doctest: +SKIP
...     print(hit.rank, hit.id, hit.title)
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zsearch.config import Settings, check_engine
from zsearch.errors import EmptyDatabase, LockBusy, ModelMismatch, NotFound, RecordError, UsageError
from zsearch.ingest.pipeline import Ingestor, IngestReport, Progress
from zsearch.ingest.reembed import reembed
from zsearch.ops.lock import is_locked, writer_lock
from zsearch.ops.watch import Watch, Watches
from zsearch.papers.model import Deletion, Hit, Paper
from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG, SearchConfig, rerank_choice
from zsearch.search.filters import Filters, where_of
from zsearch.search.pipeline import hybrid_search
from zsearch.store.commit import COMMIT_JOURNAL
from zsearch.store.migrate import JOURNAL, finish_interrupted_switch
from zsearch.store.remote import need_local
from zsearch.store.schema import HEAD_COLUMNS, PAPER_COLUMNS, row_to_paper
from zsearch.store.tables import Store

if TYPE_CHECKING:
    from zsearch.embedding.embedder import Embedder
    from zsearch.ops.refresh import RefreshReport

__all__ = ["IngestReport", "Library"]

# How long a per-database answer (empty? sentence vectors?) is reused between queries: the
# tables' own read-consistency interval (zsearch.store.tables), so no staler than a read.
PROBE_SECONDS = 1.0
# Where `ingest zotero` remembers, per Zotero data directory, the newest dateModified it read.
ZOTERO_STATE = "zotero-state.json"
# How long a search caught by a reembed's table switch waits for it to end before reading again.
SWITCH_WAIT_SECONDS = 5.0
# Queries in one search_many from which the warm index (zsearch.store.memory) is loaded before
# they run rather than in the background: loading 5,000 papers costs about what 20 cold queries save.
WARM_BATCH = 20


class Library:
    """A zsearch database: papers, their vectors, and the model that made them."""

    def __init__(self, settings: Settings, *, model: str | None = None, device: str | None = None,
                 dim: int | None = None, max_tokens: int | None = None, create: bool = True,
                 engine: str | None = None):
        self.settings = settings
        self.home = settings.home  # local: for a database in object storage, its state directory
        self.uri = settings.db_uri
        if not create and not self.uri and not (self.home / "lancedb").is_dir():
                raise NotFound(f"no zsearch database at {self.home}",
                           hint="check --db or $ZSEARCH_HOME; `zsearch ingest …` creates one")
        self.home.mkdir(parents=True, exist_ok=True)
        self._settle_interrupted_writes()
        self.store = Store(self.home, self.uri)
        if not create and self.uri and not self.store.exists:
            raise NotFound(f"no zsearch database at {self.uri}",
                           hint="check --db or $ZSEARCH_HOME; `zsearch ingest …` creates one")
        self._probes: dict[str, tuple[float, Any]] = {}
        self._searches = 0
        self.device = device or settings.device
        self.engine = check_engine(engine) if engine else settings.engine  # zsearch.embedding.engine
        self.max_tokens = max_tokens
        self._embedder: Embedder | None = None
        info = self.store.model_info()
        if model is None:
            # a database remembers its model (and dimension); a new one takes the configured default
            self.model_name = info[0] if info else settings.model
            self.dim = info[1] if info else dim
        else:
            self.model_name = model
            self.dim = dim
            if info:
                from zsearch.embedding.profiles import resolve_profile

                wanted = resolve_profile(model).model_id
                if wanted != info[0] or (dim is not None and dim != info[1]):
                    raise ModelMismatch(
                        f"the database at {self.home} was embedded with {info[0]} ({info[1]} dims), "
                        f"not {wanted}" + (f" ({dim} dims)" if dim else ""),
                        hint=f"open it without --model, or `zsearch reembed --model {model}`",
                    )
                self.dim = info[1]

    def _settle_interrupted_writes(self) -> None:
        """Finish what a killed writer left half-done: a table switch (reembed), a commit.

        Only when no writer is alive (the writer lock is free): a live writer settles its own
        work, and a reader never races it. Cheap when there is nothing to settle (two stats).
        """
        if not (self.home / JOURNAL).exists() and not (self.home / COMMIT_JOURNAL).exists():
            return

        try:
            with writer_lock(self.home, wait=0, purpose="zsearch recovery"):
                finish_interrupted_switch(self.home)  # a reembed killed mid-switch is completed first
                Store(self.home, self.uri).recover()
        except LockBusy:
            pass

    @classmethod
    def open(cls, db: str | Path | None = None, *, model: str | None = None, device: str | None = None,
             dim: int | None = None, max_tokens: int | None = None, create: bool = True,
             engine: str | None = None) -> "Library":
        """Open (or create) the database in ``db``, ``$ZSEARCH_HOME`` or the user data dir.

        ``model`` names an embedding profile or sentence-transformers model (``dim``: a
        reduced output dimension it offers; ``max_tokens``: the context to use); by default a
        database uses the model and dimension it was made with. Asking for another is
        ModelMismatch. ``create=False`` (what read commands use) raises NotFound instead of
        creating a database where there is none, so a typo in ``--db`` creates nothing.
        """
        return cls(Settings.load(db, engine=engine), model=model, device=device, dim=dim, max_tokens=max_tokens,
                   create=create, engine=engine)

    # -- model ---------------------------------------------------------------------------
    @property
    def embedder(self) -> "Embedder":
        if self._embedder is None:
            from zsearch.embedding.embedder import load_embedder

            emb = load_embedder(self.model_name, device=self.device, dim=self.dim, max_tokens=self.max_tokens,
                                engine=self.engine)
            self.store.ensure(emb.model_id, emb.dim)
            self._embedder = emb
        return self._embedder

    # -- ingest (zsearch.ingest) -----------------------------------------------------------
    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, lambda: self.embedder)

    def ingest_papers(self, items: Iterable[Paper | RecordError | Deletion], *, progress: Progress | None = None,
                      batch_size: int | None = None) -> IngestReport:
        """Upsert papers; report failures given as RecordError instances and go on.

        Each batch is committed before the next is read: if the source raises half-way
        (a network fault) or the process dies, every earlier batch stays stored. A
        :class:`~zsearch.papers.model.Deletion` commits what came before it, then deletes.
        The model loads only when something needs embedding (zsearch.ingest.pipeline).
        """
        with self.lock(wait=self._lock_wait(), purpose="zsearch ingest"):
            return self.ingestor.ingest(items, progress=progress, batch_size=batch_size)

    def ingest_on_ray(self, kind: str, files: Sequence[str | Path], address: str = "local", *,
                      progress: Progress | None = None, batch_size: int | None = None,
                      task_papers: int | None = None) -> IngestReport:
        """Ingest ``pubmed-xml`` or ``arxiv-dump`` files with parsing and embedding as Ray tasks (``--ray``).

        ``address``: ``local`` (start Ray here), ``auto``, ``HOST:PORT`` or ``ray://HOST:10001``.
        This process folds, detects changes and commits once per batch, as :meth:`ingest_papers`
        does, so the rows stored are the same (zsearch.ingest.distributed).
        """
        from zsearch.ingest import distributed as dist

        spec = dist.ModelSpec(self.model_name, self.dim, self.max_tokens, self.device)
        if batch_size is None and not os.environ.get("ZSEARCH_WRITE_BATCH"):
            batch_size = dist.RAY_BATCH
        with self.lock(wait=self._lock_wait(), purpose=f"zsearch ingest {kind} --ray"), dist.ray_cluster(address):
            encode = dist.RayEncode(spec, task_papers or dist.TASK_PAPERS)
            ingestor = Ingestor(self.store, lambda: self.embedder, encode=encode)
            return ingestor.ingest(dist.items_on_ray(kind, files), progress=progress, batch_size=batch_size)

    def ingest_pdfs(self, paths: Sequence[str | Path], *, progress: Progress | None = None,
                    ocr: bool = True) -> IngestReport:
        """Ingest PDF files and folders (recursive); unreadable files are reported, not fatal.

        ``ocr``: read pages without a text layer with Tesseract, when it is installed.
        """
        from zsearch.sources.pdf.reader import iter_pdf_paths, iter_pdfs

        files = [str(f.resolve()) for f in iter_pdf_paths(paths)]
        known = self.store.file_hashes(files)  # unchanged bytes: the layout is not parsed again
        return self.ingest_papers(iter_pdfs(files, unchanged=lambda path, sha: known.get(path) == sha, ocr=ocr),
                                  progress=progress)

    def ingest_zotero(self, data_dir: str | Path | None = None, *, collections: Sequence[str] = (),
                      tags: Sequence[str] = (), full: bool = False, sync_deletions: bool = False,
                      attachments_base: str | Path | None = None, read_pdfs: bool = True,
                      progress: Progress | None = None) -> IngestReport:
        """Ingest a Zotero library (``zsearch ingest zotero``), read-only from a copy of zotero.sqlite.

        A second run reads only items modified since the first (Zotero's ``dateModified``,
        remembered per data directory in ``zotero-state.json``); ``full`` reads every item.
        ``sync_deletions`` withdraws papers whose Zotero item was deleted or trashed.
        """
        import json

        from zsearch.sources.zotero import ZoteroLibrary, default_zotero_dir, stored_zotero_items

        state_file = self.home / ZOTERO_STATE
        state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else {}
        where = Path(data_dir or default_zotero_dir()).expanduser().resolve()
        since = None if full or not state.get(str(where)) else datetime.fromisoformat(state[str(where)])
        with self.lock(wait=self._lock_wait(), purpose="zsearch ingest zotero"), \
                ZoteroLibrary(where, attachments_base=attachments_base) as z:
            newest = z.last_modified()
            items: Iterable[Any] = z.papers(since=since, collections=collections, tags=tags, read_pdfs=read_pdfs)
            if sync_deletions:
                mine = self.ids("array_has_any(sources, ['zotero'])")
                items = itertools.chain(items, z.deletions(stored_zotero_items(self.papers(mine))))
            report = self.ingestor.ingest(items, progress=progress)
            if newest is not None:  # an item stored without its missing PDF is read again once Zotero changes it
                state[str(where)] = newest.isoformat()
                state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        return report

    def ingest_bibtex(self, path: str | Path, *, read_pdfs: bool = True,
                      progress: Progress | None = None) -> IngestReport:
        """Ingest a ``.bib`` file (``zsearch ingest bibtex``): entries with a ``file`` PDF are read in full."""
        from zsearch.sources.bibtex import read_bibtex

        return self.ingest_papers(read_bibtex(path, read_pdfs=read_pdfs), progress=progress)

    def add_sentence_vectors(self, progress: Progress | None = None, batch: int | None = None) -> int:
        """Give every stored paper that lacks them its sentence vectors; returns how many.

        For a database made before the sentence stage (schema 1), or by a model that made
        none: the papers keep their vectors and passages, only the sentence columns are
        written, ``batch`` papers per commit (a stopped run resumes where it was).
        """
        with self.lock(wait=self._lock_wait(), purpose="zsearch reembed --sentences"):
            if batch is None:
                return self.ingestor.add_sentence_vectors(progress)
            return self.ingestor.add_sentence_vectors(progress, batch=batch)

    def delete(self, ids: Sequence[str]) -> int:
        """Withdraw papers by canonical id (``pmid:N``, ``arxiv:…``, ``doi:…``); returns how many.

        An id that names a paper merged from several sources (a PMID now stored under its
        ``arxiv:`` id) withdraws only that source's record: the paper stays with the others.
        """
        with self.lock(wait=self._lock_wait(), purpose="zsearch delete"):
            return self.ingestor.delete(ids)

    # -- read ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        filters: "Filters | str | None" = None,
        where: str | None = None,
        config: "SearchConfig | None" = None,
        rerank: str | None = None,
        rerank_top: int | None = None,
    ) -> list[Hit]:
        """Hybrid search (dense + BM25, fused; see zsearch.search.pipeline), optionally reranked.

        ``filters``: a :class:`zsearch.search.filters.Filters` (or a LanceDB SQL string), applied as
        a prefilter; ``where`` is an extra SQL condition AND-ed to it. ``rerank``: a reranker
        profile, hub name or path (default: the ``rerank`` setting); ``rerank_top``: how many
        fused candidates it re-orders.
        """
        return self.search_many([query], k, filters=filters, where=where, config=config,
                                rerank=rerank, rerank_top=rerank_top)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        filters: "Filters | str | None" = None,
        where: str | None = None,
        config: "SearchConfig | None" = None,
        rerank: str | None = None,
        rerank_top: int | None = None,
    ) -> list[list[Hit]]:
        """:meth:`search` for many queries (embedded in one batch): what ``zsearch eval`` runs."""

        if any(not q.strip() for q in queries):
            raise UsageError("the query is empty")
        if k < 1:
            raise UsageError("k must be at least 1")
        cfg = config or self.default_config()
        name = rerank_choice(rerank, cfg.rerank if config is not None else self.settings.rerank)
        cfg = cfg.replace(rerank=name or None, rerank_top=rerank_top or cfg.rerank_top).check()
        conds = [c for c in (where_of(filters), where) if c]
        sql = " AND ".join(f"({c})" for c in conds) if len(conds) > 1 else (conds[0] if conds else None)
        if not self._probe("nonempty", lambda: self.store.count() > 0):  # before the model loads
            raise EmptyDatabase(f"no papers in {self.home} yet", hint="add some with `zsearch ingest pdf PATH`")
        reranker = None
        if cfg.rerank:
            from zsearch.embedding.rerank import get_reranker

            reranker = get_reranker(cfg.rerank, self.device)
        qvecs: list[Any] = [None] * len(queries)
        if cfg.mode != "bm25":
            qvecs = list(self.embedder.encode_queries(list(queries)))
        if self._searches or len(queries) > 1:  # a process that searches again: hold the tables in memory
            self.store.keep_warm(block=len(queries) >= WARM_BATCH)
        self._searches += 1
        try:
            return [hybrid_search(self.store, qv, q, k=k, where=sql, config=cfg, reranker=reranker)
                    for q, qv in zip(queries, qvecs)]
        except Exception as exc:  # noqa: BLE001 - only a table switch under our feet is retried
            if not self._switched_meanwhile(exc):
                raise
            return [hybrid_search(self.store, qv, q, k=k, where=sql, config=cfg, reranker=reranker)
                    for q, qv in zip(queries, qvecs)]

    def _switched_meanwhile(self, exc: BaseException) -> bool:
        """Whether a read failed because a reembed swapped the tables during it; if so, reopen them.

        The switch renames two table directories (zsearch.store.migrate.switch_tables); a
        reader caught between sees a table vanish. It waits for the switch to finish (the
        writer lock) and reads again from the new tables.
        """
        text = f"{type(exc).__name__}: {exc}".lower()
        if not isinstance(exc, FileNotFoundError) and "not found" not in text and "no such file" not in text:
            return False
        deadline = time.monotonic() + SWITCH_WAIT_SECONDS
        while (is_locked(self.home) or (self.home / JOURNAL).exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.store = Store(self.home, self.uri)
        self._searches = 0
        return True

    def keep_warm(self, *, block: bool = False) -> None:
        """Hold the papers' vectors in memory for fast repeated searches (the search service
        does; a Library does it from its second search on). zsearch.store.memory."""
        self.store.keep_warm(block=block)

    def default_config(self) -> "SearchConfig":
        """DEFAULT_CONFIG; its no-sentence twin for a database with no sentence vectors at all
        (made before the sentence stage, or by a long-context model)."""
        return DEFAULT_CONFIG if self._probe("sentences", self.store.any_sentence_vectors) else NO_SENTENCE_CONFIG

    def _probe(self, name: str, ask: Any) -> Any:
        """``ask()``, asked at most once per :data:`PROBE_SECONDS` (what every query would otherwise
        ask the tables again: is the database empty, has it sentence vectors)."""
        now = time.monotonic()
        hit = self._probes.get(name)
        if hit is None or now - hit[0] > PROBE_SECONDS:
            hit = self._probes[name] = (now, ask())
        return hit[1]

    def get(self, paper_id: str) -> Paper:
        return self.store.get(paper_id)

    def papers(self, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers by id, in the order given (all papers when ``ids`` is None)."""
        if ids is None:
            return list(self.iter_papers(full_text=True))
        rows = self.store.get_rows(ids, PAPER_COLUMNS)
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"no paper with id {missing[0]!r}")
        return [row_to_paper(rows[i]) for i in ids]

    def iter_papers(self, where: str | None = None, *, full_text: bool = False) -> Iterator[Paper]:
        """Every paper matching ``where`` (all without one), streamed batch by batch; bodies only if asked."""
        for batch in self.store.iter_rows(where, PAPER_COLUMNS if full_text else HEAD_COLUMNS):
            yield from (row_to_paper(r) for r in batch)

    def iter_papers_with_vectors(self, where: str | None = None) -> Iterator[tuple[list[Paper], np.ndarray]]:
        """``(papers without bodies, their vectors)`` batch by batch, for whole-database work (``cluster --all``)."""
        for rows, vectors in self.store.iter_vectors(where, HEAD_COLUMNS):
            yield [row_to_paper(r) for r in rows], vectors

    def count(self) -> int:
        """How many papers are stored (0 for a new database)."""
        return self.store.count()

    def model_info(self) -> tuple[str, int] | None:
        """``(model id, dim)`` the stored vectors were made with; None for a new database."""
        return self.store.model_info()

    def sentence_coverage(self) -> tuple[int, int]:
        """``(papers with sentence vectors, papers)``."""
        return self.store.sentence_coverage()

    def ids(self, where: str | None = None) -> list[str]:
        """Ids of the papers matching a LanceDB SQL condition (all papers without one)."""
        return self.store.ids(where)

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Paper-level vectors (L2-normalised), one row per id, in order."""
        return self.store.vectors(ids)

    def stats(self) -> dict[str, Any]:
        """Counts by source, passages, model, size on disk — without loading the model."""
        st = self.store
        info = st.model_info()
        out: dict[str, Any] = {"database": self.uri or str(self.home), "papers": 0, "by_source": {}, "chunks": 0,
                               "model": info[0] if info else None, "dim": info[1] if info else None,
                               "table_version": st.version(), "disk_bytes": 0}
        if not st.exists:
            return out
        out["papers"] = st.count()
        by: dict[str, int] = {}
        for batch in st.iter_rows(columns=["sources"]):
            for r in batch:
                for s in r.get("sources") or ["?"]:
                    by[s] = by.get(s, 0) + 1
        out["by_source"] = dict(sorted(by.items()))
        out["chunks"] = st.count_chunks()
        # papers carrying sentence vectors (the sentence stage; 0 for long-context models)
        out["sentence_vectors"] = st.sentence_coverage()[0]
        out["full_text_index"] = st.has_fts()
        # indexed vs unindexed rows per index (vector_idx appears above the ANN threshold)
        out["indexes"] = st.index_stats()
        out["disk_bytes"] = st.disk_bytes()
        return out

    def reembed(self, model: str, *, dim: int | None = None, max_tokens: int | None = None, keep_old: bool = False,
                trust_remote_code: bool | None = None, progress: Progress | None = None) -> Any:
        """Re-embed every paper with ``model`` (``zsearch reembed``); returns a ReembedReport."""
        need_local(self.uri, "reembed (it switches tables by renaming their directories)")
        with self.lock(wait=self._lock_wait(), purpose=f"zsearch reembed --model {model}"):
            return reembed(self.home, model, dim=dim, device=self.device, max_tokens=max_tokens, keep_old=keep_old,
                           trust_remote_code=trust_remote_code, progress=progress)

    # -- saved searches and refresh (zsearch.ops.watch, zsearch.ops.refresh) -------------------------
    def add_watch(self, name: str, *, arxiv: str | None = None, pubmed: str | None = None,
                  replace: bool = False, **options: Any) -> "Watch":
        """Save a search (``zsearch watch add``); ``options``: full_text, categories, year_from,
        year_to, max_results, since (see :class:`zsearch.ops.watch.Watch`)."""
        return Watches(self.home).add(Watch(name=name, arxiv=arxiv, pubmed=pubmed, **options), replace=replace)

    def watches(self) -> list["Watch"]:
        """The saved searches of this database, sorted by name."""
        return Watches(self.home).all()

    def remove_watch(self, name: str) -> "Watch":
        """Delete a saved search (its papers stay)."""
        return Watches(self.home).remove(name)

    def refresh(self, names: Sequence[str] | None = None, *, dry_run: bool = False, wait: float = 0.0,
                overlap: float | None = None, prune_older_than: float | None = None) -> "RefreshReport":
        """Fetch what is new for saved searches (all when ``names`` is None), as ``zsearch refresh``.

        Holds the writer lock (waits ``wait`` seconds, then LockBusy). ``report.to_dict()``
        is the JSON summary; ``report.exit_code`` what the CLI exits with.
        """
        from zsearch.ops.refresh import plan, refresh

        if dry_run:
            return plan(self.settings, list(names or []), overlap=overlap)
        return refresh(self, list(names or []), overlap=overlap, prune_older_than=prune_older_than, wait=wait)

    def _lock_wait(self) -> float:
        """Seconds a writer waits for another one: ``$ZSEARCH_LOCK_WAIT``, else 0 (fail at once)."""
        try:
            return max(0.0, float(os.environ.get("ZSEARCH_LOCK_WAIT", "0") or 0))
        except ValueError:
            return 0.0

    def lock(self, wait: float = 0.0, purpose: str = "zsearch") -> Any:
        """The database's writer lock as a context manager (``with lib.lock(wait=60): ...``).

        Every writing method takes it (reentrant within a process), so two processes never
        write at once; a second writer waits ``$ZSEARCH_LOCK_WAIT`` seconds, then LockBusy.
        """

        return writer_lock(self.home, wait=wait, purpose=purpose)
