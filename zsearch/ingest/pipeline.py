"""The ingest engine: batches of records -> identity folding -> change detection -> encoding -> one commit.

A batch's records are folded onto each other and onto stored papers by identifier key
(zsearch.papers.identity) and merged (zsearch.papers.merge); a paper whose content hash is
unchanged is not embedded again; the rest go through the encoding policy
(zsearch.ingest.encode) and are committed through the store's write API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zsearch.errors import RecordError
from zsearch.ingest.encode import Encoder, embed_papers, sentence_rows
from zsearch.papers.identity import lookup_keys
from zsearch.papers.merge import merge_papers
from zsearch.papers.model import Deletion, Paper, Unchanged, probe_paper
from zsearch.store.schema import HAS_SENTENCES, now_utc, paper_row_keeping, row_to_paper
from zsearch.store.tables import Store

# Papers per committed write, at most: small enough that an interrupted run loses at most
# this many papers' work (256 abstracts: ~40 s of embedding on 2 cores), large enough that
# LanceDB commits stay cheap. Each commit adds versions and a fragment that every later
# manifest lists: 64 left a 1,000-abstract database at 8.00 KB per paper, 256 at 7.82
# (docs/benchmarks.md, "On-disk size"). ZSEARCH_WRITE_BATCH overrides it (the crash tests
# commit paper by paper).
WRITE_BATCH = 256
# ...and a batch closes sooner once its papers hold this many characters of text, so a batch
# of full papers is no more work than before: 64 papers of ~16k tokens (~64 KB of text each).
WRITE_BATCH_CHARS = 4_000_000
# Papers per batch of the sentence backfill (reembed --sentences): sentences are short.
SENTENCE_BATCH = 256

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


def write_batch() -> int:
    """:data:`WRITE_BATCH`, or ``ZSEARCH_WRITE_BATCH`` when set to a positive number."""
    env = os.environ.get("ZSEARCH_WRITE_BATCH", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else WRITE_BATCH


class Ingestor:
    """Writes papers into a :class:`Store`, loading the embedder (``embedder()``) only when needed.

    ``encode`` turns the papers of a batch that need embedding into rows: :func:`embed_papers`
    in this process, or zsearch.ingest.distributed.RayEncode on a Ray cluster. Folding,
    change detection and the commit stay here either way.
    """

    def __init__(self, store: Store, embedder: Callable[[], Encoder], encode: Callable[..., Any] = embed_papers):
        self.store = store
        self.embedder = embedder
        self.encode = encode

    def ingest(self, items: Iterable[Paper | RecordError | Deletion | Unchanged], *, progress: Progress | None = None,
               batch_size: int | None = None) -> IngestReport:
        """Upsert papers; report failures given as RecordError instances and go on.

        Each batch is committed before the next is read: if the source raises half-way
        (a network fault) or the process dies, every earlier batch stays stored. A
        :class:`Deletion` commits what came before it, then deletes, so a later record or
        deletion wins over an earlier one.
        """
        report = IngestReport()
        t0 = time.perf_counter()
        batch_size = batch_size or write_batch()
        self.recover()
        batch: list[Paper] = []
        chars = 0  # text in the batch (WRITE_BATCH_CHARS)
        it = iter(items)
        while True:
            try:
                item = next(it)
            except StopIteration:
                break
            except Exception:
                # the source failed half-way (network, truncated file): commit what it gave, then
                # re-raise. A failure inside a batch (the model, the store) is not retried here:
                # that would repeat its embedding work and its partial writes.
                self._finish(batch, report, progress, t0)
                raise
            if isinstance(item, RecordError):
                report.failed.append((item.record or "?", item.message))
                if progress:
                    progress(1, 0)
                continue
            if isinstance(item, Unchanged):
                report.unchanged += 1
                if progress:
                    progress(1, 0)
                continue
            if isinstance(item, Deletion):
                self._batch(batch, report, progress)
                batch, chars = [], 0
                report.deleted += self.delete(item.ids)
                continue
            batch.append(item)
            chars += len(item.title) + len(item.abstract) + len(item.full_text)
            if len(batch) >= batch_size or chars >= WRITE_BATCH_CHARS:
                self._batch(batch, report, progress)
                batch, chars = [], 0
        self._finish(batch, report, progress, t0)
        return report

    def recover(self) -> int:
        """Settle what a writer killed mid-commit left (zsearch.store.tables.Store.recover)."""
        return self.store.recover() if self.store.exists else 0

    def _finish(self, batch: list[Paper], report: IngestReport, progress: Progress | None, t0: float) -> None:
        self._batch(batch, report, progress)
        if report.added or report.updated or report.deleted:
            self.store.optimize()
        report.seconds = time.perf_counter() - t0

    def _fold(self, batch: list[Paper]) -> tuple[dict[str, Paper], dict[str, str | None]]:
        """Records of one paper folded together and onto stored papers: ``{id: paper}``, ``{id: stored id}``."""
        found = self.store.find_by_identifiers([k for p in batch for k in lookup_keys(p)])
        pending: dict[str, Paper] = {}
        keymap: dict[str, str] = {}
        target_of: dict[str, str | None] = {}  # pending id -> stored id (None: new)
        for p in batch:
            keys = lookup_keys(p)
            hit = next((keymap[k] for k in keys if k in keymap), None)
            if hit is not None:
                pending[hit] = merge_papers(pending[hit], p)
                pid = hit
            else:
                stored = next((found[k] for k in keys if k in found), None)
                pid = stored or p.id
                if pid != p.id:
                    p = replace(p, id=pid)
                pending[pid] = p
                target_of[pid] = stored
            for k in lookup_keys(pending[pid]):
                keymap.setdefault(k, pid)
        return pending, target_of

    def _batch(self, batch: list[Paper], report: IngestReport, progress: Progress | None) -> None:
        if not batch:
            return
        if not self.store.exists:
            self.embedder()  # a new database: loading the model creates its tables
        pending, target_of = self._fold(batch)
        old_rows = self.store.get_rows([sid for sid in target_of.values() if sid])
        to_embed: list[Paper] = []
        meta_only: list[dict[str, Any]] = []
        for pid, p in pending.items():
            old = old_rows.get(target_of[pid] or "")
            if old is not None:
                p = merge_papers(row_to_paper(old), p)
                if p.content_hash() == old["content_hash"]:
                    if p.to_dict() == row_to_paper(old).to_dict():
                        report.unchanged += 1
                    else:
                        meta_only.append(paper_row_keeping(p, old))
                        report.updated += 1
                        report.ids.append(pid)
                    continue
            to_embed.append(p)
        paper_rows, chunk_rows, tokens = ([], [], 0)
        if to_embed:
            paper_rows, chunk_rows, tokens = self.encode(self.embedder(), to_embed, old_rows, target_of, now_utc())
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

    def add_sentence_vectors(self, progress: Progress | None = None, batch: int = SENTENCE_BATCH) -> int:
        """Give every stored paper that lacks them its sentence vectors; returns how many.

        Only the sentence columns change, batch by batch (a stopped run resumes where it was).
        A no-op for a model whose profile makes no sentence vectors.
        """
        emb = self.embedder()  # opens (and upgrades) the tables
        st = self.store
        if not emb.sentence_vectors or not st.count():
            return 0
        todo = st.ids(f"NOT ({HAS_SENTENCES})")
        done = 0
        for start in range(0, len(todo), batch):
            rows = st.get_rows(todo[start : start + batch])
            papers = {pid: row_to_paper(old) for pid, old in rows.items()}
            made = sentence_rows(emb, papers)
            out = []
            for pid, old in rows.items():
                row = paper_row_keeping(papers[pid], old)
                row["updated"] = old["updated"]  # the paper did not change
                # a paper with nothing to embed gets empty lists, not NULL: it is done
                row["sentences"], row["sentence_vectors"] = made[pid]
                out.append(row)
            st.write(out, [], [])
            done += len(out)
            if progress:
                progress(len(out), 0)
        if done:
            st.optimize()
        return done

    def delete(self, ids: Sequence[str]) -> int:
        """Withdraw papers by canonical id; returns how many.

        An id that names a paper merged from several sources (a PMID now stored under its
        ``arxiv:`` id) withdraws only that source's record: the paper stays with the others.
        """
        if not ids or not self.store.exists:
            return 0
        probes = [probe_paper(i) for i in ids]
        found = self.store.find_by_identifiers([k for p in probes if p is not None for k in lookup_keys(p)]
                                               + [f"id:{i}" for i, p in zip(ids, probes) if p is None])
        whole: list[str] = []
        partial: list[tuple[str, str]] = []  # (stored id, source withdrawn)
        for wanted, probe in zip(ids, probes):
            keys = lookup_keys(probe) if probe is not None else [f"id:{wanted}"]
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
            updates.append(paper_row_keeping(p, rows[sid]))
            n += 1
        if updates:
            self.store.write(updates, [], [])
        return n
