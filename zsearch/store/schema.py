"""The table schema, defined once: Paper's fields become columns; rows <-> Papers.

Every field of :class:`~zsearch.papers.model.Paper` is a column of the ``papers`` table,
typed from its annotation (``str`` -> string, ``list[str]`` -> list of strings, ``int`` ->
int32, ``dict`` -> JSON text). The store adds what it derives: the content hash, token and
passage counts, timestamps, the full-text index's text, the paper vector and the sentence
stage's columns. Adding a field to Paper adds a column (and needs a migration in
zsearch.store.migrate for existing tables).

Sentence vectors are stored as int8 with one float32 scale per vector (schema 4): a quarter
of float32's bytes, the largest column of an abstract (19 KB -> ~8 KB per SciFact paper,
docs/benchmarks.md, "Scale"). :func:`paper_row` quantizes, :func:`dequantize` reads back;
a table made before schema 4 keeps float32 until a writer converts it
(zsearch.store.migrate.compact_sentence_vectors), and both read the same.

The embedding model's id and the vector dimension live in the papers table's schema
metadata (``zsearch.model_id``, ``zsearch.dim``). ``pyarrow`` is imported inside functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

import numpy as np

from zsearch.papers.model import Paper
from zsearch.papers.sentences import paper_sentences

PAPERS = "papers"
CHUNKS = "chunks"
# 2: sentence columns (``sentences``, ``sentence_vectors``); 3: ``chunks.paper_hash``; 4:
# sentence vectors as int8 + ``sentence_scales``; 5: ``sentences`` is an empty list where the
# texts re-split from the title and abstract (:func:`pack_sentences`). An older table gets the
# missing columns, empty, the first time a model opens it (zsearch.store.migrate.upgrade); its
# float32 sentence vectors are converted by the next writer (migrate.compact_sentence_vectors),
# and its stored sentence texts read as before (schema 5 reads both).
SCHEMA_VERSION = "5"
META_MODEL = b"zsearch.model_id"
META_DIM = b"zsearch.dim"
META_SCHEMA = b"zsearch.schema_version"

# Paper field annotation -> stored kind ("text": a string that reads back as "" when null).
_KINDS = {"str": "text", "str | None": "string", "list[str]": "strings", "int | None": "int32",
          "dict[str, Any]": "json"}
# Columns a Paper is made from (row_to_paper): every Paper field, never the vectors.
PAPER_FIELDS: dict[str, str] = {f.name: _KINDS[str(f.type)] for f in fields(Paper)}
PAPER_COLUMNS = list(PAPER_FIELDS)
# A paper without its body: what exports and clustering read (the full text is most of a
# PDF's bytes and neither writes it).
HEAD_COLUMNS = [c for c in PAPER_COLUMNS if c != "full_text"]
# Columns a search reads back (never the full text or vector: they are large).
HIT_COLUMNS = ["id", "title", "year", "source", "authors", "doi", "url", "abstract"]
# Papers whose sentence vectors are stored. ``sentences`` and ``sentence_vectors`` are null
# together (paper_row writes them as a pair), and testing the list of strings reads far
# less than the list of vectors: 0.4 s instead of 2.7 s to count 100k papers.
HAS_SENTENCES = "sentences IS NOT NULL"


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {"text": pa.string(), "string": pa.string(), "json": pa.string(), "strings": pa.list_(pa.string()), "int32": pa.int32()}[kind]


def papers_schema(dim: int, model_id: str) -> Any:
    """The papers table: Paper's fields, the derived columns, the vectors; model id and dim as metadata."""
    import pyarrow as pa

    paper = [pa.field(name, _arrow_type(kind), nullable=name != "id") for name, kind in PAPER_FIELDS.items()]
    derived = [
        pa.field("content_hash", pa.string()),
        pa.field("token_count", pa.int32()),
        pa.field("n_chunks", pa.int32()),
        pa.field("added", pa.timestamp("us", tz="UTC")),
        pa.field("updated", pa.timestamp("us", tz="UTC")),
        pa.field("fts_text", pa.string()),  # what the full-text (BM25) index reads: title, abstract and body
        pa.field("vector", pa.list_(pa.float32(), dim)),
    ]
    return pa.schema([*paper, *derived, *sentence_fields(dim)],
                     metadata={META_MODEL: model_id.encode(), META_DIM: str(dim).encode(),
                               META_SCHEMA: SCHEMA_VERSION.encode()})


