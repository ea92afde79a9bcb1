"""The warm index: the papers' vectors, sentence vectors and hit columns held in memory.

A long-lived reader (the search service, a notebook, ``search --queries``) asks the same
tables every query. Each LanceDB query costs ~5 ms of planning and scheduling before it reads a
byte, and the default search asks up to six (dense, passages, BM25, title BM25, the
candidates' sentence vectors, the hits' columns): 50-70 ms at 5,000 papers
(docs/benchmarks.md, "Search latency"). A :class:`WarmIndex` answers three of them from
memory: the exact dense scan (below the ANN threshold; with an IVF index LanceDB's ANN stays
in charge, so both paths return the same candidates), the sentence stage's reads, and the hit
rows. BM25 and passages stay LanceDB queries.

It is one snapshot of the papers table, valid for one table version: :meth:`WarmStore.warm`
returns it only while the table is still at that version, and a newer version starts a
rebuild in a background thread (queries read LanceDB meanwhile, so a commit in another
process is seen as soon as the tables see it). Memory is bounded by :data:`WARM_BUDGET_MB`;
a larger table is never loaded (the LanceDB path serves it).

Scores do not depend on which path served a query: both hand the same float32 rows to the
same scoring functions (zsearch.search.sentences), so the CLI prints byte-identical results
with or without the service.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zsearch.store.schema import HIT_COLUMNS, dequantize, resplit

# Most memory a warm index may take, in MB (int8 sentence vectors, float32 paper vectors and
# the hit columns as Arrow). 110,000 abstracts take 783 MB (benchmarks/warm.py); 1,000 MB keeps a
# service on a laptop with 8 GB well inside it. $ZSEARCH_WARM_MB overrides; 0 turns it off.
WARM_BUDGET_MB = 1000
# Shortest time between two rebuilds, in seconds: an ingest commits every few seconds, and a
# rebuild reads the whole table (~0.2 s at 5,000 papers, ~5 s at 100,000).
REBUILD_EVERY_SECONDS = 5.0
# Rows per Arrow batch while loading.
LOAD_BATCH = 5_000


def budget_bytes() -> int:
    raw = os.environ.get("ZSEARCH_WARM_MB", "").strip()
    try:
        mb = float(raw) if raw else WARM_BUDGET_MB
    except ValueError:
        mb = WARM_BUDGET_MB
    return int(max(mb, 0) * 1_000_000)


@dataclass
class SentenceRows:
    """What the sentence stage reads for its candidates, from LanceDB or from a warm index.

    ``ids[i]``'s paper vector is ``heads[i]``; its sentence vectors (float32, unit length) are
    ``vectors[offsets[i]:offsets[i + 1]]`` and ``text(i, j)`` is the text of its ``j``-th.
    """

    ids: list[str]
    heads: np.ndarray
    vectors: np.ndarray
    offsets: np.ndarray
    text: Callable[[int, int], str | None]

    @classmethod
    def empty(cls) -> SentenceRows:
        return cls([], np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), np.zeros(1, np.int64),
                   lambda i, j: None)

    def by_id(self) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
        """``{id: (paper vector, sentence vectors, sentence texts)}``."""
        out = {}
        for i, pid in enumerate(self.ids):
            a, b = int(self.offsets[i]), int(self.offsets[i + 1])
            texts = [self.text(i, j) for j in range(b - a)]
            out[pid] = (self.heads[i], self.vectors[a:b], [t for t in texts if t is not None])
        return out


def vector_arrays(data: Any, *, sentences: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The vector columns of an Arrow table or record batch of papers, as numpy (never Python lists).

    Returns the paper vectors (float32, rows x dim), each row's number of sentence vectors, the
    sentence vectors as stored (int8 or float, all rows' one after another) and, when int8,
    their scales (zsearch.store.schema.quantize). ``sentences=False`` (a table without the
    sentence columns): no sentence vectors.
    """
    def column(name: str) -> Any:
        col = data.column(name)
        return col.combine_chunks() if hasattr(col, "combine_chunks") else col

    vec = column("vector")
    dim = vec.type.list_size
    heads = vec.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)
    if not sentences:
        return heads, np.zeros(len(heads), np.int64), np.zeros((0, dim), np.float32), None
    import pyarrow.compute as pc

    sv = column("sentence_vectors")
    counts = pc.fill_null(pc.list_value_length(sv), 0).to_numpy(zero_copy_only=False)
    flat = sv.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
    scales = None
    if flat.dtype == np.int8:  # schema 4: int8 rows times their scales
        scales = column("sentence_scales").flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return heads, counts, flat, scales


class OverBudget(Exception):
    """The table does not fit in the warm index's budget."""


