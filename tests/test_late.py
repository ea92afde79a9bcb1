"""Late pooling (Embedder.encode_late): a paper's vector and its sentences' vectors from one pass.

Checked against the definition, not against stored output: a sentence's vector is the unit
mean of its tokens' states in the model input that holds it, and the paper's vector is exactly
what encode_documents gives. Real SciFact abstracts (tests/data/embed), the bundled model.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import scifact_papers, scifact_sample, unit
from zsearch.embedding.embedder import Embedder, load_embedder
from zsearch.papers.sentences import paper_sentences


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return load_embedder("minilm", device="cpu", engine="onnx")


def docs_and_sentences(n: int) -> tuple[list[str], list[list[str]]]:
    papers = scifact_papers(n)
    return [p.document_text for p in papers], [paper_sentences(p.title, p.abstract) for p in papers]


def test_each_span_holds_exactly_its_sentence_tokens(minilm) -> None:
    docs, sents = docs_and_sentences(16)
    layouts = minilm.tokens.late_layout(docs, sents)
    assert all(lay is not None for lay in layouts)
    assert any(len(lay.windows) > 1 for lay in layouts)  # some abstracts run past 256 tokens
    head_ids = minilm.token_ids(docs)
    tok = minilm.tokenizer
    cls, sep = head_ids[0][0], head_ids[0][-1]
    for lay, ids, ss, doc in zip(layouts, head_ids, sents, docs):
        assert lay.windows[0] == ids  # the paper's own input, as encode_documents builds it
        assert lay.count == minilm.count_tokens([doc])[0]
        assert all(len(w) <= minilm.max_tokens and w[0] == cls and w[-1] == sep for w in lay.windows)
        assert len(lay.spans) == len(ss)
        for (w, a, b), sentence in zip(lay.spans, ss):
            assert lay.windows[w][a:b] == tok(sentence, add_special_tokens=False)["input_ids"]
        # in reading order, no sentence read twice
        assert [w for w, _, _ in lay.spans] == sorted(w for w, _, _ in lay.spans)


def test_late_vectors_are_the_mean_of_their_token_states(minilm) -> None:
    docs, sents = docs_and_sentences(10)
    budget, minilm.token_budget = minilm.token_budget, 768  # several padded batches of mixed lengths
    try:
        got = minilm.encode_late(docs, sents)
    finally:
        minilm.token_budget = budget
    ref = minilm.encode_documents(docs)
    layouts = minilm.tokens.late_layout(docs, sents)
    for (vec, svecs, count), want, lay, ss in zip(got, ref, layouts, sents):
        assert float(vec @ want) >= 0.99999 and count == lay.count
        assert svecs.shape == (len(ss), minilm.dim) and svecs.dtype == np.float32
        # each window on its own (a batch of one, no padding): the definition, computed again
        states = [minilm.runner.forward_states([w])[1][0] for w in lay.windows]
        expect = unit(np.stack([states[w][a:b].mean(axis=0) for w, a, b in lay.spans]))
        np.testing.assert_allclose(svecs, expect, atol=2e-5)


def test_the_same_sentence_reads_differently_in_another_paper(minilm) -> None:
    """Context counts: that is what late pooling adds (and why it is measured, not assumed)."""
    s = "Vitamin D levels were measured in all participants."
    (_, a, _), (_, b, _) = minilm.encode_late(
        [f"Bone density in children\n\n{s}", f"Tumour growth in mice\n\n{s}"],
        [["Bone density in children", s], ["Tumour growth in mice", s]])
    alone = minilm.encode_documents([s])[0]
    assert float(a[1] @ b[1]) < 0.999
    assert float(a[1] @ alone) > 0.7 and float(b[1] @ alone) > 0.7  # still that sentence


def test_documents_without_a_layout_get_none(minilm) -> None:
    doc = scifact_sample(1)[0]
    got = minilm.encode_late([doc, "Title\n\nOne sentence here.", doc],
                             [["not the text of this document"], ["Title", "One sentence here."], []])
    assert got[0] is None and got[2] is None
    assert got[1] is not None and got[1][1].shape == (2, minilm.dim)


def test_a_late_ingest_stores_one_vector_per_sentence_and_a_backfill_makes_the_same(tmp_path, monkeypatch) -> None:
    from zsearch.library import Library

    monkeypatch.setenv("ZSEARCH_SENTENCE_POOLING", "late")
    papers = scifact_papers(12)
    lib = Library.open(tmp_path / "db")
    assert lib.embedder.late_sentences
    assert lib.ingest_papers(papers).to_dict()["added"] == 12
    stored = lib.store.vectors_and_sentences([p.id for p in papers])
    docs, sents = docs_and_sentences(12)
    want = lib.embedder.encode_late(docs, sents)
    for p, ss, (_, svecs, _) in zip(papers, sents, want):
        _, vecs, texts = stored[p.id]
        assert list(texts) == ss
        assert float(np.sum(unit(vecs) * svecs, axis=1).min()) >= 0.999  # int8 on disk (store.schema)
    hits = lib.search("vitamin D", k=5)
    assert len(hits) == 5

    from zsearch.ingest.encode import sentence_rows

    again = sentence_rows(lib.embedder, {p.id: p for p in papers[:3]})
    for p, (_, svecs, _) in zip(papers[:3], want[:3]):
        np.testing.assert_allclose(np.stack(again[p.id][1]), svecs, atol=1e-5)


def test_an_unknown_pooling_is_a_usage_error(minilm, monkeypatch) -> None:
    from zsearch.errors import UsageError

    monkeypatch.setenv("ZSEARCH_SENTENCE_POOLING", "sideways")
    with pytest.raises(UsageError, match="late or separate"):
        _ = minilm.late_sentences


def test_torch_and_onnx_late_vectors_agree(minilm) -> None:
    import torch

    torch.set_num_threads(1)
    ref = load_embedder("minilm", device="cpu", engine="torch")
    docs, sents = docs_and_sentences(4)
    for a, b in zip(minilm.encode_late(docs, sents), ref.encode_late(docs, sents)):
        assert float(a[0] @ b[0]) >= 0.9999
        assert float(np.sum(a[1] * b[1], axis=1).min()) >= 0.9999