def sentence_fields(dim: int) -> list[Any]:
    """The sentence stage's columns: texts, one int8 vector per text and its scale (:func:`quantize`).

    Null for a paper stored before schema 2 or embedded by a model that makes none
    (long-context profiles); search then uses the paper score alone.
    """
    import pyarrow as pa

    return [pa.field("sentences", pa.list_(pa.string())),
            pa.field("sentence_vectors", pa.list_(pa.list_(pa.int8(), dim))),
            pa.field("sentence_scales", pa.list_(pa.float32()))]


def quantize(vectors: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rows of float vectors as int8 rows and one float32 scale each (``row ≈ q * scale``).

    Symmetric, per vector: ``scale = max|x| / 127``. For unit 384-dim vectors a dot product
    with a unit query moves by ~3e-4 on average, 99% of them by < 1e-3 (float16: ~1e-5, at
    twice the bytes); SciFact nDCG@10 is in docs/benchmarks.md, "Scale". Quantizing a
    dequantized row gives it back unchanged.

    >>> q, s = quantize([[0.5, -1.0, 0.25]])
    >>> q.tolist(), [round(float(x), 6) for x in s]
    ([[64, -127, 32]], [0.007874])
    """
    x = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1) if len(vectors) else np.zeros((0, 0), np.float32)
    peak = np.abs(x).max(axis=1) if x.size else np.zeros(len(x), np.float32)
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scales: np.ndarray | None, *, unit: bool = False) -> np.ndarray:
    """float32 rows from :func:`quantize`'s int8 rows and scales (float rows pass through, as float32).

    ``unit``: scale each non-zero row back to length 1, as the stored vectors were. The
    quantization error then moves a vector's cosine to itself by ~3e-5 (second order)
    instead of ~3e-4, so a query that is one of a paper's sentences still scores ~1.0.
    """
    q = np.asarray(q)
    if scales is None or q.dtype != np.int8:
        x = q.astype(np.float32, copy=False)
    else:
        x = q.astype(np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
    if unit and len(x):
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norms > 0, norms, 1.0)
    return x


def stored_sentence_vectors(row: dict[str, Any]) -> np.ndarray | None:
    """A row's sentence vectors as float32 (n x dim), whichever way it stores them; None when unset."""
    sv = row.get("sentence_vectors")
    if sv is None:
        return None
    if len(sv) == 0:
        return np.zeros((0, 0), np.float32)
    scales = row.get("sentence_scales")
    m = np.asarray([np.asarray(v) for v in sv])
    if scales is not None and len(scales) == len(sv) and m.dtype != np.float32 and m.dtype != np.float64:
        return dequantize(m.astype(np.int8), np.asarray(scales, np.float32))
    return m.astype(np.float32)


def fit_sentence_columns(row: dict[str, Any], *, int8: bool) -> dict[str, Any]:
    """``row`` with its sentence vectors in a table's format: int8 + scales (schema 4) or float32 (older).

    Rows from :func:`paper_row` are already int8; a writer that sets float vectors itself
    (the sentence backfill) or a table not yet converted gets them fitted here.
    """
    if "sentence_vectors" not in row:
        return row
    sv = row["sentence_vectors"]
    out = dict(row)
    if sv is None:
        out["sentence_scales"] = None
        return out
    floats = stored_sentence_vectors(row)
    if int8:
        if not (len(sv) and np.asarray(sv[0]).dtype == np.int8 and row.get("sentence_scales") is not None):
            out.update(sentence_columns(floats))
        return out
    out["sentence_vectors"] = [] if floats is None or not len(sv) else list(floats)
    out["sentence_scales"] = None
    return out


def sentence_columns(sentence_vectors: Any) -> dict[str, Any]:
    """``sentence_vectors`` and ``sentence_scales`` of a row, quantized from float vectors (None stays None)."""
    if sentence_vectors is None:
        return {"sentence_vectors": None, "sentence_scales": None}
    if len(sentence_vectors) == 0:
        return {"sentence_vectors": [], "sentence_scales": []}
    q, scale = quantize(sentence_vectors)
    return {"sentence_vectors": list(q), "sentence_scales": scale}


def chunks_schema(dim: int) -> Any:
    """The chunks table: a long paper's passages (``<paper id>#<n>``) and their vectors."""
    import pyarrow as pa

    return pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("paper_id", pa.string()),
        pa.field("idx", pa.int32()),
        pa.field("text", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), dim)),
        *chunk_generation_fields(),
    ])


def chunk_generation_fields() -> list[Any]:
    """``paper_hash``: the content hash of the paper version a passage was cut from.

    Passages of a new version are written beside the old ones and the old are deleted only
    after the paper row has switched (zsearch.store.tables.commit), so a paper always has
    passages; null for passages written before schema 3 (they belong to the current version).
    """
    import pyarrow as pa

    return [pa.field("paper_hash", pa.string())]


