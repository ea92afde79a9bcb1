"""Schema upgrades and the table switch: how a database moves from one layout or model to the next.

* :func:`upgrade` adds the columns older tables lack (schema 1 -> 2: the sentence
  columns; 2 -> 3: the passages' ``paper_hash``; 3 -> 4: ``sentence_scales``), empty, in
  place, the first time a model opens them (readers too: it only adds columns).
* :func:`compact_sentence_vectors` converts a schema 2-3 table's float32 sentence vectors to
  int8 + scales in place (schema 4), batch by batch; the next writer runs it
  (zsearch.store.tables.Store.optimize), and a killed run resumes where it stopped.
* :func:`switch_tables` swaps staged tables (a re-embedding with another model) in for the
  live ones, journalled so that a run killed between two renames is completed by
  :func:`finish_interrupted_switch` on the next open.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zsearch.store import indexes
from zsearch.store.commit import commit
from zsearch.store.schema import (
    CHUNKS,
    PAPERS,
    chunk_generation_fields,
    chunks_schema,
    papers_schema,
    quantize,
    sentence_fields,
)
from zsearch.store.sql import IN_LIST_SIZE, sql_in

JOURNAL = "reembed-switch.json"
# The int8 column a float32 ``sentence_vectors`` is converted into, renamed over it at the end.
Q8_COLUMN = "sentence_vectors_q8"
# Papers per converted batch: one merge_insert each; 2,000 papers' sentence vectors are ~30 MB
# of float32 read and ~8 MB written.
CONVERT_BATCH = 2_000


def upgrade(papers: Any, chunks: Any, dim: int) -> bool:
    """Add the columns older tables lack, empty (schema 1 -> 2 -> 3 -> 4); True if it changed anything.

    A table whose ``sentence_vectors`` are float32 keeps them (readers read both); a table
    with none gets the int8 columns. A conversion cut short before its rename is finished
    here (:func:`compact_sentence_vectors`).
    """
    changed = False
    names = set(papers.schema.names)
    if Q8_COLUMN in names and "sentence_vectors" not in names:  # killed between drop and rename
        papers.alter_columns({"path": Q8_COLUMN, "rename": "sentence_vectors"})
        changed = True
    for table, wanted in ((papers, sentence_fields(dim)), (chunks, chunk_generation_fields())):
        names = set(table.schema.names)
        missing = [f for f in wanted if f.name not in names]
        if missing:
            table.add_columns(missing)
            changed = True
    return changed


def compact_sentence_vectors(papers: Any, batch_size: int = CONVERT_BATCH) -> int:
    """Convert float32 ``sentence_vectors`` to int8 + ``sentence_scales`` in place; returns papers converted.

    1. add ``sentence_vectors_q8`` and ``sentence_scales`` (empty: metadata only);
    2. batch by batch, papers with float vectors and no scales yet get both (one
       ``merge_insert`` on ``id`` of the two columns), so a killed run resumes at step 2;
    3. drop the float column and rename the int8 one over it (:func:`upgrade` finishes a
       run killed between the two).

    Readers see the float column until step 3 and the int8 one after. The caller holds the
    writer lock. Papers without sentence vectors stay null.
    """
    import pyarrow as pa

    names = set(papers.schema.names)
    if "sentence_vectors" not in names:
        return 0
    if str(papers.schema.field("sentence_vectors").type.value_type.value_type) == "int8":
        return 0
    dim = papers.schema.field("sentence_vectors").type.value_type.list_size
    q8, scales = sentence_fields(dim)[1:]
    missing = [f for f in (pa.field(Q8_COLUMN, q8.type), scales) if f.name not in names]
    if missing:
        papers.add_columns(missing)
    todo = "sentence_vectors IS NOT NULL AND sentence_scales IS NULL"
    done = 0
    reader = papers.search().where(todo).select(["id", "sentence_vectors"]).limit(None).to_batches(batch_size)
    for batch in reader:
        if not batch.num_rows:
            continue
        sv = batch.column("sentence_vectors")
        flat = sv.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
        q, scale = quantize(flat)
        offs = sv.offsets.to_numpy(zero_copy_only=False)
        offsets = pa.array(offs - offs[0], pa.int32())
        update = pa.table({
            "id": batch.column("id"),
            Q8_COLUMN: pa.ListArray.from_arrays(offsets, pa.FixedSizeListArray.from_arrays(pa.array(q.ravel()), dim)),
            "sentence_scales": pa.ListArray.from_arrays(offsets, pa.array(scale, pa.float32())),
        })
        papers.merge_insert("id").when_matched_update_all().execute(update)
        done += batch.num_rows
    papers.drop_columns(["sentence_vectors"])
    papers.alter_columns({"path": Q8_COLUMN, "rename": "sentence_vectors"})
    return done



def table_slug(model_id: str, dim: int) -> str:
    """``zeroentropy/zembed-1``, 640 -> ``zeroentropy-zembed-1-640`` (safe as a table name).

    >>> table_slug("zeroentropy/zembed-1", 640)
    'zeroentropy-zembed-1-640'
    """
    s = re.sub(r"[^A-Za-z0-9]+", "-", model_id.strip("/")).strip("-").lower()
    return f"{s[-80:]}-{dim}"


def table_dir(home: Path, name: str) -> Path:
    return Path(home) / "lancedb" / f"{name}.lance"


def switch_tables(home: Path, live_to_staged: dict[str, str]) -> None:
    """Move each live table aside (``<name>__old``) and its staged table into its name.

    Each move is one ``os.rename`` of the table's directory (atomic on one file system).
    The plan is written to a journal first, so an interruption between moves is finished by
    :func:`finish_interrupted_switch` on the next run instead of leaving a half-switched
    database.
    """
    journal = Path(home) / JOURNAL
    moves: list[tuple[str, str]] = []
    for live, staged in live_to_staged.items():
        old = f"{live}__old"
        shutil.rmtree(table_dir(home, old), ignore_errors=True)
        moves += [(live, old), (staged, live)]
    tmp = journal.with_suffix(".tmp")
    tmp.write_text(json.dumps({"moves": moves}))
    os.replace(tmp, journal)
    finish_interrupted_switch(home)


def finish_interrupted_switch(home: Path) -> None:
    """Complete the table moves of a journal left by an interrupted switch (a no-op without one)."""
    journal = Path(home) / JOURNAL
    if not journal.is_file():
        return
    moves = json.loads(journal.read_text())["moves"]
    for src, dst in moves:
        s, d = table_dir(home, src), table_dir(home, dst)
        if s.exists() and not d.exists():
            os.rename(s, d)
    journal.unlink()


def drop_tables(home: Path, names: list[str]) -> None:
    """Remove tables by directory (the old ones after a switch)."""
    for name in names:
        shutil.rmtree(table_dir(home, name), ignore_errors=True)


class Staging:
    """A re-embedding's tables beside the live ones (``papers__<slug>``, ``chunks__<slug>``).

    Written batch by batch through the same :func:`commit` as the live tables; swapped in
    by :meth:`switch` (:func:`switch_tables`) once every paper is there.
    """

    def __init__(self, store: Any, model_id: str, dim: int):
        slug = table_slug(model_id, dim)
        self.store = store
        self.names = {PAPERS: f"{PAPERS}__{slug}", CHUNKS: f"{CHUNKS}__{slug}"}
        self.papers = store.db.create_table(self.names[PAPERS], schema=papers_schema(dim, model_id), exist_ok=True)
        self.chunks = store.db.create_table(self.names[CHUNKS], schema=chunks_schema(dim), exist_ok=True)

    def hashes(self) -> dict[str, str]:
        """``{id: content hash}`` of the papers already staged (what an interrupted run did)."""
        n = self.papers.count_rows()
        if not n:
            return {}
        return {r["id"]: r["content_hash"] for r in self.papers.search().select(["id", "content_hash"]).limit(n).to_list()}

    def write(self, paper_rows: list[dict[str, Any]], chunk_rows: list[dict[str, Any]]) -> None:
        commit(self.papers, self.chunks, paper_rows, chunk_rows, [])

    def discard(self, ids: Sequence[str]) -> None:
        """Drop staged papers (changed or deleted since they were staged) and their passages."""
        ids = list(ids)
        for i in range(0, len(ids), IN_LIST_SIZE):
            self.chunks.delete(sql_in("paper_id", ids[i : i + IN_LIST_SIZE]))
            self.papers.delete(sql_in("id", ids[i : i + IN_LIST_SIZE]))

    def counts(self) -> tuple[int, int]:
        return self.papers.count_rows(), self.chunks.count_rows()

    def switch(self, keep_old: bool = False) -> list[str]:
        """Index the staged papers, swap them in for the live tables; returns the old tables' names if kept."""
        from lancedb.index import FTS

        self.papers.create_index("fts_text", config=FTS(), replace=True, name=indexes.FTS_INDEX)
        home = self.store.home
        self.papers = self.chunks = None
        self.store._papers = self.store._chunks = None
        switch_tables(home, {PAPERS: self.names[PAPERS], CHUNKS: self.names[CHUNKS]})
        old = [f"{PAPERS}__old", f"{CHUNKS}__old"]
        if keep_old:
            return old
        drop_tables(home, old)
        return []
