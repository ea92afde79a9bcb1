"""The :class:`Library`: what the CLI and Python scripts call.

>>> from zsearch import Library                      # doctest: +SKIP
>>> lib = Library.open("~/papers-db")                # doctest: +SKIP
>>> lib.ingest_pdfs(["examples/papers"])             # doctest: +SKIP
>>> for hit in lib.search("citation-informed transformers", k=5):  # doctest: +SKIP
...     print(hit.rank, hit.id, hit.title)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zsearch.config import Settings
from zsearch.errors import ModelMismatch, RecordError
from zsearch.papers.merge import merge_papers
from zsearch.papers.model import Deletion, Hit, Paper, normalize_doi
from zsearch.ingest.sentences import covers_whole_text, paper_sentences
from zsearch.store.tables import HAS_SENTENCES, PAPER_COLUMNS, Store, now_utc, paper_row, paper_row_keeping, row_to_paper

if TYPE_CHECKING:
    from zsearch.embedding.embedder import Embedder
    from zsearch.search.filters import Filters
    from zsearch.ops.refresh import RefreshReport
    from zsearch.search.config import SearchConfig
    from zsearch.ops.watch import Watch

# Papers per committed write: small enough that an interrupted run loses at most this
# many papers' work, large enough that LanceDB commits stay cheap (one version each).
WRITE_BATCH = 64

Progress = Callable[[int, int], None]  # (papers done, tokens embedded)


@dataclass
class IngestReport:
    """What an ingest did. ``exit_code``: 0 all ok, 1 some records failed (the rest stored)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    ids: list[str] = field(default_factory=list)  # papers added or updated

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": [{"record": r, "reason": why} for r, why in self.failed],
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
        }


def _identifier_keys(p: Paper) -> list[str]:
    keys = [f"id:{p.id}"]
    if p.arxiv_id:
        keys.append(f"arxiv:{p.arxiv_id}")
    if p.pmid:
        keys.append(f"pmid:{p.pmid}")
    if p.doi:
        keys.append(f"doi:{normalize_doi(p.doi)}")
    if p.source == "pdf" and p.path and p.id.startswith("sha256:"):
        keys.append(f"path:{p.path}")  # an edited PDF with no identifier is still the same paper
    return keys


