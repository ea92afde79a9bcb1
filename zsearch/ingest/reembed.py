"""Re-embed a whole database with another model, keeping the old vectors until the new set is done.

``zsearch reembed --model X [--dim D]``:

1. the papers are read back from the live tables and embedded with the new model into
   *staging* tables ``papers__<slug>`` / ``chunks__<slug>`` of the same LanceDB (one vector per
   paper when the new model's context holds it, passages otherwise — the same policy as an
   ingest). The live tables keep serving searches all along;
2. an interrupted run resumes: staged papers whose content hash still matches are skipped;
3. when every paper is staged (and the staging table has its full-text index), the staging
   tables are switched in: ``papers``/``chunks`` are moved aside as ``…__old`` and the staged
   ones take their names. A journal file (``reembed-switch.json``) makes the switch
   restartable: a run interrupted between the moves finishes them on the next run;
4. the old tables are deleted afterwards unless ``keep_old=True``.

The slug names the model and dimension, e.g. ``zeroentropy-zembed-1-640``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsearch.errors import EmptyDatabase, UsageError

# Papers embedded and committed to the staging tables per step: the same size as an ingest
# batch (zsearch.library.WRITE_BATCH), so an interrupted run loses at most one batch.
REEMBED_BATCH = 64
JOURNAL = "reembed-switch.json"

Progress = Callable[[int, int], None]  # (papers done, tokens embedded)


@dataclass
class ReembedReport:
    model_id: str
    dim: int
    old_model_id: str
    old_dim: int
    papers: int = 0  # papers in the new vector set
    embedded: int = 0  # embedded by this run (the rest were staged by an earlier, interrupted run)
    chunks: int = 0
    tokens: int = 0
    seconds: float = 0.0
    kept_old: str | None = None  # names of the old tables, when kept

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["seconds"] = round(self.seconds, 3)
        return d


def table_slug(model_id: str, dim: int) -> str:
    """``zeroentropy/zembed-1``, 640 -> ``zeroentropy-zembed-1-640`` (safe as a table name).

    >>> table_slug("zeroentropy/zembed-1", 640)
    'zeroentropy-zembed-1-640'
    """
    s = re.sub(r"[^A-Za-z0-9]+", "-", model_id.strip("/")).strip("-").lower()
    return f"{s[-80:]}-{dim}"


def reembed(
    db: str | os.PathLike[str] | None,
    model: str,
    *,
    dim: int | None = None,
    device: str | None = None,
    max_tokens: int | None = None,
    keep_old: bool = False,
    trust_remote_code: bool | None = None,
    progress: Progress | None = None,
) -> ReembedReport:
    """Re-embed every paper of the database at ``db`` with ``model``; switch when all are done."""
    from zsearch.config import Settings
    from zsearch.embedding.embedder import load_embedder
    from zsearch.store.tables import CHUNKS, PAPERS, Store, chunks_schema, papers_schema

    t0 = time.perf_counter()
    home = Settings.load(db).home
    finish_interrupted_switch(home)
    store = Store(home)
    info = store.model_info()
    if info is None or store.count() == 0:
        raise EmptyDatabase(f"no papers in {home} to re-embed")
    emb = load_embedder(
        model, device=device, dim=dim, max_tokens=max_tokens, trust_remote_code=trust_remote_code
    )
    if (emb.model_id, emb.dim) == info:
        raise UsageError(
            f"the database is already embedded with {emb.model_id} ({emb.dim} dims)",
            hint="pick another --model or --dim",
        )
    report = ReembedReport(emb.model_id, emb.dim, info[0], info[1])
    slug = table_slug(emb.model_id, emb.dim)
    papers_new, chunks_new = f"{PAPERS}__{slug}", f"{CHUNKS}__{slug}"
    staged_p = store.db.create_table(
        papers_new, schema=papers_schema(emb.dim, emb.model_id), exist_ok=True
    )
    staged_c = store.db.create_table(chunks_new, schema=chunks_schema(emb.dim), exist_ok=True)

    # what an interrupted run already staged, by content hash
    done: dict[str, str] = {}
    if staged_p.count_rows():
        for r in staged_p.search().select(["id", "content_hash"]).limit(staged_p.count_rows()).to_list():
            done[r["id"]] = r["content_hash"]
    live = {r["id"]: r["content_hash"] for r in store.rows(columns=["id", "content_hash"])}
    stale = [i for i in done if i not in live or done[i] != live[i]]
    if stale:  # papers changed or deleted since they were staged
        from zsearch.store.tables import sql_in

        for i in range(0, len(stale), 500):
            staged_c.delete(sql_in("paper_id", stale[i : i + 500]))
            staged_p.delete(sql_in("id", stale[i : i + 500]))
    todo = [i for i in live if done.get(i) != live[i]]

    for start in range(0, len(todo), REEMBED_BATCH):
        ids = todo[start : start + REEMBED_BATCH]
        rows = store.get_rows(ids)
        papers = [_row_paper(rows[i]) for i in ids if i in rows]
        target = {p.id: p.id for p in papers}
        from zsearch.store.tables import now_utc

        paper_rows, chunk_rows, tokens = _embed_like_ingest(emb, papers, rows, target, now_utc())
        for r in paper_rows:  # keep the stored timestamps: the paper did not change
            old = rows[r["id"]]
            r["added"], r["updated"] = old["added"], old["updated"]
        if chunk_rows:
            staged_c.add(chunk_rows)
        if paper_rows:
            staged_p.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(paper_rows)
        report.embedded += len(paper_rows)
        report.chunks += len(chunk_rows)
        report.tokens += tokens
        if progress:
            progress(len(paper_rows), tokens)

    report.papers = staged_p.count_rows()
    if report.papers != len(live):
        raise RuntimeError(f"staged {report.papers} papers, the database holds {len(live)}")
    report.chunks = staged_c.count_rows()
    from lancedb.index import FTS

    staged_p.create_index("fts_text", config=FTS(), replace=True, name="fts_text_idx")
    del store, staged_p, staged_c
    switch_tables(home, {PAPERS: papers_new, CHUNKS: chunks_new})
    old_names = [f"{PAPERS}__old", f"{CHUNKS}__old"]
    if keep_old:
        report.kept_old = ", ".join(old_names)
    else:
        for name in old_names:
            shutil.rmtree(_table_dir(home, name), ignore_errors=True)
    report.seconds = time.perf_counter() - t0
    return report


def _embed_like_ingest(emb: Any, papers: list[Any], rows: dict[str, Any], target: dict[str, Any], now: Any) -> Any:
    """Paper and chunk rows exactly as an ingest makes them (the library's one-vector-or-passages
    policy), computed with ``emb`` instead of the database's current model."""
    from zsearch.library import embed_papers

    return embed_papers(emb, papers, rows, target, now)


def _row_paper(row: dict[str, Any]) -> Any:
    from zsearch.store.tables import row_to_paper

    return row_to_paper(row)


def _table_dir(home: Path, name: str) -> Path:
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
        shutil.rmtree(_table_dir(home, old), ignore_errors=True)
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
        s, d = _table_dir(home, src), _table_dir(home, dst)
        if s.exists() and not d.exists():
            os.rename(s, d)
    journal.unlink()
