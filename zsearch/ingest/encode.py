"""The encoding policy: which texts of a paper get vectors — head vector, passages, sentences.

Where to change how a long paper is split: here (:func:`embed_papers` decides what is
embedded), with the windows themselves cut by the embedder's tokenizer
(``Embedder.windows``) and the sentences by zsearch.papers.sentences.

* A paper that fits the model's context is embedded whole: one vector, no passages.
* A longer one gets a paper vector — its title+abstract with a short-context model, or its
  text up to the context with a long-context one — and overlapping windows over its whole
  text as passages, so nothing past the context is lost (docs/long-papers.md).
* With a short-context model each paper also gets a vector per title/abstract sentence
  (``Embedder.encode_sentences``: the int8 graph on the ONNX engine); a paper of title and
  abstract only whose sentences each fit the model needs no passages: its sentences cover it.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from zsearch.papers.model import Paper
from zsearch.papers.sentences import covers_whole_text, paper_sentences
from zsearch.store.schema import paper_row


class Encoder(Protocol):
    """What the policy needs of an embedder (zsearch.embedding.embedder.Embedder)."""

    dim: int
    long_context: bool
    sentence_vectors: bool
    late_sentences: bool
    doc_token_limit: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...
    def windows(self, text: str) -> list[str]: ...
    def encode_documents(self, texts: list[str]) -> np.ndarray: ...
    def encode_sentences(self, texts: list[str]) -> np.ndarray: ...
    def encode_late(self, docs: list[str], sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray, int] | None]: ...


def embed_papers(emb: Encoder, papers: list[Paper], old_rows: dict[str, Any],
                 target_of: dict[str, str | None], now: Any) -> tuple[list[dict], list[dict], int]:
    """Paper rows and passage rows for ``papers``, embedded with ``emb``; and the tokens read.

    ``old_rows``/``target_of`` carry the stored rows of updated papers (their ``added`` time).
    """
    if not papers:
        return [], [], 0
    docs = [p.document_text or p.id for p in papers]
    sentences: list[list[str]] = [[] for _ in papers]
    if emb.sentence_vectors:
        sentences = [paper_sentences(p.title, p.abstract, p.full_text) for p in papers]
    paper_vec: dict[int, np.ndarray] = {}
    sentence_vecs: list[list[np.ndarray]] = [[] for _ in papers]
    counts = [0] * len(papers)
    for i, (vec, svecs, n) in late_pooled(emb, papers, docs, sentences).items():
        paper_vec[i], sentence_vecs[i], counts[i] = vec, list(svecs), n
    rest = [i for i in range(len(papers)) if i not in paper_vec]
    for i, n in zip(rest, emb.count_tokens([docs[i] for i in rest])):
        counts[i] = n
    texts: list[str] = []
    owner: list[tuple[int, str, int]] = []  # (paper index, "paper" | "window", n)
    for i in rest:
        p, n = papers[i], counts[i]
        if n <= emb.doc_token_limit:
            texts.append(docs[i])
            owner.append((i, "paper", 0))
            continue
        texts.append(docs[i] if emb.long_context else (p.head_text or docs[i]))
        owner.append((i, "paper", 0))
        if sentences_suffice(emb, p, sentences[i]):
            continue  # its sentence vectors cover every word of it: no passages needed
        for j, w in enumerate(emb.windows(docs[i])):
            texts.append(w)
            owner.append((i, "window", j))
    vecs = emb.encode_documents(texts) if texts else np.zeros((0, emb.dim), np.float32)
    chunk_rows: list[dict[str, Any]] = []
    n_chunks = [0] * len(papers)
    for (i, kind, j), v, t in zip(owner, vecs, texts):
        if kind == "paper":
            paper_vec[i] = v
        else:
            chunk_rows.append(passage_row(papers[i], j, t, v))
            n_chunks[i] += 1
    for i, svecs in zip(rest, encode_sentence_lists(emb, [sentences[i] for i in rest])):
        sentence_vecs[i] = svecs
    rows = []
    for i, p in enumerate(papers):
        old = old_rows.get(target_of.get(p.id) or "")
        made = emb.sentence_vectors  # [] for a paper without text: done, not missing (NULL)
        rows.append(paper_row(p, vector=paper_vec[i], token_count=counts[i], n_chunks=n_chunks[i],
                              added=old["added"] if old else now, sentences=sentences[i] if made else None,
                              sentence_vectors=sentence_vecs[i] if made else None))
    return rows, chunk_rows, int(sum(counts))


def passage_row(p: Paper, j: int, text: str, vector: np.ndarray) -> dict[str, Any]:
    """Passage ``j`` of ``p``: its id names the paper version (``<paper id>#<hash 12>#<j>``), so a
    new version's passages never collide with the old ones they replace."""
    h = p.content_hash()
    return {"id": f"{p.id}#{h[:12]}#{j}", "paper_id": p.id, "idx": j, "text": text, "vector": vector, "paper_hash": h}


def late_pooled(emb: Encoder, papers: list[Paper], docs: list[str],
                sentences: list[list[str]]) -> dict[int, tuple[np.ndarray, np.ndarray, int]]:
    """``{paper index: (vector, sentence vectors, token count)}`` from one pass each
    (``Embedder.encode_late``), for the title-and-abstract papers whose sentences cover them,
    when the embedder pools late; the others are encoded one text at a time by the caller."""
    if not emb.late_sentences:
        return {}
    whole = [i for i, p in enumerate(papers)
             if sentences[i] and covers_whole_text(p.title, p.abstract, p.full_text, sentences[i])]
    got = emb.encode_late([docs[i] for i in whole], [sentences[i] for i in whole])
    return {i: g for i, g in zip(whole, got) if g is not None}


def sentences_suffice(emb: Encoder, p: Paper, sentences: list[str]) -> bool:
    """Whether ``p``'s sentence vectors hold all its text, each sentence whole (no passages needed)."""
    if not sentences or not covers_whole_text(p.title, p.abstract, p.full_text, sentences):
        return False
    return max(emb.count_tokens(sentences)) <= emb.doc_token_limit


def sentence_rows(emb: Encoder, papers: dict[str, Paper]) -> dict[str, tuple[list[str], list[np.ndarray]]]:
    """``{id: (sentences, their vectors)}`` for papers stored without them (the sentence backfill).

    Made as an ingest makes them: late-pooled from the paper's own pass where
    :func:`embed_papers` would, else one by one.
    """
    sents = {pid: paper_sentences(p.title, p.abstract, p.full_text) for pid, p in papers.items()}
    ids = list(papers)
    late = late_pooled(emb, [papers[pid] for pid in ids], [papers[pid].document_text or pid for pid in ids],
                       [sents[pid] for pid in ids])
    out = {ids[i]: (sents[ids[i]], list(got[1])) for i, got in late.items()}
    rest = [pid for pid in papers if pid not in out]
    for pid, svecs in zip(rest, encode_sentence_lists(emb, [sents[pid] for pid in rest])):
        out[pid] = (sents[pid], svecs)
    return {pid: out[pid] for pid in papers}


def encode_sentence_lists(emb: Encoder, lists: list[list[str]]) -> list[list[np.ndarray]]:
    """Each list's sentence vectors, from one sentence pass over all of them (``Embedder.encode_sentences``)."""
    flat = [t for ss in lists for t in ss]
    vecs = emb.encode_sentences(flat) if flat else np.zeros((0, emb.dim), np.float32)
    out, at = [], 0
    for ss in lists:
        out.append(list(vecs[at : at + len(ss)]))
        at += len(ss)
    return out