class Library:
    """A zsearch database: papers, their vectors, and the model that made them."""

    def __init__(self, settings: Settings, *, model: str | None = None, device: str | None = None,
                 dim: int | None = None, max_tokens: int | None = None):
        self.settings = settings
        self.home = settings.home
        self.home.mkdir(parents=True, exist_ok=True)
        from zsearch.ingest.reembed import finish_interrupted_switch

        finish_interrupted_switch(self.home)  # a reembed killed mid-switch is completed first
        self.store = Store(self.home)
        self.device = device or settings.device
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
                from zsearch.embedding.embedder import resolve_profile

                wanted = resolve_profile(model).model_id
                if wanted != info[0] or (dim is not None and dim != info[1]):
                    raise ModelMismatch(
                        f"the database at {self.home} was embedded with {info[0]} ({info[1]} dims), "
                        f"not {wanted}" + (f" ({dim} dims)" if dim else ""),
                        hint=f"open it without --model, or `zsearch reembed --model {model}`",
                    )
                self.dim = info[1]

    @classmethod
    def open(cls, db: str | Path | None = None, *, model: str | None = None, device: str | None = None,
             dim: int | None = None, max_tokens: int | None = None) -> "Library":
        """Open (or create) the database in ``db``, ``$ZSEARCH_HOME`` or the user data dir.

        ``model`` names an embedding profile or sentence-transformers model (``dim``: a
        reduced output dimension it offers; ``max_tokens``: the context to use); by default a
        database uses the model and dimension it was made with. Asking for another is
        ModelMismatch.
        """
        return cls(Settings.load(db), model=model, device=device, dim=dim, max_tokens=max_tokens)

    # -- model ---------------------------------------------------------------------------
    @property
    def embedder(self) -> "Embedder":
        if self._embedder is None:
            from zsearch.embedding.embedder import load_embedder

            emb = load_embedder(self.model_name, device=self.device, dim=self.dim, max_tokens=self.max_tokens)
            self.store.ensure(emb.model_id, emb.dim)
            self._embedder = emb
        return self._embedder

    # -- ingest --------------------------------------------------------------------------
    def ingest_papers(
        self,
        items: Iterable[Paper | RecordError | Deletion],
        *,
        progress: Progress | None = None,
        batch_size: int = WRITE_BATCH,
    ) -> IngestReport:
        """Upsert papers; report failures given as RecordError instances and go on.

        Each batch is committed before the next is read: if the source raises half-way
        (a network fault) or the process dies, every earlier batch stays stored. A
        :class:`~zsearch.papers.model.Deletion` commits what came before it, then deletes, so a
        later record or deletion wins over an earlier one. The model loads only when
        something needs embedding.
        """
        report = IngestReport()
        t0 = time.perf_counter()
        batch: list[Paper] = []
        try:
            for item in items:
                if isinstance(item, RecordError):
                    report.failed.append((item.record or "?", item.message))
                    if progress:
                        progress(1, 0)
                    continue
                if isinstance(item, Deletion):
                    self._ingest_batch(batch, report, progress)
                    batch = []
                    report.deleted += self.delete(item.ids)
                    continue
                batch.append(item)
                if len(batch) >= batch_size:
                    self._ingest_batch(batch, report, progress)
                    batch = []
        except Exception:
            # a source failed half-way (network, truncated file): commit what it gave first
            self._finish_ingest(batch, report, progress, t0)
            raise
        self._finish_ingest(batch, report, progress, t0)
        return report

    def _finish_ingest(self, batch: list[Paper], report: IngestReport, progress: Progress | None, t0: float) -> None:
        self._ingest_batch(batch, report, progress)
        if report.added or report.updated or report.deleted:
            self.store.optimize()
        report.seconds = time.perf_counter() - t0

    def ingest_pdfs(self, paths: Sequence[str | Path], *, progress: Progress | None = None) -> IngestReport:
        """Ingest PDF files and folders (recursive); unreadable files are reported, not fatal."""
        from zsearch.sources.pdf.reader import iter_pdfs

        return self.ingest_papers(iter_pdfs(paths), progress=progress)

    def _ingest_batch(self, batch: list[Paper], report: IngestReport, progress: Progress | None) -> None:
        if not batch:
            return
        if not self.store.exists:
            _ = self.embedder  # a new database: loading the model creates its tables
        found = self.store.find_by_identifiers(batch)
        # fold records of one paper within the batch and onto stored papers
        pending: dict[str, Paper] = {}
        keymap: dict[str, str] = {}
        target_of: dict[str, str | None] = {}  # pending id -> stored id (None: new)
        for p in batch:
            keys = _identifier_keys(p)
            hit = next((keymap[k] for k in keys if k in keymap), None)
            if hit is not None:
                pending[hit] = merge_papers(pending[hit], p)
                pid = hit
            else:
                stored = next((found[k] for k in keys if k in found), None)
                pid = stored or p.id
                if pid != p.id:
                    p = _with_id(p, pid)
                pending[pid] = p
                target_of[pid] = stored
            for k in _identifier_keys(pending[pid]):
                keymap.setdefault(k, pid)
        old_rows = self.store.get_rows([sid for sid in target_of.values() if sid])
        to_embed: list[Paper] = []
        meta_only: list[dict[str, Any]] = []
        now = now_utc()
        for pid, p in pending.items():
            old = old_rows.get(target_of[pid] or "")
            if old is not None:
                p = merge_papers(row_to_paper(old), p)
                if p.content_hash() == old["content_hash"]:
                    if _metadata_equal(p, row_to_paper(old)):
                        report.unchanged += 1
                    else:
                        meta_only.append(paper_row_keeping(p, old))
                        report.updated += 1
                        report.ids.append(pid)
                    continue
            to_embed.append(p)
        paper_rows, chunk_rows, tokens = self._embed_papers(to_embed, old_rows, target_of, now)
        for p in to_embed:
            if target_of.get(p.id):
                report.updated += 1
            else:
                report.added += 1
            report.ids.append(p.id)
        report.tokens += tokens
        self.store.write(paper_rows + meta_only, chunk_rows, [p.id for p in to_embed if target_of.get(p.id)])
        if progress:
            progress(len(batch), tokens)

    def _embed_papers(self, papers: list[Paper], old_rows: dict[str, Any],
                      target_of: dict[str, str | None], now: Any) -> tuple[list[dict], list[dict], int]:
        if not papers:
            return [], [], 0
        return embed_papers(self.embedder, papers, old_rows, target_of, now)

    def add_sentence_vectors(self, progress: Progress | None = None, batch: int = 256) -> int:
        """Give every stored paper that lacks them its sentence vectors; returns how many.

        For a database made before the sentence stage (schema 1), or by a model that made
        none: the papers keep their vectors and passages, only the sentence columns are
        written, batch by batch (a stopped run resumes where it was). A no-op for a model
        whose profile makes no sentence vectors. Take :meth:`lock` around it.
        """
        emb = self.embedder  # opens (and upgrades) the tables
        st = self.store
        if not emb.sentence_vectors or not st.count():
            return 0
        todo = [r["id"] for r in st.rows(f"NOT ({HAS_SENTENCES})", ["id"])]
        done = 0
        for start in range(0, len(todo), batch):
            rows = st.get_rows(todo[start : start + batch])
            papers = {pid: row_to_paper(old) for pid, old in rows.items()}
            sents = {pid: paper_sentences(p.title, p.abstract, p.full_text) for pid, p in papers.items()}
            flat = [t for pid in rows for t in sents[pid]]
            vecs = emb.encode_documents(flat) if flat else np.zeros((0, emb.dim), np.float32)
            out, at = [], 0
            for pid, old in rows.items():
                row = paper_row_keeping(papers[pid], old)
                row["updated"] = old["updated"]  # the paper did not change
                n = len(sents[pid])
                # a paper with nothing to embed gets empty lists, not NULL: it is done
                row["sentences"], row["sentence_vectors"] = sents[pid], list(vecs[at : at + n])
                at += n
                out.append(row)
            st.write(out, [], [])
            done += len(out)
            if progress:
                progress(len(out), 0)
        if done:
            st.optimize()
        return done

    def delete(self, ids: Sequence[str]) -> int:
        """Withdraw papers by canonical id (``pmid:N``, ``arxiv:…``, ``doi:…``); returns how many.

        An id that names a paper merged from several sources (a PMID now stored under its
        ``arxiv:`` id) withdraws only that source's record: the paper stays with the others.
        """
        if not ids or not self.store.exists:
            return 0
        probes = [_probe_paper(i) for i in ids]
        found = self.store.find_by_identifiers([p for p in probes if p is not None])
        whole: list[str] = []
        partial: list[tuple[str, str]] = []  # (stored id, source withdrawn)
        for wanted, probe in zip(ids, probes):
            keys = _identifier_keys(probe) if probe is not None else [f"id:{wanted}"]
            stored = next((found[k] for k in keys if k in found), None)
            if stored is None:
                continue
            if stored == wanted or probe is None or probe.source not in ("pubmed", "arxiv"):
                whole.append(stored)
            else:
                partial.append((stored, probe.source))
        n = self.store.delete(whole)
        rows = self.store.get_rows([sid for sid, _ in partial])
        updates = []
        for sid, source in partial:
            if sid not in rows or sid in whole:
                continue
            p = row_to_paper(rows[sid])
            p.sources = [s for s in p.sources if s != source]
            if not p.sources:
                n += self.store.delete([sid])
                continue
            if source == "pubmed":
                p.pmid = None
            old = rows[sid]
            updates.append(paper_row_keeping(p, old))
            n += 1
        if updates:
            self.store.write(updates, [], [])
        return n

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
        from zsearch.errors import UsageError
        from zsearch.search.config import rerank_choice
        from zsearch.search.filters import where_of
        from zsearch.search.pipeline import hybrid_search

        if any(not q.strip() for q in queries):
            raise UsageError("the query is empty")
        if k < 1:
            raise UsageError("k must be at least 1")
        cfg = config or self.default_config()
        name = rerank_choice(rerank, cfg.rerank if config is not None else self.settings.rerank)
        cfg = cfg.replace(rerank=name or None, rerank_top=rerank_top or cfg.rerank_top).check()
        conds = [c for c in (where_of(filters), where) if c]
        sql = " AND ".join(f"({c})" for c in conds) if len(conds) > 1 else (conds[0] if conds else None)
        store = self.store
        _ = store.papers  # raises EmptyDatabase before the model loads
        if store.count() == 0:
            from zsearch.errors import EmptyDatabase

            raise EmptyDatabase(f"no papers in {self.home} yet", hint="add some with `zsearch ingest pdf PATH`")
        reranker = None
        if cfg.rerank:
            from zsearch.embedding.rerank import get_reranker

            reranker = get_reranker(cfg.rerank, self.device)
        qvecs: list[Any] = [None] * len(queries)
        if cfg.mode != "bm25":
            qvecs = list(self.embedder.encode_queries(list(queries)))
        return [hybrid_search(store, qv, q, k=k, where=sql, config=cfg, reranker=reranker)
                for q, qv in zip(queries, qvecs)]

    def default_config(self) -> "SearchConfig":
        """DEFAULT_CONFIG; its no-sentence twin for a database with no sentence vectors at all
        (made before the sentence stage, or by a long-context model)."""
        from zsearch.search.config import DEFAULT_CONFIG, NO_SENTENCE_CONFIG

        return DEFAULT_CONFIG if self.store.any_sentence_vectors() else NO_SENTENCE_CONFIG

    def get(self, paper_id: str) -> Paper:
        return self.store.get(paper_id)

    def papers(self, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers by id, in the order given (all papers when ``ids`` is None)."""
        if ids is None:
            return [row_to_paper(r) for r in self.store.rows(columns=PAPER_COLUMNS)] if self.store.exists else []
        rows = self.store.get_rows(ids, PAPER_COLUMNS)
        from zsearch.errors import NotFound

        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound(f"no paper with id {missing[0]!r}")
        return [row_to_paper(rows[i]) for i in ids]

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
        if not self.store.exists:
            return []
        return [r["id"] for r in self.store.rows(where, ["id"])]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Paper-level vectors (L2-normalised), one row per id, in order."""
        return self.store.vectors(ids)

    def stats(self) -> dict[str, Any]:
        """Counts by source, passages, model, size on disk — without loading the model."""
        st = self.store
        info = st.model_info()
        out: dict[str, Any] = {"database": str(self.home), "papers": 0, "by_source": {}, "chunks": 0,
                               "model": info[0] if info else None, "dim": info[1] if info else None,
                               "table_version": st.version(), "disk_bytes": 0}
        if not st.exists:
            return out
        out["papers"] = st.count()
        by: dict[str, int] = {}
        for r in st.rows(columns=["sources"]):
            for s in r.get("sources") or ["?"]:
                by[s] = by.get(s, 0) + 1
        out["by_source"] = dict(sorted(by.items()))
        out["chunks"] = st.chunks.count_rows()
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
        from zsearch.ingest.reembed import reembed

        return reembed(self.home, model, dim=dim, device=self.device, max_tokens=max_tokens, keep_old=keep_old,
                       trust_remote_code=trust_remote_code, progress=progress)

    # -- saved searches and refresh (zsearch.ops.watch, zsearch.ops.refresh) -------------------------
    def add_watch(self, name: str, *, arxiv: str | None = None, pubmed: str | None = None,
                  replace: bool = False, **options: Any) -> "Watch":
        """Save a search (``zsearch watch add``); ``options``: full_text, categories, year_from,
        year_to, max_results, since (see :class:`zsearch.ops.watch.Watch`)."""
        from zsearch.ops.watch import Watch, Watches

        return Watches(self.home).add(Watch(name=name, arxiv=arxiv, pubmed=pubmed, **options), replace=replace)

    def watches(self) -> list["Watch"]:
        """The saved searches of this database, sorted by name."""
        from zsearch.ops.watch import Watches

        return Watches(self.home).all()

    def remove_watch(self, name: str) -> "Watch":
        """Delete a saved search (its papers stay)."""
        from zsearch.ops.watch import Watches

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

    def lock(self, wait: float = 0.0, purpose: str = "zsearch") -> Any:
        """The database's writer lock as a context manager (``with lib.lock(wait=60): ...``)."""
        from zsearch.ops.lock import writer_lock

        return writer_lock(self.home, wait=wait, purpose=purpose)


def embed_papers(emb: "Embedder", papers: list[Paper], old_rows: dict[str, Any],
                 target_of: dict[str, str | None], now: Any) -> tuple[list[dict], list[dict], int]:
    """Paper rows and passage rows for ``papers``, embedded with ``emb``; and the tokens read.

    A paper that fits the model's context is embedded whole: one vector, no passages. A
    longer one gets a paper vector — its title+abstract with a short-context model, or its
    text up to the context with a long-context one — and overlapping windows over its whole
    text as passages, so nothing past the context is lost (docs/long-papers.md). With a
    short-context model each paper also gets a vector per title/abstract sentence
    (zsearch.ingest.sentences), encoded in the same batches; a paper of title and abstract only
    whose sentences each fit the model then needs no passages: its sentences cover it.
    ``old_rows``/``target_of`` carry the stored rows of updated papers (their ``added`` time).
    """
    if not papers:
        return [], [], 0
    docs = [p.document_text or p.id for p in papers]
    counts = emb.count_tokens(docs)
    sentences: list[list[str]] = [[] for _ in papers]
    if emb.sentence_vectors:
        sentences = [paper_sentences(p.title, p.abstract, p.full_text) for p in papers]
    texts: list[str] = []
    owner: list[tuple[int, str, int]] = []  # (paper index, "paper" | "window" | "sentence", n)
    for i, (p, n) in enumerate(zip(papers, counts)):
        if n <= emb.doc_token_limit:
            texts.append(docs[i])
            owner.append((i, "paper", 0))
            continue
        texts.append(docs[i] if emb.long_context else (p.head_text or docs[i]))
        owner.append((i, "paper", 0))
        if _sentences_suffice(emb, p, sentences[i]):
            continue  # its sentence vectors cover every word of it: no passages needed
        for j, w in enumerate(emb.windows(docs[i])):
            texts.append(w)
            owner.append((i, "window", j))
    for i in range(len(papers)):
        texts.extend(sentences[i])
        owner.extend((i, "sentence", j) for j in range(len(sentences[i])))
    vecs = emb.encode_documents(texts)
    paper_vec: dict[int, np.ndarray] = {}
    sentence_vecs: list[list[np.ndarray]] = [[] for _ in papers]
    chunk_rows: list[dict[str, Any]] = []
    n_chunks = [0] * len(papers)
    for (i, kind, j), v, t in zip(owner, vecs, texts):
        if kind == "paper":
            paper_vec[i] = v
        elif kind == "sentence":
            sentence_vecs[i].append(v)
        else:
            chunk_rows.append({"id": f"{papers[i].id}#{j}", "paper_id": papers[i].id, "idx": j, "text": t, "vector": v})
            n_chunks[i] += 1
    rows = []
    for i, p in enumerate(papers):
        old = old_rows.get(target_of.get(p.id) or "")
        made = emb.sentence_vectors  # [] for a paper without text: done, not missing (NULL)
        rows.append(paper_row(p, vector=paper_vec[i], token_count=counts[i], n_chunks=n_chunks[i],
                              added=old["added"] if old else now, sentences=sentences[i] if made else None,
                              sentence_vectors=sentence_vecs[i] if made else None))
    return rows, chunk_rows, int(sum(counts))


def _sentences_suffice(emb: "Embedder", p: Paper, sentences: list[str]) -> bool:
    """Whether ``p``'s sentence vectors hold all its text, each sentence whole (no passages needed)."""
    if not sentences or not covers_whole_text(p.title, p.abstract, p.full_text, sentences):
        return False
    return max(emb.count_tokens(sentences)) <= emb.doc_token_limit


def _probe_paper(pid: str) -> Paper | None:
    """A stand-in Paper carrying the identifier in a canonical id, for identifier look-ups."""
    kind, _, value = pid.partition(":")
    if kind == "pmid":
        return Paper(id=pid, source="pubmed", pmid=value)
    if kind == "arxiv":
        return Paper(id=pid, source="arxiv", arxiv_id=value)
    if kind == "doi":
        return Paper(id=pid, source="doi", doi=value)
    return None


def _with_id(p: Paper, pid: str) -> Paper:
    from dataclasses import replace

    return replace(p, id=pid)


def _metadata_equal(a: Paper, b: Paper) -> bool:
    da, db_ = a.to_dict(), b.to_dict()
    return da == db_

