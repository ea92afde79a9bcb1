"""Streaming reads of the papers table: Arrow record batches, so memory stays one batch at any size.

Mixed into zsearch.store.tables.Store (``export --all``, ``cluster --all`` and every read of
all ids go through here; docs/benchmarks.md, "Scale", has the peak-RSS figures).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from zsearch.store.schema import unpack_rows, with_sentence_sources

# Rows per Arrow record batch of a streamed read: 2,000 abstracts with their vectors are
# ~10 MB; larger batches buy nothing measurable (benchmarks/scale.py).
SCAN_BATCH = 2_000


class Scans:
    """Streaming reads, for the Store (which supplies ``papers`` and ``exists``)."""

    papers: Any
    exists: bool

    def _scan(self, where: str | None, columns: Sequence[str] | None, batch_size: int) -> Any:
        """A stream of Arrow record batches of the papers table (``columns`` only), in table order."""
        q = self.papers.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(list(columns))
        return q.limit(None).to_batches(batch_size)

    def iter_rows(self, where: str | None = None, columns: Sequence[str] | None = None,
                  batch_size: int = SCAN_BATCH) -> Iterator[list[dict[str, Any]]]:
        """The rows matching ``where``, as lists of at most ``batch_size`` dicts, one Arrow batch at a time.

        Memory is one batch, whatever the table's size; ``columns`` keeps a read narrow
        (leave out ``full_text``, ``fts_text`` and the vectors unless they are needed).
        """
        if not self.exists:
            return
        for batch in self._scan(where, with_sentence_sources(columns) if columns else None, batch_size):
            if batch.num_rows:
                yield unpack_rows(batch.to_pylist(), columns)

    def iter_vectors(self, where: str | None = None, columns: Sequence[str] = ("id",),
                     batch_size: int = SCAN_BATCH) -> Iterator[tuple[list[dict[str, Any]], np.ndarray]]:
        """``(rows of columns, their paper vectors as a float32 matrix)`` batch by batch.

        The vectors are sliced from Arrow as numpy, never turned into Python lists.
        """
        if not self.exists:
            return
        cols = [c for c in columns if c != "vector"]
        for batch in self._scan(where, [*cols, "vector"], batch_size):
            if not batch.num_rows:
                continue
            vec = batch.column("vector")
            dim = vec.type.list_size
            mat = vec.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)
            yield batch.select(cols).to_pylist(), mat

    def ids(self, where: str | None = None) -> list[str]:
        """Ids of the papers matching ``where`` (all without one), read as one Arrow column."""
        if not self.exists:
            return []
        out: list[str] = []
        for batch in self._scan(where, ["id"], 50_000):
            out.extend(batch.column("id").to_pylist())
        return out
