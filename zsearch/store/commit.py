"""The commit protocol and the Store's write API: how a batch of papers and passages becomes durable.

LanceDB commits each table on its own; :func:`commit` orders the commits so that a paper
always has its passages, journals the batch, and :meth:`zsearch.store.tables.Store.recover`
settles a batch that a kill cut short. Every write of zsearch ends here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zsearch.faults import fault_point
from zsearch.store.schema import fit_sentence_columns, pack_sentences
from zsearch.store.sql import IN_LIST_SIZE, sql_in, sql_str

# The live tables' commit journal (see :func:`commit`), in the database directory.
COMMIT_JOURNAL = "commit-journal.json"
# The journal's mark for a paper being deleted (instead of the content hash being committed).
DELETED = "deleted"


def commit(papers: Any, chunks: Any, paper_rows: list[dict[str, Any]], chunk_rows: list[dict[str, Any]],
           replace_chunks_of: Sequence[str], journal: Path | None = None) -> None:
    """Commit one batch of paper rows and their passages; the one write path of zsearch.

    LanceDB commits each table on its own, so a batch is several commits. Their order keeps
    every paper with its passages at every moment, and ``journal`` (the live tables') lets
    the next opener settle a batch a kill cut short (:meth:`Store.recover`):

    1. the journal names each paper whose passages change, with the version being written;
    2. leftovers of this version from a killed attempt are deleted (no duplicate passages);
    3. the new version's passages are added beside the old ones (passage ids name the version);
    4. the paper rows are merged: the paper now is the new version;
    5. the old versions' passages are deleted, then the journal.

    ``replace_chunks_of``: papers re-embedded into no passages at all (their old ones go).
    """
    versions = {r["id"]: r["content_hash"] for r in paper_rows}
    changing = list(dict.fromkeys([*(c["paper_id"] for c in chunk_rows), *replace_chunks_of]))
    if journal is not None and changing:
        write_json_atomic(journal, {"papers": [[pid, versions.get(pid)] for pid in changing]})
    fault_point("commit.journal-written")
    delete_passages(chunks, [(pid, versions[pid]) for pid in changing if pid in versions], keep=False)
    fault_point("commit.leftovers-deleted")
    if chunk_rows:
        chunks.add(chunk_rows)
    fault_point("commit.passages-added")
    if paper_rows:
        papers.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(paper_rows)
    fault_point("commit.papers-merged")
    delete_passages(chunks, [(pid, versions.get(pid)) for pid in changing], keep=True)
    fault_point("commit.old-passages-deleted")
    if journal is not None and changing:
        journal.unlink(missing_ok=True)


def delete_passages(chunks: Any, versions: Sequence[tuple[str, str | None]], *, keep: bool) -> None:
    """Delete passages of ``(paper id, version)`` pairs: that version's (``keep=False``) or
    every other version's (``keep=True``; a version of None keeps nothing)."""
    conds = []
    for pid, h in versions:
        if h is None:
            conds.append(f"paper_id = {sql_str(pid)}")
        elif keep:
            conds.append(f"(paper_id = {sql_str(pid)} AND (paper_hash IS NULL OR paper_hash != {sql_str(h)}))")
        else:
            conds.append(f"(paper_id = {sql_str(pid)} AND paper_hash = {sql_str(h)})")
    for i in range(0, len(conds), IN_LIST_SIZE):
        chunks.delete(" OR ".join(conds[i : i + IN_LIST_SIZE]))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader (or a crash) sees the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class WriteAPI:
    """The Store's one write API (mixed into zsearch.store.tables.Store): every write is a commit above."""

    home: Path
    papers: Any
    chunks: Any
    exists: bool

    def get_rows(self, ids: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        raise NotImplementedError  # the Store's read

    def sentences_int8(self) -> bool:
        raise NotImplementedError  # the Store's read

    def write(self, paper_rows: list[dict[str, Any]], chunk_rows: list[dict[str, Any]],
              replace_chunks_of: Sequence[str]) -> None:
        """Commit one batch of paper rows and passages to the live tables (see :func:`commit`).

        Sentence vectors are first put in the table's format (int8 + scales, or float32 in a
        table not yet converted: zsearch.store.schema.fit_sentence_columns), and sentence
        texts that re-split from the abstract are dropped (zsearch.store.schema.pack_sentences;
        every read puts them back).
        """
        int8 = self.sentences_int8()
        paper_rows = [pack_sentences(fit_sentence_columns(r, int8=int8)) for r in paper_rows]
        if paper_rows and "sentence_scales" not in self.papers.schema.names:  # a table no model has opened yet
            paper_rows = [{k: v for k, v in r.items() if k != "sentence_scales"} for r in paper_rows]
        commit(self.papers, self.chunks, paper_rows, chunk_rows, replace_chunks_of, self.home / COMMIT_JOURNAL)

    def interrupted(self) -> list[tuple[str, str | None]]:
        """``(paper id, version being written, or DELETED)`` of a batch a kill cut short."""
        path = self.home / COMMIT_JOURNAL
        try:
            return [(pid, h) for pid, h in json.loads(path.read_text(encoding="utf-8"))["papers"]]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError):
            return []  # unreadable: write_json_atomic never leaves half a journal, so none was written

    def recover(self) -> int:
        """Settle a batch whose writer was killed mid-commit (the caller holds the writer lock).

        No model is needed: each paper of the journal is rolled back or forward by the
        version its row holds — passages of a version that never landed are deleted; after
        a landed one, the older versions' are; an interrupted deletion is finished. Returns
        how many papers it settled.
        """
        pending = self.interrupted() if self.exists else []
        if not pending:
            self.clear_interrupted()
            return 0
        stored = {pid: r["content_hash"] for pid, r in self.get_rows([p for p, _ in pending], ["id", "content_hash"]).items()}
        gone = [pid for pid, h in pending if h == DELETED or pid not in stored]
        landed = [(pid, h) for pid, h in pending if pid in stored and h != DELETED and stored[pid] == h]
        lost = [(pid, h) for pid, h in pending if pid in stored and h not in (DELETED, None) and stored[pid] != h]
        delete_passages(self.chunks, landed, keep=True)
        delete_passages(self.chunks, lost, keep=False)
        if gone:  # last: Store.delete journals itself (papers first, then their passages)
            self.delete([pid for pid in gone if pid in stored])
            delete_passages(self.chunks, [(pid, None) for pid in gone], keep=True)
        self.clear_interrupted()
        return len(pending)

    def clear_interrupted(self) -> None:
        (self.home / COMMIT_JOURNAL).unlink(missing_ok=True)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete papers (and their passages) by stored id; returns how many were there."""
        if not ids or not self.exists:
            return 0
        present = list(self.get_rows(ids, ["id"]))
        if present:
            # papers first, journalled: a kill in between leaves passages the next writer deletes
            journal = self.home / COMMIT_JOURNAL
            write_json_atomic(journal, {"papers": [[pid, DELETED] for pid in present]})
            for i in range(0, len(present), IN_LIST_SIZE):
                self.papers.delete(sql_in("id", present[i : i + IN_LIST_SIZE]))
                fault_point("delete.papers-deleted")
                self.chunks.delete(sql_in("paper_id", present[i : i + IN_LIST_SIZE]))
            journal.unlink(missing_ok=True)
        return len(present)
