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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zsearch.config import Settings
from zsearch.errors import EmptyDatabase, UsageError
from zsearch.ingest.encode import embed_papers
from zsearch.store.migrate import finish_interrupted_switch
from zsearch.store.schema import now_utc, row_to_paper
from zsearch.store.tables import Store

# Papers embedded and committed to the staging tables per step, so an interrupted run loses
# at most one batch (an ingest's was 64 too; zsearch.ingest.pipeline.WRITE_BATCH).
REEMBED_BATCH = 64

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
    from zsearch.embedding.embedder import load_embedder  # torch: only when re-embedding

    t0 = time.perf_counter()
    home = Settings.load(db).home
    finish_interrupted_switch(home)
    store = Store(home)
    info = store.model_info()
    if info is None or store.count() == 0:
        raise EmptyDatabase(f"no papers in {home} to re-embed")
    emb = load_embedder(model, device=device, dim=dim, max_tokens=max_tokens, trust_remote_code=trust_remote_code)
    if (emb.model_id, emb.dim) == info:
        raise UsageError(
            f"the database is already embedded with {emb.model_id} ({emb.dim} dims)",
            hint="pick another --model or --dim",
        )
    report = ReembedReport(emb.model_id, emb.dim, info[0], info[1])
    staging = store.stage(emb.model_id, emb.dim)
    done = staging.hashes()  # what an interrupted run already staged, by content hash
    live = {r["id"]: r["content_hash"] for b in store.iter_rows(columns=["id", "content_hash"]) for r in b}
    stale = [i for i in done if i not in live or done[i] != live[i]]
    if stale:  # papers changed or deleted since they were staged
        staging.discard(stale)
    todo = [i for i in live if done.get(i) != live[i]]

    for start in range(0, len(todo), REEMBED_BATCH):
        ids = todo[start : start + REEMBED_BATCH]
        rows = store.get_rows(ids)
        papers = [row_to_paper(rows[i]) for i in ids if i in rows]
        target: dict[str, str | None] = {p.id: p.id for p in papers}
        paper_rows, chunk_rows, tokens = embed_papers(emb, papers, rows, target, now_utc())
        for r in paper_rows:  # keep the stored timestamps: the paper did not change
            old = rows[r["id"]]
            r["added"], r["updated"] = old["added"], old["updated"]
        staging.write(paper_rows, chunk_rows)
        report.embedded += len(paper_rows)
        report.chunks += len(chunk_rows)
        report.tokens += tokens
        if progress:
            progress(len(paper_rows), tokens)

    report.papers, report.chunks = staging.counts()
    if report.papers != len(live):
        raise RuntimeError(f"staged {report.papers} papers, the database holds {len(live)}")
    kept = staging.switch(keep_old=keep_old)
    if kept:
        report.kept_old = ", ".join(kept)
    report.seconds = time.perf_counter() - t0
    return report
