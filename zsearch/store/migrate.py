"""Schema upgrades and the table switch: how a database moves from one layout or model to the next.

* :func:`upgrade` adds the columns older tables lack (schema 1 -> 2: the sentence
  columns; 2 -> 3: the passages' ``paper_hash``), empty, in place, the first time a model
  opens them.
* :func:`switch_tables` swaps staged tables (a re-embedding with another model) in for the
  live ones, journalled so that a run killed between two renames is completed by
  :func:`finish_interrupted_switch` on the next open.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from zsearch.store.schema import chunk_generation_fields, sentence_fields

JOURNAL = "reembed-switch.json"


def upgrade(papers: Any, chunks: Any, dim: int) -> bool:
    """Add the columns older tables lack, empty (schema 1 -> 2 -> 3); True if it changed anything."""
    changed = False
    for table, wanted in ((papers, sentence_fields(dim)), (chunks, chunk_generation_fields())):
        names = set(table.schema.names)
        missing = [f for f in wanted if f.name not in names]
        if missing:
            table.add_columns(missing)
            changed = True
    return changed


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