class WarmIndex:
    """One version of the papers table in memory (see the module docstring)."""

    def __init__(self, version: int, ids: list[str], heads: np.ndarray, svecs: np.ndarray, scales: np.ndarray | None,
                 offsets: np.ndarray, sentences: Any, hits: Any, exact: bool):
        self.version = version
        self.ids = ids
        self.pos = {pid: i for i, pid in enumerate(ids)}
        self.heads = heads
        self.svecs = svecs
        self.scales = scales
        self.offsets = offsets
        self.sentences = sentences
        # the sentence texts as one string array and where each paper's start (a null list: none)
        self.texts = sentences.values if len(sentences) else None
        self.text_offsets = (np.asarray(sentences.offsets.to_numpy(zero_copy_only=False), np.int64) if len(sentences)
                             else np.zeros(1, np.int64))
        self.hits = hits  # the hit columns, one Arrow table per load batch
        self.hit_starts = np.cumsum([0, *[t.num_rows for t in hits]])[:-1] if hits else np.zeros(0, np.int64)
        self.exact = exact  # no ANN index: a full scan is what LanceDB would do too

    @property
    def nbytes(self) -> int:
        return int(self.heads.nbytes + self.svecs.nbytes + (self.scales.nbytes if self.scales is not None else 0)
                   + self.offsets.nbytes + self.sentences.nbytes + sum(t.nbytes for t in self.hits))

    @classmethod
    def load(cls, papers: Any, exact: bool, budget: int) -> WarmIndex:
        """Read the papers table (one scan, batch by batch); :class:`OverBudget` past ``budget`` bytes."""
        import pyarrow as pa

        version = papers.version
        names = papers.schema.names
        has_sent = "sentence_vectors" in names
        cols = [*HIT_COLUMNS, "vector", *(["sentences", "sentence_vectors"] if has_sent else []),
                *(["sentence_scales"] if "sentence_scales" in names else [])]
        ids: list[str] = []
        heads, svecs, scales, counts, sents, hits = [], [], [], [], [], []
        used = 0
        total = papers.count_rows()
        for batch in papers.search().select(cols).limit(None).to_batches(LOAD_BATCH):
            if not batch.num_rows:
                continue
            head, count, flat, scale = vector_arrays(batch, sentences=has_sent)
            heads.append(head)
            counts.append(count)
            svecs.append(flat)
            if scale is not None:
                scales.append(scale)
            sents.append(batch.column("sentences") if has_sent else pa.nulls(batch.num_rows, pa.list_(pa.string())))
            hit = pa.Table.from_batches([batch.select(HIT_COLUMNS)])
            hits.append(hit)
            ids.extend(batch.column("id").to_pylist())
            used += head.nbytes + flat.nbytes + hit.nbytes + sents[-1].nbytes
            # the first batch tells what the whole table would take: a table far over the
            # budget is not read to the end to find out (a 1M-paper table: ~7 GB)
            if used > budget or used / len(ids) * total > budget * 1.1:
                raise OverBudget(f"~{used / len(ids) * total / 1e6:.0f} MB for {total:,} papers, over {budget / 1e6:.0f} MB")
        dim = heads[0].shape[1] if heads else 0
        offsets = np.zeros(len(ids) + 1, np.int64)
        if counts:
            np.cumsum(np.concatenate(counts), out=offsets[1:])
        flat_all = np.concatenate(svecs) if svecs else np.zeros((0, dim), np.float32)
        del svecs  # one copy of the largest part at a time (peak RSS)
        head_mat = np.concatenate(heads) if heads else np.zeros((0, dim), np.float32)
        del heads
        return cls(
            version,
            ids,
            head_mat,
            flat_all,
            np.concatenate(scales) if scales else None,
            offsets,
            pa.chunked_array(sents, type=sents[0].type).combine_chunks() if sents else pa.array([], pa.list_(pa.string())),
            hits,
            exact,
        )

    # -- what the search asks ------------------------------------------------------------
    def nearest(self, qvec: np.ndarray, depth: int) -> tuple[list[str], np.ndarray]:
        """The ``depth`` papers nearest ``qvec`` by an exact scan: their ids and paper vectors."""
        q = np.asarray(qvec, dtype=np.float32)
        # einsum, not `@`: OpenBLAS's threads cost 16 ms instead of 0.4 ms on a busy 2-core machine
        sims = np.einsum("ij,j->i", self.heads, q)
        depth = min(depth, len(sims))
        if depth <= 0:
            return [], np.zeros((0, self.heads.shape[1]), np.float32)
        top = np.argpartition(-sims, depth - 1)[:depth]
        top = top[np.lexsort((top, -sims[top]))]
        return [self.ids[i] for i in top], self.heads[top]

    def sentence_rows(self, ids: Sequence[str]) -> SentenceRows:
        """What :meth:`zsearch.store.tables.Store.sentence_rows` returns, from memory."""
        pos = [self.pos[pid] for pid in dict.fromkeys(ids) if pid in self.pos]
        if not pos:
            return SentenceRows.empty()
        p = np.asarray(pos, np.int64)
        starts, ends = self.offsets[p], self.offsets[p + 1]
        counts = ends - starts
        offsets = np.zeros(len(p) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        take = (np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1])) if offsets[-1] else np.zeros(0, np.int64)
        rows = self.svecs[take]
        scaled = rows.dtype == np.int8
        vecs = dequantize(rows, self.scales[take] if scaled and self.scales is not None else None, unit=scaled)

        resplit_texts: dict[int, list[str] | None] = {}

        def text(i: int, j: int) -> str | None:
            a, b = self.text_offsets[pos[i]], self.text_offsets[pos[i] + 1]
            if b > a:
                return self.texts[int(a) + j].as_py() if j < b - a else None
            if not counts[i]:  # no vectors (texts and vectors are null together), so no texts
                return None
            if i not in resplit_texts:  # dropped at write (schema.pack_sentences): re-split, once
                hit = self.hit_rows([self.ids[pos[i]]]).get(self.ids[pos[i]], {})
                resplit_texts[i] = resplit(hit.get("title"), hit.get("abstract"), int(counts[i]))
            got = resplit_texts[i]
            return got[j] if got and j < len(got) else None

        return SentenceRows([self.ids[i] for i in pos], self.heads[p], vecs, offsets, text)

    def hit_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``{id: {HIT_COLUMNS…}}`` for the ids that are in the table."""
        want = [self.pos[pid] for pid in dict.fromkeys(ids) if pid in self.pos]
        if not want or not self.hits:
            return {}
        # the hit columns stay in their load batches (no second copy while loading): each
        # row is taken from its own batch (a take() across a chunked table copies it whole)
        out: dict[str, dict[str, Any]] = {}
        at = np.searchsorted(self.hit_starts, want, side="right") - 1
        for b in sorted(set(at.tolist())):
            rows = [w - int(self.hit_starts[b]) for w, a in zip(want, at) if a == b]
            for r in self.hits[b].take(rows).to_pylist():
                out[r["id"]] = r
        return out


class WarmStore:
    """The Store's side of the warm index (mixed into zsearch.store.tables.Store).

    Off until :meth:`keep_warm`; then :meth:`warm` returns the index while it matches the
    table's version, and None while one is (re)built in the background.
    """

    papers: Any
    exists: bool

    def _warm_state(self) -> dict[str, Any]:
        st = self.__dict__.get("_warm")
        if st is None:
            st = self.__dict__["_warm"] = {"on": False, "index": None, "loading": False, "last": 0.0,
                                           "over": None, "lock": threading.Lock()}
        return st

    def keep_warm(self, *, block: bool = False) -> None:
        """Hold the papers table in memory from now on (and rebuild it when it changes).

        ``block``: load now, in this thread (a benchmark, a batch of queries); otherwise in a
        background thread, queries reading LanceDB until it is ready.
        """
        st = self._warm_state()
        st["on"] = True
        if budget_bytes() <= 0 or not self.exists:
            return
        if block:
            self._rebuild()
        else:
            self._start_rebuild()

    def warm(self) -> WarmIndex | None:
        """The warm index if it is on, loaded and current; else None (read LanceDB)."""
        st = self.__dict__.get("_warm")
        if st is None or not st["on"]:
            return None
        idx = st["index"]
        if idx is not None and self.papers.version == idx.version:
            return idx
        if st["over"] is not None and st["over"] == self.papers.version:
            return None  # too large at this version: do not try again until it changes
        self._start_rebuild()
        return None

    def _start_rebuild(self) -> None:
        st = self._warm_state()
        with st["lock"]:
            if st["loading"] or (st["last"] and time.monotonic() - st["last"] < REBUILD_EVERY_SECONDS):
                return  # one load at a time, and a stale or failed one retried at most every few seconds
            st["loading"] = True
        threading.Thread(target=self._rebuild, name="zsearch-warm", daemon=True).start()

    def _rebuild(self) -> None:
        st = self._warm_state()
        st["loading"] = True
        try:
            version = self.papers.version
            try:
                st["index"] = WarmIndex.load(self.papers, self._exact_scan(), budget_bytes())
                st["over"] = None
            except OverBudget:
                st["index"], st["over"] = None, version
        except Exception:  # noqa: BLE001 - a failed load leaves the LanceDB path serving
            st["index"] = None
        finally:
            st["last"] = time.monotonic()
            st["loading"] = False

    def _exact_scan(self) -> bool:
        raise NotImplementedError  # the Store says whether the papers table has a vector index