def pack_sentences(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its sentence texts dropped (an empty list) where they re-split from its text.

    The sentence texts of a paper with an abstract are ``paper_sentences(title, abstract)``
    (zsearch.papers.sentences), which :func:`unpack_sentences` recomputes on read: storing
    them again would be the abstract a third time (0.8 KB of a SciFact paper's ~9 KB,
    docs/benchmarks.md, "On-disk size"). Texts that do not re-split exactly (cut from a
    body, or split by another version) are kept as they are. A row without an abstract
    never stores an empty list for texts it has, so the empty list is unambiguous.

    >>> row = {"title": "T", "abstract": "One sentence here. Two sentences here.",
    ...        "sentences": ["T", "One sentence here.", "Two sentences here."]}
    >>> pack_sentences(row)["sentences"]
    []
    >>> unpack_sentences(pack_sentences(row))["sentences"]
    ['T', 'One sentence here.', 'Two sentences here.']
    """
    texts = row.get("sentences")
    abstract = row.get("abstract") or ""
    if not texts or not abstract.strip() or list(texts) != paper_sentences(row.get("title") or "", abstract):
        return row
    return {**row, "sentences": []}


def unpack_sentences(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (read with ``title`` and ``abstract``) with the sentence texts :func:`pack_sentences` dropped, re-split."""
    texts = row.get("sentences")
    if texts is None or len(texts) or not (row.get("abstract") or "").strip():
        return row
    row["sentences"] = paper_sentences(row.get("title") or "", row["abstract"])
    return row


def with_sentence_sources(columns: Sequence[str]) -> list[str]:
    """``columns`` plus what :func:`unpack_sentences` needs when they include ``sentences``."""
    cols = list(columns)
    if "sentences" in cols:
        cols += [c for c in ("title", "abstract") if c not in cols]
    return cols


def unpack_rows(rows: list[dict[str, Any]], columns: Sequence[str] | None) -> list[dict[str, Any]]:
    """Rows read with :func:`with_sentence_sources` ``(columns)`` (all columns: None), texts unpacked, as asked."""
    if columns is not None and "sentences" not in columns:
        return rows
    extra = [] if columns is None else [c for c in ("title", "abstract") if c not in columns]
    for r in rows:
        unpack_sentences(r)
        for c in extra:
            r.pop(c, None)
    return rows


def resplit(title: str | None, abstract: str | None, count: int) -> list[str] | None:
    """The ``count`` sentence texts :func:`pack_sentences` dropped, or None where the split gives another count."""
    got = paper_sentences(title or "", abstract or "") if (abstract or "").strip() else []
    return got if len(got) == count else None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def paper_row(p: Paper, *, vector: np.ndarray, token_count: int, n_chunks: int, added: datetime,
              sentences: Sequence[str] | None = None, sentence_vectors: np.ndarray | None = None) -> dict[str, Any]:
    """``p`` and its vectors as a papers-table row."""
    row: dict[str, Any] = {}
    for name, kind in PAPER_FIELDS.items():
        value = getattr(p, name)
        if kind == "strings":
            value = list(value)
        elif kind == "json":
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        row[name] = value
    row.update({
        "content_hash": p.content_hash(),
        "token_count": int(token_count),
        "n_chunks": int(n_chunks),
        "added": added,
        "updated": now_utc(),
        "fts_text": p.document_text,
        "vector": np.asarray(vector, dtype=np.float32),
        "sentences": list(sentences) if sentences is not None else None,
        **sentence_columns(sentence_vectors),
    })
    return row


def paper_row_keeping(p: Paper, old: dict[str, Any]) -> dict[str, Any]:
    """``p`` as a row that keeps the stored row's vectors (its text did not change).

    ``old`` as the Store's reads return it: sentence texts already unpacked (:func:`unpack_rows`).
    """
    return paper_row(p, vector=np.asarray(old["vector"]), token_count=old.get("token_count") or 0,
                     n_chunks=old.get("n_chunks") or 0, added=old["added"], sentences=old.get("sentences"),
                     sentence_vectors=stored_sentence_vectors(old))


def row_to_paper(row: dict[str, Any]) -> Paper:
    """A papers-table row (any superset of :data:`PAPER_COLUMNS`) back as a Paper."""
    values: dict[str, Any] = {}
    for name, kind in PAPER_FIELDS.items():
        value = row.get(name)
        if kind == "strings":
            value = list(value or [])
        elif kind == "json":
            value = json.loads(value or "{}") if isinstance(value, str) or value is None else dict(value)
        elif kind == "text":
            value = value or ""
        values[name] = value
    return Paper(**values)
